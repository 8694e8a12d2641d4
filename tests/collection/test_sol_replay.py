"""Solana block-range collection against a replaying JSON-RPC node on loopback.

No Solana validator is packaged for this machine, so the node here answers ``getSlot`` and
``getBlock`` from real recorded mainnet responses: slot 241,043,141 as recorded, the next slot
skipped (the RPC's -32007 error), and the slot after it a block assembled from recorded
``getTransaction`` results. The collector must store exactly what the importer derives from the
same responses, record the skipped slot, be idempotent on resume, and roll back a block the
node replaced.
"""

from __future__ import annotations

import io
import json

import base58
import pytest
from django.core.management import call_command

from data_collection import models as m
from fundtrace.chains.sol.rpc import parse_block
from tests.collection.loopback import serve
from tests.paths import FIXTURES, needs_shared

pytestmark = [needs_shared, pytest.mark.django_db(transaction=True)]

RPC = FIXTURES / "sol" / "rpc"
SLOT = 241_043_141


def _result(name: str) -> dict:
    doc = json.loads((RPC / name).read_text())
    return doc.get("result", doc) if isinstance(doc, dict) else doc


def _hash(seed: int) -> str:
    return base58.b58encode(bytes([seed]) * 32).decode()


def _block_from_txs(parent: dict, parent_slot: int, names: list[str], seed: int) -> dict:
    txs = []
    for name in names:
        r = _result(name)
        txs.append({k: r[k] for k in ("transaction", "meta", "version") if k in r})
    return {
        "blockHeight": parent["blockHeight"] + 1,
        "blockTime": parent["blockTime"] + 1,
        "blockhash": _hash(seed),
        "parentSlot": parent_slot,
        "previousBlockhash": parent["blockhash"],
        "transactions": txs,
    }


class ReplayNode:
    """slot -> getBlock result (None: skipped); answers what SolanaRpc asks."""

    def __init__(self, blocks: dict[int, dict | None]) -> None:
        self.blocks = blocks
        self.calls: list[str] = []

    def __call__(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        req = json.loads(body)
        self.calls.append(req["method"])
        answer: dict = {"jsonrpc": "2.0", "id": req["id"]}
        if req["method"] == "getSlot":
            answer["result"] = max(self.blocks)
        elif req["method"] == "getBlock":
            slot, config = req["params"]
            assert (
                config["encoding"] == "jsonParsed" and config["maxSupportedTransactionVersion"] == 0
            )
            block = self.blocks.get(slot)
            if block is None:
                answer["error"] = {"code": -32007, "message": f"Slot {slot} was skipped"}
            elif config.get("transactionDetails") == "none":
                answer["result"] = {k: v for k, v in block.items() if k != "transactions"}
            else:
                answer["result"] = block
        else:
            answer["error"] = {"code": -32601, "message": "Method not found"}
        return 200, json.dumps(answer).encode()


def collect(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command("collect", "--chain", "sol", "--rpc-url", url, "--no-progress", *args, stdout=out)
    return out.getvalue()


def stored_transfers() -> set[tuple]:
    return set(
        m.Transfer.objects.filter(chain="sol").values_list(
            "tx_hash", "kind", "index", "asset", "from_address", "to_address", "amount"
        )
    )


def expected_transfers(blocks: dict[int, dict | None]) -> set[tuple]:
    out = set()
    for slot, raw in blocks.items():
        if raw is None:
            continue
        for tx in parse_block(raw, slot=slot).transactions:
            for t in tx.transfers:
                kind = getattr(t.kind, "value", t.kind)
                out.add((tx.hash, kind, t.index, t.asset, t.from_address, t.to_address, t.amount))
    return out


@pytest.fixture
def blocks() -> dict[int, dict | None]:
    recorded = _result("getBlock_jsonParsed_slot241043141_slice.json")
    assembled = _block_from_txs(
        recorded,
        SLOT,
        [
            "getTransaction_jsonParsed_sol_transfer_2kHbPUGz.json",
            "getTransaction_jsonParsed_usdc_transferChecked_4LXpF3MC.json",
        ],
        seed=7,
    )
    return {SLOT: recorded, SLOT + 1: None, SLOT + 2: assembled}


def test_collected_slots_equal_the_importers_reading_and_record_the_skipped_slot(blocks):
    node = ReplayNode(blocks)
    with serve(node) as url:
        out = collect(url, "--from-block", str(SLOT), "--to-block", str(SLOT + 2))
    assert f"collected sol slots {SLOT}..{SLOT + 2}" in out and "1 skipped slots" in out
    stored = dict(m.Block.objects.filter(chain="sol").values_list("number", "hash"))
    assert stored == {SLOT: blocks[SLOT]["blockhash"], SLOT + 2: blocks[SLOT + 2]["blockhash"]}
    assert m.BlockchainTransaction.objects.filter(blockchain_network="sol").count() == 3
    want = expected_transfers(blocks)
    assert want and stored_transfers() == want
    # the recorded block's only transaction failed: it moved nothing but its fee
    (failed,) = blocks[SLOT]["transactions"]
    sig = failed["transaction"]["signatures"][0]
    tx = m.BlockchainTransaction.objects.get(blockchain_network="sol", transaction_hash=sig)
    assert tx.success is False and tx.fee == failed["meta"]["fee"]
    assert not m.Transfer.objects.filter(tx_hash=sig, amount__gt=0).exists()
    (cp,) = m.CollectionCheckpoint.objects.filter(chain="sol")
    assert (cp.next_block, cp.status, cp.state["skipped_slots"]) == (SLOT + 3, "done", [SLOT + 1])


def test_resume_is_idempotent_and_a_replaced_block_is_rolled_back(blocks):
    node = ReplayNode(blocks)
    with serve(node) as url:
        collect(url, "--from-block", str(SLOT), "--to-block", str(SLOT + 2))
        before = stored_transfers()
        collect(url, "--from-block", str(SLOT), "--to-block", str(SLOT + 2), "--resume")
        assert stored_transfers() == before
        # The node now has another block at SLOT + 2 (one transaction) and a child at SLOT + 3.
        replaced = _block_from_txs(
            blocks[SLOT],
            SLOT,
            ["getTransaction_jsonParsed_nonce_two_sol_transfers_2msqMqeU.json"],
            seed=9,
        )
        child = _block_from_txs(
            replaced, SLOT + 2, ["getTransaction_jsonParsed_sol_transfer_2kHbPUGz.json"], seed=11
        )
        node.blocks.update({SLOT + 2: replaced, SLOT + 3: child})
        out = collect(url, "--from-block", str(SLOT), "--to-block", str(SLOT + 3), "--resume")
    assert "1 re-org(s) rolled back 1 blocks, 2 transactions" in out
    stored = dict(m.Block.objects.filter(chain="sol").values_list("number", "hash"))
    assert stored == {
        SLOT: blocks[SLOT]["blockhash"],
        SLOT + 2: replaced["blockhash"],
        SLOT + 3: child["blockhash"],
    }
    assert stored_transfers() == expected_transfers(
        {SLOT: blocks[SLOT], SLOT + 2: replaced, SLOT + 3: child}
    )
