"""The canonical model's persistence guarantees, on whichever database DATABASE_URL selects."""

from __future__ import annotations

import pytest
from django.db import connection

from data_collection import models as m
from data_collection.storage import store_batch
from fundtrace.core.model import (
    NATIVE,
    UINT256_MAX,
    Batch,
    Block,
    Chain,
    ModelError,
    Transaction,
    Transfer,
    TransferKind,
    TxInput,
    TxOutput,
)

pytestmark = pytest.mark.django_db

ADDR_A = "0x" + "aa" * 20
ADDR_B = "0x" + "bb" * 20
TOKEN = "0x" + "cc" * 20


def eth_tx(hash_: str, amount: int, index: int = 0, block: int = 10) -> Transaction:
    return Transaction(
        chain=Chain.ETH,
        hash=hash_,
        block_number=block,
        tx_index=0,
        timestamp=1_700_000_000,
        fee=21_000 * 10**9,
        fee_payer=ADDR_A,
        to_address=TOKEN,
        value=0,
        transfers=[Transfer(index, TransferKind.TOKEN, TOKEN, ADDR_A, ADDR_B, amount)],
    )


def btc_tx(txid: str, inputs: list[tuple[str, int]], outputs: list[int]) -> Transaction:
    return Transaction(
        chain=Chain.BTC,
        hash=txid,
        block_number=100,
        timestamp=1_600_000_000,
        inputs=[TxInput(i, t, v) for i, (t, v) in enumerate(inputs)],
        outputs=[
            TxOutput(i, value, "pubkeyhash", f"1Addr{txid[:4]}{i}")
            for i, value in enumerate(outputs)
        ],
    )


@pytest.mark.parametrize(
    "value", [0, 1, 2**63 - 1, 2**63, 10**30 + 7, UINT256_MAX - 1, UINT256_MAX]
)
def test_uint256_amounts_round_trip_exactly(value: int) -> None:
    store_batch(Batch(Chain.ETH, transactions=[eth_tx("0x01", value)]))
    stored = m.Transfer.objects.get(tx_hash="0x01")
    assert stored.amount == value
    assert type(stored.amount) is int


def test_uint256_comparisons_are_numeric_not_textual() -> None:
    values = [9, 10, 2**64, UINT256_MAX, 123]
    store_batch(
        Batch(Chain.ETH, transactions=[eth_tx(f"0x{i:02x}", v) for i, v in enumerate(values)])
    )
    ordered = list(m.Transfer.objects.order_by("amount").values_list("amount", flat=True))
    assert ordered == sorted(values)
    assert m.Transfer.objects.filter(amount__gt=10).count() == 3
    assert m.Transfer.objects.filter(amount__gte=2**64).count() == 2


def test_database_column_is_exact_numeric_on_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-specific column type")
    with connection.cursor() as cur:
        cur.execute(
            "select numeric_precision, numeric_scale from information_schema.columns "
            "where table_name = 'data_collection_transfer' and column_name = 'amount'"
        )
        assert cur.fetchone() == (78, 0)


def test_out_of_range_amount_is_rejected_before_anything_is_stored() -> None:
    batch = Batch(Chain.ETH, transactions=[eth_tx("0x01", 5), eth_tx("0x02", UINT256_MAX + 1)])
    with pytest.raises(ModelError, match="outside"):
        store_batch(batch)
    assert m.BlockchainTransaction.objects.count() == 0


def test_reimport_of_the_same_transfer_is_merged_not_doubled() -> None:
    batch = Batch(
        Chain.ETH,
        blocks=[Block(Chain.ETH, 10, "0xblock", 1_700_000_000)],
        transactions=[eth_tx("0x01", 500)],
    )
    store_batch(batch)
    store_batch(batch)
    assert m.Transfer.objects.count() == 1
    assert m.BlockchainTransaction.objects.count() == 1
    assert m.Block.objects.count() == 1
    # A re-import with corrected data updates the one row in place.
    store_batch(Batch(Chain.ETH, transactions=[eth_tx("0x01", 501)]))
    assert list(m.Transfer.objects.values_list("amount", flat=True)) == [501]


