"""Trace runs: parameters reach the engine, results are stored as rows, runs never change."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from data_collection.models import Block
from tests.api.conftest import BTC_ADDR, BTC_TX, World, make_user
from transaction_tracking import runs
from transaction_tracking.models import (
    AuditEntry,
    ImmutableError,
    TraceEndpoint,
    TraceRun,
    TransactionChain,
)

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


def start(w: World, body: dict[str, Any]) -> Any:
    return w.client(w.owner).post(f"{V1}/cases/{w.case.pk}/runs/", body, format="json")


def test_parameters_reach_the_engine_normalized(world: World, runner_calls: list) -> None:
    Block.objects.create(chain="btc", number=840_000, hash="h1")
    Block.objects.create(chain="btc", number=840_001, hash="h2")
    Block.objects.create(chain="eth", number=19_000_000, hash="h3")
    r = start(
        world,
        {
            "chain": "btc",
            "model": "lifo",
            "direction": "backward",
            "sources": [BTC_TX.upper() + ":0", BTC_ADDR, BTC_TX + ":0"],
            "max_hops": 7,
            "min_amount": "546",
            "through": ["Bridge"],
        },
    )
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "done"
    assert runner_calls[-1] == {
        "chain": "btc",
        "sources": [BTC_TX + ":0"],
        "address_sources": [BTC_ADDR],
        "model": "lifo",
        "direction": "backward",
        "max_hops": 7,
        "min_amount": 546,
        "asset": None,
        "through": ["bridge"],
        "case_ids": [world.case.pk],
    }
    assert body["data_snapshot"] == {"btc": 840_001, "eth": 19_000_000}
    assert body["created_by"] == "olga"
    assert body["duration_ms"] is not None and body["finished_at"] is not None
    assert body["result"]["source_amount"] == "1000"


def test_flows_and_endpoints_are_stored_exactly(world: World) -> None:
    flows = list(TransactionChain.objects.filter(run=world.run).order_by("hop", "index"))
    assert [(f.hop, f.tx_hash, f.index, f.to_address, f.amount) for f in flows] == [
        (1, BTC_TX, 0, "1mid", 1000),
        (2, "ee" * 32, 0, "bc1exchange", 600),
        (2, "ee" * 32, 1, "1holding", 400),
    ]
    ends = {e.address: (e.kind, e.entity, e.amount) for e in world.run.endpoints.all()}
    assert ends == {"bc1exchange": ("labeled", "Binance", 600), "1holding": ("holding", None, 400)}
    # conservation in the stored rows: endpoints sum to the source amount
    assert sum(e.amount for e in world.run.endpoints.all()) == 1000


def test_flow_and_endpoint_listing_filters_and_orders(world: World) -> None:
    c = world.client(world.viewer)
    base = f"{V1}/cases/{world.case.pk}/runs/{world.run.pk}"
    hop2 = c.get(f"{base}/flows/?hop=2&ordering=-amount").json()
    assert hop2["count"] == 2
    assert [f["amount"] for f in hop2["results"]] == ["600", "400"]
    big = c.get(f"{base}/flows/?min_amount=500").json()
    assert sorted(f["amount"] for f in big["results"]) == ["1000", "600"]
    page = c.get(f"{base}/flows/?limit=1&offset=1").json()
    assert page["count"] == 3 and len(page["results"]) == 1
    labeled = c.get(f"{base}/endpoints/?kind=labeled").json()
    assert [(e["entity"], e["amount"]) for e in labeled["results"]] == [("Binance", "600")]


def test_a_finished_run_is_immutable(world: World) -> None:
    run = TraceRun.objects.get(pk=world.run.pk)
    run.model = "poison"
    with pytest.raises(ImmutableError):
        run.save()
    with pytest.raises(ImmutableError):
        run.delete()
    assert TraceRun.objects.get(pk=run.pk).model == "fifo"
    url = f"{V1}/cases/{world.case.pk}/runs/{run.pk}/"
    for method in ("put", "patch", "delete"):
        r = getattr(world.client(world.owner), method)(url, {"model": "poison"}, format="json")
        assert r.status_code == 405


def test_rerunning_makes_a_new_run(world: World) -> None:
    body = {"chain": "btc", "model": "fifo", "sources": [BTC_TX + ":0"]}
    first = start(world, body).json()["id"]
    second = start(world, body).json()["id"]
    assert first != second
    assert TraceRun.objects.filter(case=world.case).count() == 4


def test_compare_runs_per_endpoint(world: World) -> None:
    rows = runs.compare_runs(world.run, world.run2)  # fifo 600/400 vs haircut 550/450
    assert [(r["address"], r["amount_a"], r["amount_b"], r["delta"]) for r in rows] == [
        ("1holding", 400, 450, 50),
        ("bc1exchange", 600, 550, -50),
    ]
    r = world.client(world.viewer).get(
        f"{V1}/cases/{world.case.pk}/runs/{world.run.pk}/compare/?other={world.run2.pk}"
    )
    assert r.status_code == 200
    assert r.json()["rows"][1]["delta"] == "-50"
    assert r.json()["rows"][0]["amount_b"] == "450"


def test_compare_refuses_unfinished_or_foreign_runs(world: World) -> None:
    queued = TraceRun.objects.create(
        case=world.case, chain="btc", model="fifo", parameters={}, created_by=world.owner
    )
    base = f"{V1}/cases/{world.case.pk}/runs/{world.run.pk}/compare/"
    c = world.client(world.owner)
    assert c.get(f"{base}?other={queued.pk}").status_code == 409
    other_case_run = TraceRun.objects.create(
        case=world.spare_case, chain="btc", model="fifo", parameters={}, created_by=world.owner
    )
    assert c.get(f"{base}?other={other_case_run.pk}").status_code == 404


def test_addresses_are_sources_only_backward(world: World, runner_calls: list) -> None:
    r = start(world, {"chain": "btc", "model": "fifo", "sources": [BTC_ADDR]})
    assert r.status_code == 400 and "backward" in str(r.json()["sources"])
    r = start(world, {"chain": "btc", "model": "fifo", "sources": [BTC_TX]})
    assert r.json()["status"] == "done"
    assert runner_calls[-1]["min_amount"] == 0 and "address_sources" not in runner_calls[-1]


def test_engine_errors_end_the_run_failed_with_the_message(world: World) -> None:
    run = TraceRun.objects.create(
        case=world.case,
        chain="btc",
        model="fifo",
        parameters={"sources": ["fail-me"]},
        created_by=world.owner,
    )
    run = runs.execute_run(run.pk)
    assert run.status == "failed"
    assert run.error == "unknown source"
    assert run.flows.count() == 0 and run.result is None
    assert AuditEntry.objects.filter(action="run.finish", object_id=str(run.pk)).exists()


def test_malformed_results_fail_the_run(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("data_processing.trace_runner")
    module.run_trace = lambda **kw: {"flows": [{"tx": "a", "amount": 1.5, "hop": 1}]}
    monkeypatch.setitem(sys.modules, "data_processing.trace_runner", module)
    r = start(world, {"chain": "btc", "model": "fifo", "sources": [BTC_TX]})
    assert r.json()["status"] == "failed"
    assert "malformed" in r.json()["error"]
    assert TransactionChain.objects.filter(run_id=r.json()["id"]).count() == 0


def test_missing_engine_fails_cleanly(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "data_processing.trace_runner", None)
    r = start(world, {"chain": "btc", "model": "fifo", "sources": [BTC_TX]})
    assert r.json()["status"] == "failed"
    assert "not installed" in r.json()["error"]


class RecordingExecutor:
    def __init__(self) -> None:
        self.jobs: list[tuple] = []

    def submit(self, fn: Any, *args: Any) -> None:
        self.jobs.append((fn, args))


def test_background_mode_queues_then_the_worker_finishes(
    world: World,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.FUNDTRACE_TRACE_SYNC = False
    executor = RecordingExecutor()
    monkeypatch.setattr(runs, "_executor", executor)
    with django_capture_on_commit_callbacks(execute=True):
        r = start(world, {"chain": "btc", "model": "poison", "sources": [BTC_TX]})
    assert r.status_code == 202
    assert r.json()["status"] == "queued"
    assert len(executor.jobs) == 1
    run_id = r.json()["id"]
    url = f"{V1}/cases/{world.case.pk}/runs/{run_id}/"
    assert world.client(world.owner).get(url).json()["status"] == "queued"
    fn, args = executor.jobs[0]
    assert fn is runs._execute_in_worker and args == (run_id,)
    runs.execute_run(*args)  # what the worker thread does, minus connection handling
    polled = world.client(world.owner).get(url).json()
    assert polled["status"] == "done"
    assert TraceEndpoint.objects.filter(run_id=run_id).count() == 2
    # running it again is a no-op: the run is final
    assert runs.execute_run(run_id).status == "done"


def test_executor_is_pluggable_by_setting(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "_executor", None)
    settings.FUNDTRACE_TRACE_EXECUTOR = "tests.api.test_runs.RecordingExecutor"
    assert isinstance(runs.get_executor(), RecordingExecutor)
    monkeypatch.setattr(runs, "_executor", None)


def test_list_of_runs_omits_the_result_detail_has_it(world: World) -> None:
    c = world.client(world.owner)
    listing = c.get(f"{V1}/cases/{world.case.pk}/runs/?model=fifo").json()
    assert listing["count"] == 1 and "result" not in listing["results"][0]
    detail = c.get(f"{V1}/cases/{world.case.pk}/runs/{world.run.pk}/").json()
    assert detail["result"]["endpoints"][0]["entity"] == "Binance"


def test_a_run_of_a_case_cannot_be_read_through_another_case(world: World) -> None:
    other = make_user("olaf", role="investigator")
    c = world.client(other)
    r = c.post(f"{V1}/cases/", {"title": "mine"}, format="json")
    mine = r.json()["id"]
    assert c.get(f"{V1}/cases/{mine}/runs/{world.run.pk}/").status_code == 404
    assert c.get(f"{V1}/cases/{mine}/runs/{world.run.pk}/flows/").status_code == 404


def test_a_case_with_runs_cannot_be_deleted(world: World) -> None:
    r = world.client(world.owner).delete(f"{V1}/cases/{world.case.pk}/")
    assert r.status_code == 409
    assert TraceRun.objects.filter(case=world.case).count() == 2
