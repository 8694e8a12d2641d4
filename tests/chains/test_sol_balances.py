"""The balance checks on synthetic transactions: random System transfer sets are explained
exactly, any tampering is reported with the exact accounts and lamports, and malformed
records raise errors that name source, record and field."""

from __future__ import annotations

import copy
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from fundtrace.chains.sol.balances import check_balances
from fundtrace.chains.sol.instructions import b58encode
from fundtrace.chains.sol.message import read_transaction
from fundtrace.chains.sol.rpc import classify, parse_block, parse_signatures, parse_transaction
from fundtrace.chains.sol.transfers import decode_transfers
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, TransferKind

SYSTEM = "11111111111111111111111111111111"
KEYS = [str(Pubkey.new_unique()) for _ in range(6)]


def system_tx(pre: list[int], moves: list[tuple[int, int, int]], fee: int) -> dict:
    """A json-encoded getTransaction result: account 0 pays the fee, each move is a top-level
    System transfer (from index, to index, lamports); post balances are what the runtime
    would record."""
    keys = [*KEYS[: len(pre)], SYSTEM]
    post = [*pre, 1]
    pre = [*pre, 1]
    post[0] -= fee
    for a, b, amount in moves:
        post[a] -= amount
        post[b] += amount
    return {
        "slot": 1,
        "transaction": {
            "signatures": ["5" * 88],
            "message": {
                "accountKeys": keys,
                "instructions": [
                    {
                        "programIdIndex": len(keys) - 1,
                        "accounts": [a, b],
                        "data": b58encode(struct.pack("<IQ", 2, amount)),
                    }
                    for a, b, amount in moves
                ],
            },
        },
        "meta": {
            "err": None,
            "fee": fee,
            "preBalances": pre,
            "postBalances": post,
            "innerInstructions": [],
        },
    }


@st.composite
def transfer_sets(draw):
    n = draw(st.integers(2, 5))
    pre = draw(st.lists(st.integers(10**6, 10**15), min_size=n, max_size=n))
    fee = draw(st.integers(0, 10**5))
    balance = list(pre)
    balance[0] -= fee
    moves = []
    for _ in range(draw(st.integers(0, 8))):
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(0, n - 1))
        amount = draw(st.integers(0, balance[a]))
        balance[a] -= amount
        balance[b] += amount
        moves.append((a, b, amount))
    return pre, moves, fee


@settings(max_examples=60, deadline=None)
@given(transfer_sets())
def test_random_transfer_sets_are_explained_exactly(case):
    pre, moves, fee = case
    result = system_tx(pre, moves, fee)
    tx = parse_transaction(result).transactions[0]
    assert [(t.index, t.amount) for t in tx.transfers] == [
        (i, amount) for i, (_a, _b, amount) in enumerate(moves) if amount
    ]
    assert all(t.kind is TransferKind.NATIVE and t.asset == NATIVE for t in tx.transfers)
    view = read_transaction(result)
    report = check_balances(view, decode_transfers(view))
    assert report.explained and report.lamport_sum == -fee


@settings(max_examples=40, deadline=None)
@given(transfer_sets(), st.integers(1, 10**6), st.data())
def test_a_shifted_balance_is_reported_to_the_lamport(case, k, data):
    pre, moves, fee = case
    result = system_tx(pre, moves, fee)
    n = len(pre)
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(0, n - 1).filter(lambda x: x != a))
    post = result["meta"]["postBalances"]
    post[a] += k  # value appears at a and leaves b without any instruction: a program debit
    post[b] -= k
    if post[b] < 0:
        return
    view = read_transaction(result)
    report = check_balances(view, decode_transfers(view))
    assert report.lamport_sum_ok
    assert report.unexplained_lamports == {KEYS[a]: k, KEYS[b]: -k}
    batch = parse_transaction(result)
    assert any(f"{KEYS[a]} +{k}" in w and f"{KEYS[b]} -{k}" in w for w in batch.warnings)


def test_fee_not_matching_balances_is_an_error():
    result = system_tx([10**9, 0], [(0, 1, 500)], 5000)
    result["meta"]["postBalances"][0] += 1
    with pytest.raises(ParseError, match="sum to") as exc:
        parse_transaction(result, source="x.json")
    assert (exc.value.source, exc.value.record, exc.value.field) == (
        "x.json",
        "5" * 88,
        "meta.postBalances",
    )


