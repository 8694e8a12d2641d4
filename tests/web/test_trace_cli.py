"""``fundtrace import`` + ``fundtrace trace`` end to end, on both chain families."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.paths import FIXTURES, needs_shared

pytestmark = pytest.mark.django_db

PEEL_SOURCE = "b55c6c50454696478866228b1f3e689524910408cfc901cb16af13a10367382a:0"


def cli(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def trace_json(*args: str) -> dict:
    return json.loads(cli("trace", "--format", "json", *args))


def conserved(doc: dict) -> bool:
    return sum(int(e["amount"]) for e in doc["endpoints"]) == int(doc["source_amount"])


@needs_shared
@pytest.mark.parametrize("model", ["poison", "haircut", "fifo", "lifo", "tiho"])
def test_bitcoin_peel_chain_multi_hop_under_every_model(model: str) -> None:
    block = FIXTURES / "btc" / "rpc" / "ordhook" / "279671.json"
    cli("import_chain_data", "--chain", "btc", "--format", "rpc", "--no-progress", str(block))
    doc = trace_json("--chain", "btc", "--source", PEEL_SOURCE, "--model", model)
    assert doc["chain"] == "btc" and doc["model"] == model
    assert doc["source_amount"] == "682756149"
    assert max(f["hop"] for f in doc["flows"]) >= 3
    if model != "poison":
        assert conserved(doc)
    # PROVENANCE: 5de8d57b spends 3c40c057:1 (631,006,419 sat), two hops after the source's tx.
    hop2 = [f for f in doc["flows"] if f["tx"].startswith("3c40c057") and f["index"] == 1]
    assert hop2 and hop2[0]["hop"] == 2
    if model in ("poison", "fifo"):
        assert int(hop2[0]["amount"]) == 631_006_419
    fee = sum(int(e["amount"]) for e in doc["endpoints"] if e["kind"] == "fee")
    assert fee > 0 or model == "poison"


@needs_shared
def test_bitcoin_explain_paths_sum_to_the_endpoint() -> None:
    block = FIXTURES / "btc" / "rpc" / "ordhook" / "279671.json"
    cli("import_chain_data", "--chain", "btc", "--format", "rpc", "--no-progress", str(block))
    doc = trace_json("--chain", "btc", "--source", PEEL_SOURCE, "--model", "haircut")
    target = max(
        (e for e in doc["endpoints"] if e["kind"] == "holding"), key=lambda e: int(e["amount"])
    )
    paths = json.loads(
        cli(
            "trace",
            "--chain",
            "btc",
            "--source",
            PEEL_SOURCE,
            "--model",
            "haircut",
            "--format",
            "json",
            "--explain",
            target["address"],
        )
    )["paths"]
    assert paths
    assert sum(int(p[-1]["amount"]) for p in paths) == int(target["amount"])
    assert all(p[0]["tx"] == PEEL_SOURCE.split(":")[0] for p in paths)


TOKEN = "0x" + "70" * 20
V, H, A, B, C, X, K = ("0x" + c * 40 for c in "1234567")  # victim, hacker, hops, exchange, clean


def write_erc20_case(root: Path) -> None:
    """A token theft: V->H 1000 (the theft), K->H 500 clean, H->A 900, A->B 600, A->C 300,
    B->X 600 where X is a labeled exchange deposit address. One transfer per transaction."""
    moves = [(100, V, H, 1000), (101, K, H, 500), (102, H, A, 900), (103, A, B, 600),
             (103, A, C, 300), (104, B, X, 600)]  # fmt: skip
    txs, receipts, transfers, blocks = [], [], [], {}
    for n, (blk, frm, to, value) in enumerate(moves):
        h = f"0x{n + 1:064x}"
        pos = sum(1 for m in moves[:n] if m[0] == blk)
        blocks[blk] = f"0x{blk:064x}"
        txs.append({"hash": h, "nonce": n, "block_hash": blocks[blk], "block_number": blk,
                    "transaction_index": pos, "from_address": frm, "to_address": TOKEN,
                    "value": 0, "gas": 60000, "gas_price": 10**9, "input": "0xa9059cbb",
                    "block_timestamp": 1_700_000_000 + blk * 12, "max_fee_per_gas": "",
                    "max_priority_fee_per_gas": "", "transaction_type": 0})  # fmt: skip
        receipts.append({"transaction_hash": h, "transaction_index": pos,
                         "block_hash": blocks[blk], "block_number": blk,
                         "cumulative_gas_used": 50000, "gas_used": 50000, "contract_address": "",
                         "root": "", "status": 1, "effective_gas_price": 10**9})  # fmt: skip
        transfers.append({"token_address": TOKEN, "from_address": frm, "to_address": to,
                          "value": value, "transaction_hash": h, "log_index": pos,
                          "block_number": blk})  # fmt: skip
    block_rows = [{"number": b, "hash": h, "parent_hash": f"0x{b - 1:064x}",
                   "miner": "0x" + "99" * 20, "timestamp": 1_700_000_000 + b * 12,
                   "transaction_count": sum(1 for m in moves if m[0] == b)}
                  for b, h in blocks.items()]  # fmt: skip
    for name, rows in (("blocks", block_rows), ("transactions", txs), ("receipts", receipts),
                       ("token_transfers", transfers)):  # fmt: skip
        with (root / f"{name}.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    (root / "labels.csv").write_text(f"chain,address,entity,category\neth,{X},Binance,exchange\n")


@pytest.fixture
def erc20_case(tmp_path: Path) -> str:
    write_erc20_case(tmp_path)
    cli("import_chain_data", "--chain", "eth", "--format", "ethereum-etl", "--no-progress",
        str(tmp_path))  # fmt: skip
    cli("labels", "import", "--format", "csv", str(tmp_path / "labels.csv"))
    return f"0x{1:064x}:0"  # the theft transfer


def endpoints(doc: dict) -> dict[str, tuple[str, int]]:
    return {e["address"]: (e["kind"], int(e["amount"])) for e in doc["endpoints"]}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # haircut: H holds 1000/1500 tainted; H->A 900 carries 600; A->B 400, A->C 200.
        ("haircut", {X: ("labeled", 400), C: ("holding", 200), H: ("holding", 400)}),
        # fifo: H->A takes the oldest lot (the theft) first: 900 tainted, 100 stays at H.
        ("fifo", {X: ("labeled", 600), C: ("holding", 300), H: ("holding", 100)}),
        # lifo: H->A takes the clean 500 first, then 400 tainted; 600 stays at H.
        ("lifo", {H: ("holding", 600)}),
    ],
)
def test_erc20_multi_hop_trace_stops_at_the_labeled_exchange(erc20_case, model, expected) -> None:
    doc = trace_json("--chain", "eth", "--source", erc20_case, "--model", model)
    assert doc["asset"] == TOKEN and doc["source_amount"] == "1000"
    got = endpoints(doc)
    for addr, want in expected.items():
        assert got[addr] == want
    assert conserved(doc)
    assert doc["summary"]["by_entity"].get("Binance", "0") == str(got.get(X, ("", 0))[1])
    assert X in got and got[X][0] == "labeled"


def test_erc20_poison_taints_everything_downstream(erc20_case) -> None:
    doc = trace_json("--chain", "eth", "--source", erc20_case, "--model", "poison")
    got = endpoints(doc)
    assert got[X] == ("labeled", 600)
    assert got[C] == ("holding", 300)


def test_erc20_backward_from_the_exchange_deposit_finds_the_theft(erc20_case) -> None:
    deposit = f"0x{6:064x}:0"
    doc = trace_json("--chain", "eth", "--source", deposit, "--model", "haircut",
                     "--direction", "backward")  # fmt: skip
    got = endpoints(doc)
    assert conserved(doc)
    # 600 at X came through B <- A <- H, whose funds were 2/3 theft (from V) and 1/3 from K.
    assert got[V][1] == 400 and got[K][1] == 200


def test_tiho_is_refused_for_account_chains(erc20_case) -> None:
    with pytest.raises(CommandError, match="not defined for eth"):
        trace_json("--chain", "eth", "--source", erc20_case, "--model", "tiho")


def test_unknown_source_is_a_clear_error(erc20_case) -> None:
    with pytest.raises(CommandError, match="no stored eth transfer"):
        trace_json("--chain", "eth", "--source", "0x" + "ab" * 32, "--model", "fifo")
