"""The OpenAPI schema generates without warnings; schemathesis finds no 5xx."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import World


@pytest.mark.django_db
def test_schema_generates_cleanly_and_documents_the_api(tmp_path: Any) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{id}/export/",
        "/api/v1/cases/{case_pk}/runs/",
        "/api/v1/cases/{case_pk}/runs/{run_pk}/flows/",
        "/api/v1/cases/{case_pk}/runs/{run_pk}/endpoints/",
        "/api/v1/cases/{case_pk}/runs/{id}/compare/",
        "/api/v1/alerts/{id}/acknowledge/",
        "/api/v1/users/me/",
        "/api/v1/addresses/{chain}/{address}/",
        "/api/v1/transactions/{chain}/{tx_hash}/",
        "/api/v1/auth/token/",
    ):
        assert path in paths, path
    flows = paths["/api/v1/cases/{case_pk}/runs/{run_pk}/flows/"]["get"]
    names = {p["name"] for p in flows["parameters"]}
    assert {"hop", "min_amount", "ordering", "limit", "offset"} <= names
    assert "202" in paths["/api/v1/cases/{case_pk}/runs/"]["post"]["responses"]
    amount = schema["components"]["schemas"]["Flow"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"] == "^[0-9]{1,78}$"


def real_ids(w: World) -> dict[str, int]:
    """Path segment before ``{id}`` -> an existing object, so requests get past the 404."""
    return {
        "cases": w.case.pk,
        "members": w.viewer_membership.pk,
        "seeds": w.seed.pk,
        "stolen-amounts": w.stolen.pk,
        "annotations": w.annotation.pk,
        "watchlist": w.watch.pk,
        "runs": w.run.pk,
        "flows": w.run.flows.first().pk,
        "endpoints": w.run.endpoints.first().pk,
        "alerts": w.alert.pk,
    }


@pytest.fixture
def keep_db_connection() -> Iterator[None]:
    """Calling the WSGI app directly would close the test's connection after each request
    (Django's test client avoids that the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.django_db
def test_schemathesis_finds_no_server_errors(world: World, keep_db_connection: None) -> None:
    """Bounded examples per operation, as the owner, with ids of real objects; no 5xx."""
    import schemathesis
    from rest_framework.authtoken.models import Token

    from config.wsgi import application

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    token = Token.objects.create(user=world.owner).key
    headers = {"Authorization": f"Token {token}"}
    ids = real_ids(world)
    failures: list[str] = []
    statuses: Counter[int] = Counter()

    def exercise(operation: Any) -> None:
        segments = operation.path.strip("/").split("/")

        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            params = case.path_parameters or {}
            if "case_pk" in params:
                params["case_pk"] = world.case.pk
            if "run_pk" in params:
                params["run_pk"] = world.run.pk
            if "id" in params:
                params["id"] = ids[segments[segments.index("{id}") - 1]]
            if "chain" in params:
                params["chain"] = ("btc", "eth", "sol")[len(str(params.get("address", ""))) % 3]
            with transaction.atomic():  # every example starts from the same world
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            statuses[response.status_code // 100] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        check()

    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/token/":
            continue  # throttled by design; covered in test_users
        exercise(operation)
        checked += 1
    assert checked >= 30
    assert failures == []
    assert statuses[2] > 100 and statuses[4] > 100  # both accepted and refused input was sent


def test_api_docs_load_nothing_from_the_internet(world: World) -> None:
    """The demo runs offline: Swagger UI must come from the installed sidecar, not a CDN."""
    import re

    from django.test import Client

    c = Client()
    c.force_login(world.viewer)
    page = c.get("/api/docs/").content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", page)
    assert any("drf_spectacular_sidecar" in u for u in urls), urls
    assert not [u for u in urls if u.startswith(("http://", "https://", "//"))], urls
