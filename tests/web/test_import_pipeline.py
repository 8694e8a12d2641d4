"""``import_paths`` stores units through ``store_batches`` (pipelined on PostgreSQL): the
guarantees of a plain loop must hold, on whichever database is configured."""

from __future__ import annotations

import re

import pytest

from data_collection import importing
from data_collection import models as m
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Block, Chain, Transaction, TxInput, TxOutput

pytestmark = pytest.mark.django_db(transaction=True)

A = "a" * 64
B = "b" * 64
C = "c" * 64
FUNDER = "f" * 64


def _stored() -> set[str]:
    return set(m.BlockchainTransaction.objects.values_list("transaction_hash", flat=True))


def _block(n: int) -> Block:
    return Block(Chain.BTC, n, f"{n:064x}", 1_700_000_000 + n)


def _unit(n: int, tx: Transaction) -> Batch:
    return Batch(Chain.BTC, blocks=[_block(n)], transactions=[tx])


def _spend(txid: str, n: int, spent: str, value_out: int) -> Transaction:
    """A one-input transaction whose input value the source left out (getblock verbosity 2)."""
    return Transaction(
        Chain.BTC,
        txid,
        n,
        f"{n:064x}",
        1,
        inputs=[TxInput(0, spent, 0)],
        outputs=[TxOutput(0, value_out, "witness_v0_keyhash", f"bc1q{txid[:6]}")],
    )


def _units(monkeypatch, units: list, fail_after: int | None = None) -> None:
    def parse_inputs(chain, fmt, paths, *, network="mainnet"):
        for k, unit in enumerate(units):
            if fail_after is not None and k == fail_after:
                raise ParseError("bad record", source=f"unit{k}.jsonl", record=3, field="value")
            yield f"unit{k}.jsonl", unit

    monkeypatch.setattr(importing, "parse_inputs", parse_inputs)


def _coinbase_unit() -> Batch:
    funder = Transaction(
        Chain.BTC,
        FUNDER,
        100,
        f"{100:064x}",
        0,
        is_coinbase=True,
        fee=0,
        inputs=[TxInput(0, None, None)],
        outputs=[TxOutput(0, 5_000_000_000, "witness_v0_keyhash", "bc1qfunder")],
    )
    return _unit(100, funder)


def test_a_unit_spending_the_unit_before_it_is_resolved_and_stored_in_order(monkeypatch):
    # unit 1 spends unit 0's output, unit 2 spends unit 1's: each is parsed before the unit
    # ahead of it is committed on PostgreSQL, so the value must come from memory.
    units = [
        _coinbase_unit(),
        _unit(101, _spend(A, 101, FUNDER, 4_999_990_000)),
        _unit(102, _spend(B, 102, A, 4_999_980_000)),
    ]
    _units(monkeypatch, units)
    heard = []
    report = importing.import_paths(
        Chain.BTC, "rpc", ["x"], on_unit=lambda src, stats: heard.append((src, stats.transactions))
    )
    assert report.unresolved == []
    assert report.units == 3 and report.stats.transactions == 3
    assert heard == [("unit0.jsonl", 1), ("unit1.jsonl", 1), ("unit2.jsonl", 1)]
    fees = dict(m.BlockchainTransaction.objects.values_list("transaction_hash", "fee"))
    assert int(fees[A]) == 10_000 and int(fees[B]) == 10_000
    spent = m.TxInput.objects.get(txid=B)
    assert spent.spent_output.txid == A and int(spent.value) == 4_999_990_000


def test_an_output_two_units_back_is_found_in_the_database(monkeypatch):
    units = [
        _coinbase_unit(),
        _unit(101, _spend(A, 101, C, 1)),  # spends nothing known: reported, not guessed
        _unit(102, _spend(B, 102, FUNDER, 4_999_000_000)),
    ]
    _units(monkeypatch, units)
    report = importing.import_paths(Chain.BTC, "rpc", ["x"])
    assert report.unresolved == [(C, 0)]
    assert int(m.BlockchainTransaction.objects.get(transaction_hash=B).fee) == 1_000_000


def test_a_unit_that_fails_to_parse_raises_after_the_units_before_it_are_stored(monkeypatch):
    units = [_coinbase_unit(), _unit(101, _spend(A, 101, FUNDER, 1)), None]
    _units(monkeypatch, units, fail_after=2)
    with pytest.raises(ParseError, match=re.escape("unit2.jsonl, record 3, field 'value'")):
        importing.import_paths(Chain.BTC, "rpc", ["x"])
    assert _stored() == {FUNDER, A}


def test_a_unit_that_fails_to_store_leaves_the_units_after_it_unstored(monkeypatch):
    bad = _spend(B, 102, A, 10**30)  # outputs exceed inputs: refused by validation
    units = [
        _coinbase_unit(),
        _unit(101, _spend(A, 101, FUNDER, 4_999_990_000)),
        _unit(102, bad),
        _unit(103, _spend(C, 103, FUNDER, 1)),
    ]
    _units(monkeypatch, units)
    with pytest.raises(Exception, match="outputs exceed inputs"):
        importing.import_paths(Chain.BTC, "rpc", ["x"])
    assert _stored() == {FUNDER, A}
