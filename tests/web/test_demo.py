"""``fundtrace demo --no-serve``: the demo's case summary agrees with the scenario's ground truth.

The ground truth comes from the scenario package's own reference taint models, independent of
the tracing engine; the demo goes through the real importers, label store, clustering, case
and trace-run code.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from transaction_tracking.models import Case, TraceRun

pytestmark = pytest.mark.django_db

CONSERVING = {"haircut", "fifo", "lifo", "tiho"}


def run_demo() -> dict:
    out = StringIO()
    call_command("demo", "--no-serve", "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def entity_of(chain_truth: dict) -> dict[str, str]:
    names = {e["address"]: e["entity"] for e in chain_truth["labeled_endpoints"]}
    names.update({d["address"]: d["entity"] for d in chain_truth["deposit_addresses"]})
    return names


def test_demo_summary_matches_the_ground_truth(settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    summary = run_demo()
    truth = json.loads((tmp_path / "demo-scenario" / "ground_truth.json").read_text())
    expected_runs = sum(len(t["models"]) for c in truth["chains"].values() for t in c["traces"])
    assert len(summary["traces"]) == expected_runs
    for run in summary["traces"]:
        chain_truth = truth["chains"][run["chain"]]
        trace = next(t for t in chain_truth["traces"] if t["name"] == run["name"])
        want = trace["models"][run["model"]]
        where = f"{run['chain']} {run['name']} {run['model']}"
        assert run["status"] == "done", where
        assert run["source_amount"] == want["source_total"], where
        names = entity_of(chain_truth)
        want_by_entity: dict[str, int] = {}
        for address, amount in want["endpoints"].items():
            key = names.get(address, address)
            want_by_entity[key] = want_by_entity.get(key, 0) + int(amount)
        got_by_entity = {k: int(v) for k, v in run["by_entity"].items()}
        assert got_by_entity == want_by_entity, where
        if run["model"] in CONSERVING:
            assert int(run["holding"]) == sum(int(v) for v in want["held"].values()), where
        # A trace must never stop at the thief's own address and name an exchange there.
        assert not set(chain_truth["thief_addresses"]) & set(run["labeled"]), where
        unlabeled_deposits = {
            d["address"] for d in chain_truth["deposit_addresses"] if not d["labeled"]
        }
        for address in set(run["labeled"]) - set(want["endpoints"]):
            # Only deposit addresses that clustering attributed may stop a trace early.
            assert address in unlabeled_deposits, (where, address)
        if run["chain"] in ("btc", "sol"):
            assert run["labeled"] == want["endpoints"], where


def test_demo_is_safe_to_rerun(settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    first = run_demo()
    runs = TraceRun.objects.count()
    second = run_demo()
    assert TraceRun.objects.count() == runs
    assert Case.objects.count() == 1
    assert second == first
