"""The permission matrix, endpoint by endpoint: anonymous, non-member, viewer, owner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import BTC_ADDR, BTC_TX, World
from transaction_tracking.models import AuditEntry

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
OTHER_BTC_TX = "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098"  # block 1


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[World], str]
    body: Callable[[World], dict[str, Any]] | None = None
    owner_status: int = 200
    case_scoped: bool = True  # non-members get 404

    @property
    def writes(self) -> bool:
        return self.method in {"post", "put", "patch", "delete"}


def case_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"{V1}/cases/{w.case.pk}/{suffix}"


def run_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"{V1}/cases/{w.case.pk}/runs/{w.run.pk}/{suffix}"


ENDPOINTS = [
    # cases
    Endpoint("case-list", "get", lambda w: f"{V1}/cases/", case_scoped=False),
    Endpoint("case-detail", "get", case_url()),
    Endpoint("case-patch", "patch", case_url(), lambda w: {"status": "active"}),
    Endpoint("case-put", "put", case_url(), lambda w: {"title": "Renamed", "chains": ["btc"]}),
    Endpoint(
        "case-delete",
        "delete",
        lambda w: f"{V1}/cases/{w.spare_case.pk}/",
        owner_status=204,
    ),
    Endpoint("case-export", "get", case_url("export/")),
    # members (sharing)
    Endpoint("member-list", "get", case_url("members/")),
    Endpoint(
        "member-detail",
        "get",
        lambda w: f"{V1}/cases/{w.case.pk}/members/{w.viewer_membership.pk}/",
    ),
    Endpoint(
        "member-add",
        "post",
        case_url("members/"),
        lambda w: {"username": w.admin.username, "role": "viewer"},
        owner_status=201,
    ),
    Endpoint(
        "member-patch",
        "patch",
        lambda w: f"{V1}/cases/{w.case.pk}/members/{w.viewer_membership.pk}/",
        lambda w: {"role": "investigator"},
    ),
    Endpoint(
        "member-delete",
        "delete",
        lambda w: f"{V1}/cases/{w.case.pk}/members/{w.viewer_membership.pk}/",
        owner_status=204,
    ),
    # seeds
    Endpoint("seed-list", "get", case_url("seeds/")),
    Endpoint("seed-detail", "get", lambda w: f"{V1}/cases/{w.case.pk}/seeds/{w.seed.pk}/"),
    Endpoint(
        "seed-add",
        "post",
        case_url("seeds/"),
        lambda w: {"chain": "btc", "kind": "address", "value": BTC_ADDR},
        owner_status=201,
    ),
    Endpoint(
        "seed-patch",
        "patch",
        lambda w: f"{V1}/cases/{w.case.pk}/seeds/{w.seed.pk}/",
        lambda w: {"note": "the theft"},
    ),
    Endpoint(
        "seed-delete",
        "delete",
        lambda w: f"{V1}/cases/{w.case.pk}/seeds/{w.seed.pk}/",
        owner_status=204,
    ),
    # stolen amounts
    Endpoint("stolen-list", "get", case_url("stolen-amounts/")),
    Endpoint(
        "stolen-add",
        "post",
        case_url("stolen-amounts/"),
        lambda w: {"chain": "eth", "asset": "native", "amount": str(10**30), "decimals": 18},
        owner_status=201,
    ),
    Endpoint(
        "stolen-delete",
        "delete",
        lambda w: f"{V1}/cases/{w.case.pk}/stolen-amounts/{w.stolen.pk}/",
        owner_status=204,
    ),
    # annotations
    Endpoint("annotation-list", "get", case_url("annotations/")),
    Endpoint(
        "annotation-detail",
        "get",
        lambda w: f"{V1}/cases/{w.case.pk}/annotations/{w.annotation.pk}/",
    ),
    Endpoint(
        "annotation-add",
        "post",
        case_url("annotations/"),
        lambda w: {
            "chain": "btc",
            "target_kind": "tx",
            "target": OTHER_BTC_TX,
            "text": "peel chain starts",
            "tags": ["peel", "hop-1"],
        },
        owner_status=201,
    ),
    Endpoint(
        "annotation-patch",
        "patch",
        lambda w: f"{V1}/cases/{w.case.pk}/annotations/{w.annotation.pk}/",
        lambda w: {"text": "confirmed theft"},
    ),
    Endpoint(
        "annotation-delete",
        "delete",
        lambda w: f"{V1}/cases/{w.case.pk}/annotations/{w.annotation.pk}/",
        owner_status=204,
    ),
    # watchlist
    Endpoint("watch-list", "get", case_url("watchlist/")),
    Endpoint(
        "watch-add",
        "post",
        case_url("watchlist/"),
        lambda w: {"chain": "eth", "address": "0x" + "AB" * 20, "reason": "exit"},
        owner_status=201,
    ),
    Endpoint(
        "watch-patch",
        "patch",
        lambda w: f"{V1}/cases/{w.case.pk}/watchlist/{w.watch.pk}/",
        lambda w: {"active": False},
    ),
    Endpoint(
        "watch-delete",
        "delete",
        lambda w: f"{V1}/cases/{w.case.pk}/watchlist/{w.watch.pk}/",
        owner_status=204,
    ),
    # runs
    Endpoint("run-list", "get", case_url("runs/")),
    Endpoint("run-detail", "get", run_url()),
    Endpoint(
        "run-start",
        "post",
        case_url("runs/"),
        lambda w: {"chain": "btc", "model": "tiho", "sources": [f"{BTC_TX}:0"]},
        owner_status=202,
    ),
    Endpoint("run-compare", "get", lambda w: run_url("compare/")(w) + f"?other={w.run2.pk}"),
    Endpoint("flow-list", "get", run_url("flows/")),
    Endpoint("flow-detail", "get", lambda w: run_url("flows/")(w) + f"{w.run.flows.first().pk}/"),
    Endpoint("endpoint-list", "get", run_url("endpoints/")),
    Endpoint(
        "endpoint-detail",
        "get",
        lambda w: run_url("endpoints/")(w) + f"{w.run.endpoints.first().pk}/",
    ),
    # alerts (a list across cases: a non-member sees an empty list, not a 404)
    Endpoint("alert-detail", "get", lambda w: f"{V1}/alerts/{w.alert.pk}/"),
    Endpoint(
        "alert-ack",
        "post",
        lambda w: f"{V1}/alerts/{w.alert.pk}/acknowledge/",
        lambda w: {},
    ),
]

BY_NAME = {e.name: e for e in ENDPOINTS}


def call(w: World, user: Any, e: Endpoint) -> Any:
    client = w.client(user)
    body = e.body(w) if e.body else None
    return getattr(client, e.method)(e.url(w), body, format="json")


@pytest.mark.parametrize("e", ENDPOINTS, ids=lambda e: e.name)
def test_anonymous_is_refused(world: World, e: Endpoint) -> None:
    assert call(world, None, e).status_code in (401, 403)


@pytest.mark.parametrize("e", [e for e in ENDPOINTS if e.case_scoped], ids=lambda e: e.name)
def test_non_member_gets_404_not_403(world: World, e: Endpoint) -> None:
    r = call(world, world.outsider, e)
    assert r.status_code == 404, r.content


@pytest.mark.parametrize("e", [e for e in ENDPOINTS if e.writes], ids=lambda e: e.name)
def test_viewer_cannot_write(world: World, e: Endpoint) -> None:
    before = AuditEntry.objects.count()
    r = call(world, world.viewer, e)
    assert r.status_code == 403, r.content
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("e", [e for e in ENDPOINTS if not e.writes], ids=lambda e: e.name)
def test_viewer_can_read(world: World, e: Endpoint) -> None:
    assert call(world, world.viewer, e).status_code == 200


@pytest.mark.parametrize("e", ENDPOINTS, ids=lambda e: e.name)
def test_owner_succeeds_and_writes_are_audited(world: World, e: Endpoint) -> None:
    before = AuditEntry.objects.count()
    r = call(world, world.owner, e)
    assert r.status_code == e.owner_status, r.content
    added = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    if e.writes or e.name == "case-export":
        assert added, "a change through the API must leave an audit entry"
        assert added[0].actor_username == world.owner.username
        assert added[0].ip == "127.0.0.1"
    else:
        assert added == []


@pytest.mark.parametrize(
    "name", ["seed-add", "annotation-add", "watch-add", "run-start", "alert-ack"]
)
def test_investigator_member_can_contribute(world: World, name: str) -> None:
    e = BY_NAME[name]
    assert call(world, world.investigator, e).status_code == e.owner_status


@pytest.mark.parametrize("name", ["case-patch", "member-add", "member-delete", "case-delete"])
def test_only_the_owner_manages_the_case(world: World, name: str) -> None:
    e = BY_NAME[name]
    if name == "case-delete":  # the investigator is not a member of the spare case at all
        assert call(world, world.investigator, e).status_code == 404
    else:
        assert call(world, world.investigator, e).status_code == 403


def test_investigator_cannot_edit_someone_elses_annotation(world: World) -> None:
    r = call(world, world.investigator, BY_NAME["annotation-patch"])
    assert r.status_code == 403


@pytest.mark.parametrize("e", ENDPOINTS, ids=lambda e: e.name)
def test_admin_sees_and_manages_every_case(world: World, e: Endpoint) -> None:
    assert call(world, world.admin, e).status_code == e.owner_status


def test_case_list_shows_only_visible_cases(world: World) -> None:
    def titles(user: Any) -> set[str]:
        r = world.client(user).get(f"{V1}/cases/")
        assert r.status_code == 200
        return {c["title"] for c in r.json()["results"]}

    assert titles(world.owner) == {"Hot wallet drained", "Spare"}
    assert titles(world.viewer) == {"Hot wallet drained", "Spare"}
    assert titles(world.investigator) == {"Hot wallet drained"}
    assert titles(world.outsider) == set()
    assert titles(world.admin) == {"Hot wallet drained", "Spare"}


def test_my_role_is_reported_per_case(world: World) -> None:
    r = world.client(world.viewer).get(f"{V1}/cases/{world.case.pk}/")
    assert r.json()["my_role"] == "viewer"
    r = world.client(world.owner).get(f"{V1}/cases/{world.case.pk}/")
    assert r.json()["my_role"] == "owner"


def test_case_creation_needs_the_investigator_role(world: World) -> None:
    body = {"title": "New incident", "chains": ["eth", "btc", "eth"]}
    assert world.client(world.viewer).post(f"{V1}/cases/", body, format="json").status_code == 403
    r = world.client(world.outsider).post(f"{V1}/cases/", body, format="json")
    assert r.status_code == 201
    assert r.json()["owner"] == "oscar"
    assert r.json()["chains"] == ["btc", "eth"]
    assert r.json()["my_role"] == "owner"
    # the seed's flag still makes an investigator
    world.viewer.is_investigator = True
    world.viewer.save()
    assert world.client(world.viewer).post(f"{V1}/cases/", body, format="json").status_code == 201


def test_alert_list_only_has_visible_cases(world: World) -> None:
    assert world.client(world.outsider).get(f"{V1}/alerts/").json()["count"] == 0
    assert world.client(world.viewer).get(f"{V1}/alerts/").json()["count"] == 1


def test_chain_data_views_need_authentication(world: World) -> None:
    for url in (
        f"{V1}/addresses/btc/{BTC_ADDR}/",
        f"{V1}/transactions/btc/{BTC_TX}/",
        f"{V1}/users/me/",
        f"{V1}/users/me/image/",
    ):
        assert world.client(None).get(url).status_code in (401, 403)
