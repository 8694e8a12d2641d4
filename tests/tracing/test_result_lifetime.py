"""A trace result holds arrays as big as the data (tens of MB per 10 M events): it must be
freed by reference counting as soon as it is dropped, not at some later cycle collection."""

from __future__ import annotations

import gc

import pytest

from fundtrace.tracing import explain, trace
from tests.tracing.test_hand_account import LABELS as ACCOUNT_LABELS
from tests.tracing.test_hand_account import LEDGER
from tests.tracing.test_hand_utxo import GRAPH, LABELS


@pytest.mark.parametrize("model", ["poison", "fifo"])
@pytest.mark.parametrize("family", ["utxo", "account"])
def test_results_form_no_reference_cycles(model, family):
    def run():
        if family == "utxo":
            return trace(GRAPH, [("c", 0)], model=model, attribution=LABELS)
        return trace(LEDGER, [LEDGER.tx_hashes[0]], model=model, attribution=ACCOUNT_LABELS)

    run().summary()  # first calls leave compiler and cache garbage of their own
    gc.collect()
    gc.disable()
    try:
        r = run()
        r.summary()
        assert r.flows and r.to_json()
        del r
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        gc.enable()


def test_explained_result_still_explains():
    r = trace(GRAPH, [("c", 0)], model="fifo", attribution=LABELS)
    paths = explain(r, "EX")
    assert sum(p[-1].amount for p in paths) == 10
