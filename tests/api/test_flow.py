"""The issue's "done when": create, seed, trace, annotate, share, export — through the API."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.api.conftest import BTC_ADDR, BTC_TX, make_user
from transaction_tracking.audit import canonical_json
from transaction_tracking.models import AuditEntry

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


def test_a_case_from_creation_to_export(runner_calls: list) -> None:
    make_user("inv", role="investigator")
    make_user("viewer1", role="analyst")
    inv = APIClient()
    token = inv.post(
        f"{V1}/auth/token/", {"username": "inv", "password": "pw-inv-Long1"}, format="json"
    ).json()["token"]
    inv.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    case = inv.post(
        f"{V1}/cases/",
        {
            "title": "Exchange hot wallet drained, 2024-11-16",
            "incident_time": "2024-11-16T03:14:00Z",
            "chains": ["btc"],
        },
        format="json",
    ).json()
    cid = case["id"]
    assert (
        inv.post(
            f"{V1}/cases/{cid}/stolen-amounts/",
            {"chain": "btc", "amount": "5000000000", "decimals": 8},
            format="json",
        ).status_code
        == 201
    )
    assert (
        inv.post(
            f"{V1}/cases/{cid}/seeds/",
            {"chain": "btc", "kind": "output", "value": f"{BTC_TX}:0", "note": "theft"},
            format="json",
        ).status_code
        == 201
    )
    run = inv.post(
        f"{V1}/cases/{cid}/runs/",
        {"chain": "btc", "model": "fifo", "sources": [f"{BTC_TX}:0"], "max_hops": 5},
        format="json",
    )
    assert run.status_code == 202
    run_id = run.json()["id"]
    polled = inv.get(f"{V1}/cases/{cid}/runs/{run_id}/").json()
    assert polled["status"] == "done"
    ends = inv.get(f"{V1}/cases/{cid}/runs/{run_id}/endpoints/?ordering=-amount").json()
    assert [(e["entity"], e["amount"]) for e in ends["results"]] == [
        ("Binance", "600"),
        (None, "400"),
    ]
    assert (
        inv.post(
            f"{V1}/cases/{cid}/annotations/",
            {
                "chain": "btc",
                "target_kind": "address",
                "target": BTC_ADDR,
                "text": "victim",
                "tags": ["victim"],
            },
            format="json",
        ).status_code
        == 201
    )
    assert (
        inv.post(
            f"{V1}/cases/{cid}/members/", {"username": "viewer1", "role": "viewer"}, format="json"
        ).status_code
        == 201
    )

    viewer = APIClient()
    viewer.force_authenticate(make_user("unused"))  # not a member: sees nothing
    assert viewer.get(f"{V1}/cases/{cid}/").status_code == 404
    from user_management.models import CustomUser

    viewer.force_authenticate(CustomUser.objects.get(username="viewer1"))
    assert viewer.get(f"{V1}/cases/{cid}/").json()["my_role"] == "viewer"
    assert (
        viewer.post(
            f"{V1}/cases/{cid}/seeds/",
            {"chain": "btc", "kind": "address", "value": BTC_ADDR},
            format="json",
        ).status_code
        == 403
    )

    export = viewer.get(f"{V1}/cases/{cid}/export/")
    assert export.status_code == 200
    doc = export.json()
    assert doc["case"]["title"].startswith("Exchange hot wallet")
    assert doc["case"]["stolen_amounts"][0]["amount"] == "5000000000"
    assert [s["value"] for s in doc["seeds"]] == [f"{BTC_TX}:0"]
    assert doc["runs"][0]["result"]["source_amount"] == "1000"
    assert doc["annotations"][0]["tags"] == ["victim"]
    assert {m["username"]: m["role"] for m in doc["members"]} == {
        "inv": "owner",
        "viewer1": "viewer",
    }
    digest = hashlib.sha256(canonical_json(json.loads(export.content)).encode()).hexdigest()
    assert export["X-Content-SHA256"] == digest
    exported = AuditEntry.objects.get(action="export")
    assert exported.actor_username == "viewer1" and exported.changes["sha256"] == digest

    actions = list(AuditEntry.objects.values_list("action", "object_type"))
    assert actions == [
        ("auth.token", "User"),
        ("create", "Case"),
        ("create", "StolenAmount"),
        ("create", "Seed"),
        ("run.create", "TraceRun"),
        ("run.finish", "TraceRun"),
        ("create", "Annotation"),
        ("create", "CaseMember"),
        ("export", "Case"),
    ]
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "9 entries verified" in out.getvalue()