def test_same_index_on_other_kind_or_chain_is_a_different_transfer() -> None:
    tx = eth_tx("0x01", 5)
    tx.transfers.append(Transfer(0, TransferKind.NATIVE, NATIVE, ADDR_A, ADDR_B, 7))
    store_batch(Batch(Chain.ETH, transactions=[tx]))
    sol = Transaction(
        Chain.SOL, "0x01", 5, transfers=[Transfer(0, TransferKind.NATIVE, NATIVE, "a", "b", 1)]
    )
    store_batch(Batch(Chain.SOL, transactions=[sol]))
    assert m.Transfer.objects.count() == 3


def test_failed_batch_leaves_earlier_data_untouched() -> None:
    store_batch(Batch(Chain.ETH, transactions=[eth_tx("0x01", 5)]))
    bad = eth_tx("0x02", 6)
    bad.transfers.append(Transfer(0, TransferKind.TOKEN, TOKEN, ADDR_A, ADDR_B, 1))  # duplicate key
    with pytest.raises(ModelError, match="duplicate transfer key"):
        store_batch(Batch(Chain.ETH, transactions=[eth_tx("0x03", 1), bad]))
    assert list(m.BlockchainTransaction.objects.values_list("transaction_hash", flat=True)) == [
        "0x01"
    ]


def test_bitcoin_input_references_the_exact_output_it_spends() -> None:
    funding = btc_tx("f" * 64, [], [1000, 2000, 3000])
    funding.is_coinbase = True
    funding.inputs = [TxInput(0, None, None)]
    spend = btc_tx("e" * 64, [("f" * 64, 1)], [1500, 400])
    store_batch(Batch(Chain.BTC, transactions=[funding, spend]))
    inp = m.TxInput.objects.get(txid="e" * 64, index=0)
    assert inp.spent_output is not None
    assert (inp.spent_output.txid, inp.spent_output.index) == ("f" * 64, 1)
    assert inp.value == 2000
    assert inp.address == funding.outputs[1].address
    assert m.BlockchainTransaction.objects.get(transaction_hash="e" * 64).fee == 100
    assert m.TxOutput.objects.get(txid="f" * 64, index=1).spent_by == inp
    assert not hasattr(m.TxOutput.objects.get(txid="f" * 64, index=0), "spent_by")


def test_input_imported_before_its_output_is_linked_when_the_output_arrives() -> None:
    spend = btc_tx("e" * 64, [("d" * 64, 0)], [900])
    store_batch(Batch(Chain.BTC, transactions=[spend]))
    assert m.TxInput.objects.get(txid="e" * 64).spent_output is None
    assert m.BlockchainTransaction.objects.get(transaction_hash="e" * 64).fee is None
    store_batch(Batch(Chain.BTC, transactions=[btc_tx("d" * 64, [("c" * 64, 5)], [1000])]))
    inp = m.TxInput.objects.get(txid="e" * 64)
    assert (inp.spent_output.txid, inp.spent_output.index, inp.value) == ("d" * 64, 0, 1000)
    assert m.BlockchainTransaction.objects.get(transaction_hash="e" * 64).fee == 100


def test_transaction_level_view_keeps_the_seed_fields_meaningful() -> None:
    store_batch(Batch(Chain.ETH, transactions=[eth_tx("0x01", 5)]))
    row = m.BlockchainTransaction.objects.get()
    assert (row.blockchain_network, row.transaction_hash, row.block_number) == ("eth", "0x01", 10)
    assert (row.from_address, row.to_address, row.amount) == (ADDR_A, TOKEN, 0)
    assert row.timestamp.timestamp() == 1_700_000_000
    spend = btc_tx("e" * 64, [("d" * 64, 0)], [900, 100])
    store_batch(Batch(Chain.BTC, transactions=[spend]))
    row = m.BlockchainTransaction.objects.get(blockchain_network="btc")
    assert row.amount == 1000
    assert row.to_address == spend.outputs[0].address
