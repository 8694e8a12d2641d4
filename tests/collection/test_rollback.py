"""Rollback of stale blocks: everything derived goes, inputs elsewhere are unlinked, and range
checkpoints are pulled back to the fork point, in one transaction (no nodes needed)."""

from __future__ import annotations

import pytest

from data_collection import models as m
from data_collection.collector import DjangoCollectionStore
from data_collection.storage import store_batch
from fundtrace.collection.checkpoint import Checkpoint
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


def h(n: int) -> str:
    return f"{n:064x}"


def btc_block(number: int, txs: list[Transaction]) -> Batch:
    block = Block(Chain.BTC, number, h(1000 + number), 1_700_000_000 + number, h(999 + number))
    for i, tx in enumerate(txs):
        tx.block_number, tx.block_hash, tx.tx_index = number, block.hash, i
    return Batch(Chain.BTC, blocks=[block], transactions=txs)


def coinbase(txid: str, value: int, address: str) -> Transaction:
    return Transaction(
        Chain.BTC,
        txid,
        None,
        is_coinbase=True,
        fee=0,
        inputs=[TxInput(0, None, None)],
        outputs=[TxOutput(0, value, "witness_v0_keyhash", address)],
    )


def spend(txid: str, spent: str, value: int, out_value: int) -> Transaction:
    return Transaction(
        Chain.BTC,
        txid,
        None,
        inputs=[TxInput(0, spent, 0, value=value, address="addr-a")],
        outputs=[TxOutput(0, out_value, "witness_v0_keyhash", "addr-b")],
    )


@pytest.mark.django_db(transaction=True)
def test_rollback_removes_derived_rows_and_unlinks_spenders():
    store_batch(btc_block(1, [coinbase(h(1), 5000, "addr-a")]))
    store_batch(btc_block(2, [coinbase(h(2), 5000, "addr-m"), spend(h(3), h(1), 5000, 4900)]))
    store_batch(btc_block(3, [coinbase(h(4), 5000, "addr-m"), spend(h(5), h(3), 4900, 4800)]))
    # A transaction known without a block (address-first, mempool) spends a stale output.
    store_batch(Batch(Chain.BTC, transactions=[spend(h(6), h(5), 4800, 4700)]))
    assert m.TxInput.objects.get(txid=h(6)).spent_output.txid == h(5)
    store = DjangoCollectionStore()
    for job, nxt in (("blocks:0-3", 4), ("blocks:3-9", 3), ("blocks:0-1", 2)):
        store.save_checkpoint(Checkpoint(Chain.BTC, job, next_block=nxt))

    counts = store.rollback_above(Chain.BTC, 1)

    assert (counts.blocks, counts.transactions, counts.outputs, counts.inputs) == (2, 4, 4, 4)
    assert counts.unlinked_inputs == 1
    assert list(m.Block.objects.values_list("number", flat=True)) == [1]
    assert set(m.BlockchainTransaction.objects.values_list("transaction_hash", flat=True)) == {
        h(1),
        h(6),
    }
    orphan = m.TxInput.objects.get(txid=h(6))
    assert orphan.spent_output is None and orphan.value == 4800  # its own fact stays
    # The output block 2 spent is unspent again; its spender is gone.
    assert not m.TxInput.objects.filter(spent_txid=h(1)).exists()
    assert m.TxOutput.objects.filter(txid=h(1)).count() == 1
    cps = dict(m.CollectionCheckpoint.objects.values_list("job", "next_block"))
    assert cps == {"blocks:0-3": 2, "blocks:3-9": 2, "blocks:0-1": 2}


@pytest.mark.django_db(transaction=True)
def test_rollback_removes_account_chain_transfers():
    tx = Transaction(
        Chain.ETH,
        "0x" + h(7),
        5,
        block_hash="0x" + h(8),
        tx_index=0,
        fee=21000,
        fee_payer="0xaa",
        to_address="0xbb",
        value=10,
        transfers=[Transfer(0, TransferKind.NATIVE, "native", "0xaa", "0xbb", 10)],
    )
    store_batch(
        Batch(
            Chain.ETH, blocks=[Block(Chain.ETH, 5, "0x" + h(8), 1, "0x" + h(9))], transactions=[tx]
        )
    )
    counts = DjangoCollectionStore().rollback_above(Chain.ETH, 4)
    assert (counts.blocks, counts.transactions, counts.transfers) == (1, 1, 1)
    assert not m.Transfer.objects.exists() and not m.BlockchainTransaction.objects.exists()
