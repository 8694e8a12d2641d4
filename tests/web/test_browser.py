"""One real browser: sign in, open a case, and the Sankey is drawn (Plotly served locally).

Needs Debian's chromium at /usr/bin/chromium and the ``playwright`` Python package (never
``playwright install``: the browser comes from apt). Uses pytest-django's live server on
127.0.0.1 only.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_pages import add_run, result_doc
from transaction_tracking.models import Case, CaseMember
from user_management.models import CustomUser

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (apt chromium)"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright Python package is not installed",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_sign_in_open_case_sankey_renders(live_server: Any, monkeypatch: Any) -> None:
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are ours.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    user = CustomUser.objects.create_user("alice", password="a-long-pass-42", is_investigator=True)
    case = Case.objects.create(title="Browser case", owner=user, chains=["btc"])
    CaseMember.objects.create(case=case, user=user, role="owner")
    add_run(case, user, result_doc())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("http*://**", _loopback_only)
            page.goto(f"{live_server.url}/cases/{case.pk}/")
            assert "/accounts/login/" in page.url
            page.fill("#id_username", "alice")
            page.fill("#id_password", "a-long-pass-42")
            page.click("button[type=submit]")
            page.wait_for_selector("#sankey svg .sankey-node", timeout=20_000)
            assert page.locator("h1").inner_text() == "Browser case"
            labels = page.locator("#sankey .sankey-node text").evaluate_all(
                "els => els.map(e => e.textContent)"
            )
            assert "Alpha Exchange" in labels and "still held" in labels
        finally:
            browser.close()


def _loopback_only(route: Any) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost")):
        route.continue_()
    else:
        route.abort()
