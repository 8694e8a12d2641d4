"""``fundtrace import`` on the real mainnet fixtures, on whichever database is configured."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from data_collection import models as m
from data_collection.queries import transaction_document
from fundtrace.core.model import Chain
from tests.paths import FIXTURES, needs_shared

pytestmark = [pytest.mark.django_db, needs_shared]

BTC, ETH, SOL = FIXTURES / "btc", FIXTURES / "eth", FIXTURES / "sol"

EVERY_FORMAT = [
    ("btc", "rpc", [BTC / "rpc"]),
    ("btc", "esplora", [BTC / "esplora"]),
    ("btc", "bitcoin-etl", sorted((BTC / "etl" / "bitcoin-etl").rglob("expected_*.json"))),
    (
        "eth",
        "ethereum-etl",
        [ETH / "etl" / "block_483920", ETH / "etl" / "blocks_17173049_17173050"],
    ),
    (
        "eth",
        "rpc",
        [
            ETH / "rpc" / "eth_getBlockByNumber_483920_full.json",
            *sorted((ETH / "rpc").glob("eth_getTransactionReceipt_483920_*.json")),
        ],
    ),
    ("eth", "etherscan", [ETH / "etherscan"]),
    ("sol", "rpc", [SOL / "rpc"]),
]


def run_import(chain: str, fmt: str, paths: list[Path]) -> str:
    out = StringIO()
    call_command(
        "import_chain_data",
        "--chain",
        chain,
        "--format",
        fmt,
        "--no-progress",
        *map(str, paths),
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (m.Block, m.BlockchainTransaction, m.TxOutput, m.TxInput, m.Transfer, m.Asset)
    }


@pytest.mark.parametrize(("chain", "fmt", "paths"), EVERY_FORMAT, ids=lambda v: str(v)[:20])
def test_every_format_imports_and_reimport_is_idempotent(chain, fmt, paths) -> None:
    run_import(chain, fmt, paths)
    first = table_counts()
    assert first["BlockchainTransaction"] > 0
    run_import(chain, fmt, paths)
    assert table_counts() == first


def test_bitcoin_block_279671_balances_exactly_after_import() -> None:
    run_import("btc", "rpc", [BTC / "rpc" / "ordhook" / "279671.json"])
    txs = m.BlockchainTransaction.objects.filter(blockchain_network="btc", block_number=279671)
    assert txs.count() == 217
    fees = 0
    for tx in txs.filter(is_coinbase=False):
        ins = sum(tx.inputs.values_list("value", flat=True))
        outs = sum(tx.outputs.values_list("value", flat=True))
        assert tx.fee == ins - outs >= 0
        fees += tx.fee
    coinbase = txs.get(is_coinbase=True)
    assert (
        sum(coinbase.outputs.values_list("value", flat=True))
        == 2_500_000_000 + fees
        == 2_505_047_000
    )
    # Same-block spends point at the exact stored output.
    inp = m.TxInput.objects.get(
        txid__startswith="5de8d57b", spent_txid__startswith="3c40c057", spent_vout=1
    )
    assert inp.spent_output.value == 631_006_419


def test_verbosity_2_inputs_are_resolved_from_stored_outputs_in_a_later_import() -> None:
    rpc = BTC / "rpc" / "bitcoin-etl"
    run_import("btc", "rpc", [rpc / "block_with_transactions"])
    tx = m.BlockchainTransaction.objects.get(transaction_hash__startswith="7940cdde")
    assert tx.fee is None
    run_import("btc", "rpc", [rpc / "stream_50001_50002"])
    tx.refresh_from_db()
    assert tx.fee == 0
    assert sorted(tx.inputs.values_list("value", flat=True)) == [5_000_000_000] * 2


def test_show_tx_prints_the_canonical_fields() -> None:
    run_import("btc", "rpc", [BTC / "rpc" / "ordhook" / "279671.json"])
    out = StringIO()
    call_command(
        "show",
        "tx",
        "--chain",
        "btc",
        "--format",
        "json",
        "1fb84fb647e23c85efc938e832e5a28ceb32f2e35fd5e41030aa2cf84fbc3319",
        stdout=out,
    )
    doc = json.loads(out.getvalue())
    assert doc["fee"] == "100000"
    assert doc["block_number"] == 279671
    assert [(o["address"], o["value"]) for o in doc["outputs"]] == [
        ("1CKMi4rzpcCZZ8QMitMGVMe9tY7vAgcUUF", "30000000"),
        ("1PxP8JgfkeSHT9FgYCuEtUVabgG88SysZt", "119900000"),
    ]
    assert doc["inputs"][0]["value"] == "150000000"


def test_show_eth_tx_lists_transfers_with_lowercase_addresses() -> None:
    run_import("eth", "ethereum-etl", [ETH / "etl" / "blocks_17173049_17173050"])
    tx = m.Transfer.objects.filter(kind="token").first().tx_hash
    doc = transaction_document(Chain.ETH, tx.upper().replace("0X", "0x"))
    assert doc["transfers"]
    for t in doc["transfers"]:
        assert t["kind"] in {"native", "internal", "token"}
        assert t["from"] is None or t["from"] == t["from"].lower()
        assert int(t["amount"]) >= 0


def test_a_malformed_file_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    run_import("btc", "rpc", [BTC / "rpc" / "bitcoin-etl" / "block_1"])
    before = table_counts()
    doc = json.loads((BTC / "rpc" / "ordhook" / "279671.json").read_text())
    doc["result"]["tx"][5]["vout"][0]["value"] = "not-a-number"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(CommandError) as err:
        run_import("btc", "rpc", [bad])
    message = str(err.value)
    assert "bad.json" in message and "value" in message
    assert table_counts() == before


def test_eth_block_without_its_receipts_is_an_error_naming_the_block() -> None:
    with pytest.raises(CommandError, match=r"483920|receipt"):
        run_import("eth", "rpc", [ETH / "rpc" / "eth_getBlockByNumber_483920_full.json"])
    assert m.BlockchainTransaction.objects.count() == 0


def test_unknown_format_for_a_chain_is_refused() -> None:
    with pytest.raises(CommandError, match="not available for sol"):
        run_import("sol", "esplora", [SOL / "rpc"])


def test_show_address_balances_are_exact_and_match_the_stored_history() -> None:
    from data_collection.history import address_history

    run_import("btc", "rpc", [BTC / "rpc" / "ordhook" / "279671.json"])
    out = StringIO()
    addr = "1CKMi4rzpcCZZ8QMitMGVMe9tY7vAgcUUF"  # receives 30,000,000 sat in block 279671
    call_command("show", "address", "--chain", "btc", "--format", "json", addr, stdout=out)
    doc = json.loads(out.getvalue())
    assert doc["balances"] == [
        {
            "asset": "native",
            "decimals": 8,
            "received": "30000000",
            "sent": "0",
            "fees": "0",
            "balance": "30000000",
        }
    ]
    assert doc["count"] == len(address_history("btc", addr)["movements"]) >= 1
    table = StringIO()
    call_command("show", "address", "--chain", "btc", addr, stdout=table)
    assert "30000000" in table.getvalue()
    with pytest.raises(CommandError, match="no stored movements"):
        call_command("show", "address", "--chain", "btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")
