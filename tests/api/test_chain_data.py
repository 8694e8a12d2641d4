"""addresses/{chain}/{address}/ and transactions/{chain}/{hash}/ over stored data."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from data_collection.storage import store_batch
from fundtrace.core.amounts import btc_to_sat
from fundtrace.core.model import (
    Batch,
    Block,
    Chain,
    Transaction,
    Transfer,
    TransferKind,
    TxInput,
    TxOutput,
)
from tests.api.conftest import World
from tests.paths import FIXTURES, needs_shared

pytestmark = pytest.mark.django_db
V1 = "/api/v1"

RPC = FIXTURES / "btc" / "rpc" / "bitcoin-etl"
GENESIS = (
    RPC
    / "block_0"
    / (
        "rpc_response_getblock_000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f_2.json"
    )
)
BLOCK1 = (
    RPC
    / "block_1"
    / (
        "rpc_response_getblock_00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048_2.json"
    )
)


def coinbase_batch(path: Path) -> Batch:
    """Just enough of a Bitcoin Core ``getblock 2`` reader for these coinbase-only blocks."""
    block = json.loads(path.read_text(), parse_float=Decimal)
    txs = []
    for position, tx in enumerate(block["tx"]):
        outputs = [
            TxOutput(
                o["n"],
                btc_to_sat(o["value"]),
                o["scriptPubKey"]["type"],
                o["scriptPubKey"]["addresses"][0],
            )
            for o in tx["vout"]
        ]
        txs.append(
            Transaction(
                chain=Chain.BTC,
                hash=tx["txid"],
                block_number=block["height"],
                block_hash=block["hash"],
                tx_index=position,
                timestamp=block["time"],
                is_coinbase=True,
                inputs=[TxInput(0, None, None)],
                outputs=outputs,
            )
        )
    return Batch(
        Chain.BTC,
        blocks=[Block(Chain.BTC, block["height"], block["hash"], block["time"])],
        transactions=txs,
    )


@needs_shared
def test_genesis_block_figures_from_provenance(world: World) -> None:
    store_batch(coinbase_batch(GENESIS))
    store_batch(coinbase_batch(BLOCK1))
    c = world.client(world.viewer)
    genesis = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    doc = c.get(f"{V1}/addresses/btc/{genesis}/").json()
    assert doc["balances"] == [
        {
            "asset": "native",
            "decimals": 8,
            "received": "5000000000",
            "sent": "0",
            "fees": "0",
            "balance": "5000000000",
        }
    ]
    assert doc["count"] == 1
    assert doc["movements"][0]["tx"] == (
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    )
    assert doc["movements"][0]["block_number"] == 0
    tx = c.get(
        f"{V1}/transactions/btc/0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098/"
    ).json()
    assert tx["block_number"] == 1 and tx["is_coinbase"] is True
    assert tx["outputs"] == [
        {
            "index": 0,
            "value": "5000000000",
            "address": "12c6DSiU4Rq3P4ZxziKxzrL5LmMBrzjrJX",
            "script_type": "pubkey",
            "spent_by": None,
        }
    ]
    assert tx["inputs"] == [
        {"index": 0, "txid": None, "vout": None, "address": None, "value": None}
    ]
    assert "transfers" not in tx and tx["status"] == "success"


A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
C = "0x" + "cc" * 20
TOKEN = "0x" + "dd" * 20
ETH = 10**18


def eth_tx(h: int, block: int, fee_payer: str, transfers: list[Transfer], fee: int) -> Transaction:
    return Transaction(
        chain=Chain.ETH,
        hash="0x" + f"{h:064x}",
        block_number=block,
        tx_index=0,
        timestamp=1_700_000_000 + block,
        fee=fee,
        fee_payer=fee_payer,
        transfers=transfers,
    )


def test_account_balances_are_exact_and_ordered(world: World) -> None:
    big = 2**200 + 7  # far beyond float precision
    fee = 21_000 * 10**9
    store_batch(
        Batch(
            Chain.ETH,
            transactions=[
                eth_tx(1, 10, B, [Transfer(0, TransferKind.NATIVE, "native", B, A, 10 * ETH)], fee),
                eth_tx(2, 11, A, [Transfer(0, TransferKind.NATIVE, "native", A, C, 3 * ETH)], fee),
                eth_tx(3, 12, B, [Transfer(5, TransferKind.TOKEN, TOKEN, B, A, big)], fee),
                eth_tx(4, 13, A, [Transfer(9, TransferKind.TOKEN, TOKEN, A, C, 200)], fee),
            ],
        )
    )
    c = world.client(world.viewer)
    doc = c.get(f"{V1}/addresses/eth/{A.upper().replace('0X', '0x')}/").json()
    assert doc["address"] == A
    assert doc["balances"] == [
        {
            "asset": "native",
            "decimals": 18,
            "received": str(10 * ETH),
            "sent": str(3 * ETH),
            "fees": str(2 * fee),
            "balance": str(7 * ETH - 2 * fee),
        },
        {
            "asset": TOKEN,
            "decimals": None,
            "received": str(big),
            "sent": "200",
            "fees": "0",
            "balance": str(big - 200),
        },
    ]
    assert doc["warnings"] == []
    kinds = [(m["block_number"], m["direction"]) for m in doc["movements"]]
    assert kinds == [(10, "in"), (11, "fee"), (11, "out"), (12, "in"), (13, "fee"), (13, "out")]
    page = c.get(f"{V1}/addresses/eth/{A}/?limit=2&offset=4").json()
    assert page["count"] == 6 and [m["block_number"] for m in page["movements"]] == [13, 13]
    # C only received; B sent more than the stored data shows it ever had
    b = c.get(f"{V1}/addresses/eth/{B}/").json()
    assert b["balances"][0]["balance"] == str(-(10 * ETH) - 2 * fee)
    assert "incomplete" in b["warnings"][0]
    tx = c.get(f"{V1}/transactions/eth/0x{3:064x}/").json()
    assert tx["transfers"] == [
        {
            "index": 5,
            "kind": "token",
            "asset": TOKEN,
            "from": B,
            "to": A,
            "amount": str(big),
            "trace_address": None,
        }
    ]
    assert tx["from"] == B and "inputs" not in tx and tx["fee"] == str(fee)
    assert c.get(f"{V1}/transactions/eth/0x{99:064x}/").status_code == 404
    assert c.get(f"{V1}/addresses/eth/{A}/?limit=0").status_code == 400


X = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
Y = "1dice8EMZmqKvrGE4Qc9bUFf9PX3xaYDp"
Z = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"


def _btc(h: str, inputs: list[TxInput], outputs: list[TxOutput], block: int) -> Transaction:
    return Transaction(
        chain=Chain.BTC,
        hash=h * 64,
        block_number=block,
        block_hash=f"{block:064x}",
        tx_index=0,
        timestamp=1_600_000_000 + block,
        inputs=inputs,
        outputs=outputs,
    )


def test_private_labels_reach_only_their_case_members_even_through_a_cluster(world: World) -> None:
    """X and Y co-spend (one owner); Y is a shared exchange label, X a label private to the case."""
    from data_processing.attribution_store import run_clustering
    from data_processing.label_store import store_labels
    from fundtrace.attribution.labels import Category, Label

    funding = [
        _btc("1", [TxInput(0, None, None)], [TxOutput(0, 50, "pubkeyhash", X)], 1),
        _btc("2", [TxInput(0, None, None)], [TxOutput(0, 70, "pubkeyhash", Y)], 2),
    ]
    spend = _btc(
        "3",
        [TxInput(0, "1" * 64, 0, 50, X), TxInput(1, "2" * 64, 0, 70, Y)],
        [TxOutput(0, 110, "scripthash", Z)],
        3,
    )
    for t in funding:
        t.is_coinbase = True
    store_batch(Batch(Chain.BTC, transactions=[*funding, spend]))
    run_clustering(Chain.BTC)
    store_labels(
        [
            Label(Chain.BTC, Y, "Binance", Category.EXCHANGE, "test-shared", 90),
            Label(
                Chain.BTC,
                X,
                "Suspect wallet",
                Category.HACKER,
                "test-private",
                80,
                case_id=str(world.case.pk),
            ),
        ]
    )

    def entities(user: object) -> set[tuple[str, bool]]:
        r = world.client(user).get(f"{V1}/entities/btc/{X}/")
        assert r.status_code == 200, r.content
        doc = r.json()
        assert doc["size"] == 2 and set(doc["addresses"]) == {X, Y}
        return {(x["entity"], x["inherited"]) for x in doc["labels"]}

    assert entities(world.viewer) == {("Suspect wallet", False), ("Binance", True)}
    assert entities(world.admin) == {("Suspect wallet", False), ("Binance", True)}
    assert entities(world.outsider) == {("Binance", True)}
    direct = world.client(world.outsider).get(f"{V1}/addresses/btc/{X}/").json()["labels"]
    assert direct == []
    mine = world.client(world.viewer).get(f"{V1}/addresses/btc/{X}/").json()["labels"]
    assert [(x["entity"], x["case"]) for x in mine] == [("Suspect wallet", world.case.pk)]
    assert world.client(None).get(f"{V1}/entities/btc/{X}/").status_code in (401, 403)
    assert world.client(world.viewer).get(f"{V1}/entities/btc/not-an-address/").status_code == 400
