"""The Django admin is usable for every model; changes there are audited too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World
from transaction_tracking.audit import verify_chain
from transaction_tracking.models import AuditEntry

pytestmark = pytest.mark.django_db

EDITABLE = ["case", "casemember", "seed", "stolenamount", "annotation", "watchlistentry", "alert"]
READ_ONLY = ["tracerun", "transactionchain", "traceendpoint", "auditentry"]


@pytest.fixture
def admin_client(world: World, client: Any) -> Any:
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    return client


@pytest.mark.parametrize("model", EDITABLE + READ_ONLY)
def test_changelists_render(admin_client: Any, model: str) -> None:
    assert admin_client.get(f"/admin/transaction_tracking/{model}/").status_code == 200


@pytest.mark.parametrize("model", EDITABLE)
def test_add_forms_render(admin_client: Any, model: str) -> None:
    assert admin_client.get(f"/admin/transaction_tracking/{model}/add/").status_code == 200


@pytest.mark.parametrize("model", READ_ONLY)
def test_evidence_cannot_be_added_in_the_admin(admin_client: Any, model: str) -> None:
    assert admin_client.get(f"/admin/transaction_tracking/{model}/add/").status_code == 403


def test_user_admin_shows_role(admin_client: Any, world: World) -> None:
    r = admin_client.get(f"/admin/user_management/customuser/{world.viewer.pk}/change/")
    assert r.status_code == 200 and b'name="role"' in r.content


def test_admin_edits_are_audited(admin_client: Any, world: World) -> None:
    url = f"/admin/transaction_tracking/seed/{world.seed.pk}/change/"
    r = admin_client.post(
        url,
        {
            "case": world.case.pk,
            "chain": "btc",
            "kind": "tx",
            "value": world.seed.value,
            "note": "edited in admin",
        },
    )
    assert r.status_code == 302, r.content[:2000]
    entry = AuditEntry.objects.last()
    assert entry.action == "update" and entry.changes["via"] == "admin"
    assert entry.changes["changed"] == {"note": "edited in admin"}
    assert entry.actor_username == world.admin.username
    assert verify_chain().ok