@pytest.mark.parametrize(
    ("mutate", "field", "match"),
    [
        (lambda r: r["meta"]["postBalances"].pop(), "meta.postBalances", "balances for"),
        (lambda r: r["meta"].pop("fee"), "meta.fee", "missing"),
        (lambda r: r["meta"].__setitem__("fee", "5000"), "meta.fee", "not an integer"),
        (
            lambda r: r["transaction"]["message"]["instructions"][0].__setitem__(
                "accounts", [0, 9]
            ),
            "transaction.message.instructions[0].accounts[1]",
            "outside the 3 account keys",
        ),
        (
            lambda r: r["transaction"]["message"]["instructions"][0].__setitem__("data", "0OIl"),
            "transaction.message.instructions[0].data",
            "base58",
        ),
        (
            lambda r: r["transaction"]["message"].__setitem__(
                "addressTableLookups",
                [{"accountKey": KEYS[5], "writableIndexes": [1], "readonlyIndexes": []}],
            ),
            "meta.loadedAddresses",
            "absent",
        ),
        (
            lambda r: r["meta"].__setitem__(
                "innerInstructions", [{"index": 3, "instructions": []}]
            ),
            "meta.innerInstructions[0]",
            "outer #3",
        ),
        (
            lambda r: r["meta"].__setitem__(
                "preTokenBalances",
                [
                    {
                        "accountIndex": 1,
                        "mint": KEYS[4],
                        "uiTokenAmount": {"amount": 1.5, "decimals": 6},
                    }
                ],
            ),
            "meta.preTokenBalances[0].uiTokenAmount.amount",
            "decimal string",
        ),
        (lambda r: r.__setitem__("meta", None), "meta", "null"),
        (lambda r: r.__setitem__("transaction", ["!!", "base64"]), "transaction", "base64"),
    ],
)
def test_malformed_records_name_source_record_and_field(mutate, field, match):
    result = copy.deepcopy(system_tx([10**9, 0], [(0, 1, 500)], 5000))
    mutate(result)
    with pytest.raises(ParseError, match=match) as exc:
        parse_transaction(result, source="bad.json", record=7)
    assert (exc.value.source, exc.value.record, exc.value.field) == ("bad.json", 7, field)


def test_rpc_envelopes():
    result = system_tx([10**9, 0], [(0, 1, 500)], 5000)
    env = {"jsonrpc": "2.0", "id": 1, "result": result}
    assert classify(env) == "sol.transaction"
    assert parse_transaction(env).transactions[0].transfers[0].amount == 500
    err = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32009, "message": "Slot 5 was skipped"}}
    with pytest.raises(ParseError, match="Slot 5 was skipped") as exc:
        parse_block(err, slot=5, source="b.json")
    assert exc.value.field == "error"
    with pytest.raises(ParseError, match="not found"):
        parse_transaction({"jsonrpc": "2.0", "id": 1, "result": None})


def test_classify_leaves_other_chains_alone():
    assert classify({"hash": "00" * 32, "tx": [], "height": 1}) is None  # bitcoin getblock
    assert classify({"number": "0x1", "hash": "0x" + "00" * 32, "transactions": []}) is None
    assert classify([{"transactionHash": "0x1", "logs": []}]) is None
    assert classify([]) is None


def test_block_entry_errors_name_the_position():
    good = system_tx([10**9, 0], [(0, 1, 500)], 5000)
    bad = copy.deepcopy(good)
    bad["meta"]["preBalances"] = "x"
    block = {"blockhash": KEYS[0], "parentSlot": 4, "blockTime": 9, "transactions": [good, bad]}
    with pytest.raises(ParseError) as exc:
        parse_block(block, slot=5, source="blk.json")
    assert (exc.value.record, exc.value.field) == ("transactions[1]", "meta.preBalances")


def test_signature_entries_are_validated():
    with pytest.raises(ParseError) as exc:
        parse_signatures([{"signature": "a", "slot": {"__bigint__": "1x"}}], source="s.json")
    assert (exc.value.source, exc.value.record, exc.value.field) == ("s.json", 0, "slot")
