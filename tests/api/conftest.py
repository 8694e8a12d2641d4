"""Users, a populated case, and a fake tracing engine for the API tests."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from fundtrace.core.errors import FundtraceError
from transaction_tracking.models import (
    Alert,
    Annotation,
    Case,
    CaseMember,
    Seed,
    StolenAmount,
    TraceRun,
    WatchlistEntry,
)
from user_management.models import CustomUser

BTC_TX = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"  # genesis coinbase
BTC_ADDR = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"  # genesis output
ETH_ADDR = "0x" + "ab" * 20
ETH_TX = "0x" + "cd" * 32


def fake_result(**kw: Any) -> dict[str, Any]:
    """A valid result document (issue 6's shape) whose figures depend on the model.

    Source amount 1000: fifo sends 600 to the exchange and keeps 400 at a holding address;
    haircut splits 550/450, so the two runs differ by 50 at both endpoints.
    """
    if kw["sources"] and kw["sources"][0].startswith("fail"):
        raise FundtraceError("unknown source")
    to_exchange = {"fifo": 600, "haircut": 550}.get(kw["model"], 500)
    return {
        "chain": kw["chain"],
        "asset": kw["asset"] or "native",
        "decimals": 8,
        "model": kw["model"],
        "direction": kw["direction"],
        "sources": kw["sources"],
        "source_amount": "1000",
        "endpoints": [
            {
                "address": "bc1exchange",
                "entity": "Binance",
                "category": "exchange",
                "amount": str(to_exchange),
                "kind": "labeled",
            },
            {
                "address": "1holding",
                "entity": None,
                "category": None,
                "amount": str(1000 - to_exchange),
                "kind": "holding",
            },
        ],
        "summary": {"by_entity": {"Binance": str(to_exchange)}, "holding": "0", "fee": "0"},
        "flows": [
            {"tx": BTC_TX, "index": 0, "from": BTC_ADDR, "to": "1mid", "amount": "1000", "hop": 1},
            {
                "tx": "ee" * 32,
                "index": 0,
                "from": "1mid",
                "to": "bc1exchange",
                "amount": str(to_exchange),
                "hop": 2,
            },
            {
                "tx": "ee" * 32,
                "index": 1,
                "from": "1mid",
                "to": "1holding",
                "amount": str(1000 - to_exchange),
                "hop": 2,
            },
        ],
        "warnings": [],
    }


@pytest.fixture
def runner_calls(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[dict[str, Any]]:
    """Install the fake engine as ``data_processing.trace_runner`` and run traces inline."""
    calls: list[dict[str, Any]] = []

    def run_trace(**kw: Any) -> dict[str, Any]:
        calls.append(kw)
        return fake_result(**kw)

    module = types.ModuleType("data_processing.trace_runner")
    module.run_trace = run_trace  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "data_processing.trace_runner", module)
    settings.FUNDTRACE_TRACE_SYNC = True
    return calls


@pytest.fixture(autouse=True)
def _clear_throttle_cache() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _test_settings(tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # PBKDF2 at full strength costs ~0.3 s per user; these tests are about permissions.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    owner: CustomUser
    investigator: CustomUser  # member with role investigator
    viewer: CustomUser  # member with role viewer
    outsider: CustomUser  # an investigator who is not a member
    admin: CustomUser
    case: Case
    spare_case: Case  # no runs: deletable
    seed: Seed
    stolen: StolenAmount
    annotation: Annotation
    watch: WatchlistEntry
    alert: Alert
    run: TraceRun
    run2: TraceRun
    viewer_membership: CaseMember

    def client(self, user: CustomUser | None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c


def make_user(username: str, **kw: Any) -> CustomUser:
    return CustomUser.objects.create_user(username, password="pw-" + username + "-Long1", **kw)


@pytest.fixture
def world(db: Any, runner_calls: list) -> World:
    from transaction_tracking.runs import execute_run

    owner = make_user("olga", role="investigator")
    investigator = make_user("ivan", role="investigator")
    viewer = make_user("vera", role="analyst")
    outsider = make_user("oscar", role="investigator")
    admin = make_user("ada", role="admin")
    case = Case.objects.create(title="Hot wallet drained", owner=owner, chains=["btc"])
    CaseMember.objects.create(case=case, user=owner, role="owner")
    CaseMember.objects.create(case=case, user=investigator, role="investigator")
    vm = CaseMember.objects.create(case=case, user=viewer, role="viewer")
    spare = Case.objects.create(title="Spare", owner=owner)
    CaseMember.objects.create(case=spare, user=owner, role="owner")
    CaseMember.objects.create(case=spare, user=viewer, role="viewer")
    seed = Seed.objects.create(case=case, chain="btc", kind="tx", value=BTC_TX)
    stolen = StolenAmount.objects.create(case=case, chain="btc", amount=5_000_000_000, decimals=8)
    annotation = Annotation.objects.create(
        case=case, chain="btc", target_kind="address", target=BTC_ADDR, text="theft", author=owner
    )
    watch = WatchlistEntry.objects.create(
        case=case, chain="btc", address=BTC_ADDR, created_by=owner
    )
    alert = Alert.objects.create(watchlist_entry=watch, chain="btc", tx_hash=BTC_TX, amount=10)
    runs = []
    for model in ("fifo", "haircut"):
        run = TraceRun.objects.create(
            case=case,
            chain="btc",
            model=model,
            parameters={"sources": [f"{BTC_TX}:0"], "through": []},
            created_by=owner,
        )
        runs.append(execute_run(run.pk))
    return World(
        owner=owner,
        investigator=investigator,
        viewer=viewer,
        outsider=outsider,
        admin=admin,
        case=case,
        spare_case=spare,
        seed=seed,
        stolen=stolen,
        annotation=annotation,
        watch=watch,
        alert=alert,
        run=runs[0],
        run2=runs[1],
        viewer_membership=vm,
    )
