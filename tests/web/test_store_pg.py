"""The bulk store (``storage.store_batch`` / ``store_batches``): idempotent, all-or-nothing,
exact, on whichever database DATABASE_URL selects; the PostgreSQL COPY path in particular
(``python -m tests.pg pytest tests/web``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection
from hypothesis import given
from hypothesis import strategies as st

from data_collection import models as m
from data_collection.pg_copy import NULL, bool_col, copy_text, int_col, text_col
from data_collection.storage import store_batch, store_batches
from fundtrace.core.model import (
    UINT256_MAX,
    Asset,
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
from tests.paths import FIXTURES, needs_shared

db = pytest.mark.django_db
BLOCK_279671 = FIXTURES / "btc" / "rpc" / "ordhook" / "279671.json"
TABLES = (m.Block, m.BlockchainTransaction, m.TxOutput, m.TxInput, m.Transfer, m.Asset, m.Address)


def snapshot() -> dict[str, list[tuple]]:
    """Every stored row (ids included), to compare the database before and after."""
    return {
        model.__name__: sorted(tuple(str(v) for v in row) for row in model.objects.values_list())
        for model in TABLES
    }


def row_versions() -> dict[str, list[tuple]]:
    """PostgreSQL row versions: an ``UPDATE`` that rewrites a row changes its ``xmin``."""
    out = {}
    with connection.cursor() as c:
        for model in TABLES:
            c.execute(f"SELECT id, xmin::text FROM {model._meta.db_table} ORDER BY id")
            out[model.__name__] = c.fetchall()
    return out


def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL COPY path")


def coinbase(txid: str, value: int, address: str, block: int = 100) -> Transaction:
    return Transaction(
        Chain.BTC,
        txid,
        block,
        timestamp=1_600_000_000 + block,
        is_coinbase=True,
        fee=0,
        inputs=[TxInput(0, None, None)],
        outputs=[TxOutput(0, value, "pubkeyhash", address)],
    )


def spend(txid: str, prev: str, vout: int, outputs: list[int], block: int = 100) -> Transaction:
    return Transaction(
        Chain.BTC,
        txid,
        block,
        timestamp=1_600_000_000 + block,
        inputs=[TxInput(0, prev, vout)],
        outputs=[
            TxOutput(i, v, "witness_v0_keyhash", f"bc1q{txid[:6]}{i}")
            for i, v in enumerate(outputs)
        ],
    )


def h(n: int) -> str:
    return f"{n:064x}"


def eth_transfer_tx(hash_: str, amount: int, block: int = 7) -> Transaction:
    a, b = "0x" + "aa" * 20, "0x" + "bb" * 20
    return Transaction(
        Chain.ETH,
        hash_,
        block,
        tx_index=3,
        timestamp=1_700_000_000,
        fee=21_000,
        fee_payer=a,
        to_address=b,
        value=amount,
        transfers=[Transfer(0, TransferKind.NATIVE, "native", a, b, amount, trace_address="")],
    )


# --- COPY text encoding (pure) ---------------------------------------------------------------


def decode_field(field: str) -> str | None:
    """PostgreSQL's reading of one COPY text field (the escapes ``pg_copy`` writes)."""
    if field == NULL:
        return None
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\":
            out.append({"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}[field[i + 1]])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=30))
def test_text_columns_survive_the_copy_format_exactly(values: list[str | None]) -> None:
    text = copy_text([text_col(values), int_col(list(range(len(values))))])
    lines = text.split("\n")
    assert lines.pop() == ""  # every row ends with a newline, and no value adds one
    assert len(lines) == len(values)
    decoded = [decode_field(line.split("\t")[0]) for line in lines]
    assert decoded == values  # None stays NULL, "" stays an empty string


def test_integer_columns_are_exact_decimal_at_uint256_width() -> None:
    assert int_col([0, UINT256_MAX, None, 2**63]) == [
        "0",
        "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        NULL,
        "9223372036854775808",
    ]
    assert int_col([True, False]) == ["1", "0"]  # a bool never becomes the word "True"
    assert bool_col([True, False, None]) == ["t", "f", NULL]


def test_columns_of_unequal_length_are_refused() -> None:
    with pytest.raises(ValueError):
        copy_text([["a", "b"], ["1"]])


# --- storing ---------------------------------------------------------------------------------


@db
def test_links_fees_and_uint256_amounts_are_stored_exactly() -> None:
    big = UINT256_MAX - 12345
    batch = Batch(
        Chain.BTC,
        blocks=[Block(Chain.BTC, 100, h(999), 1_600_000_100)],
        transactions=[
            coinbase(h(1), 5_000_000_000, "1Miner"),
            spend(h(2), h(1), 0, [4_000, 999_990_000]),
        ],
    )
    stats = store_batch(batch)
    assert (stats.transactions, stats.outputs, stats.inputs, stats.linked_inputs) == (2, 3, 2, 1)
    inp = m.TxInput.objects.get(txid=h(2))
    assert (inp.spent_output.txid, inp.spent_output.index, inp.value) == (h(1), 0, 5_000_000_000)
    assert inp.address == "1Miner"
    fee = m.BlockchainTransaction.objects.get(transaction_hash=h(2)).fee
    assert fee == 5_000_000_000 - 4_000 - 999_990_000
    store_batch(Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", big)]))
    row = m.Transfer.objects.get(tx_hash="0x01")
    assert row.amount == big and type(row.amount) is int
    assert (row.block_number, row.tx_index, row.timestamp.timestamp()) == (7, 3, 1_700_000_000)
    assert row.transaction.transaction_hash == "0x01"


@db
def test_reimport_stores_nothing_twice_and_rewrites_no_row() -> None:
    batch = Batch(
        Chain.BTC,
        blocks=[Block(Chain.BTC, 100, h(999), 1_600_000_100)],
        transactions=[coinbase(h(1), 50, "1Miner"), spend(h(2), h(1), 0, [20, 25])],
    )
    store_batch(batch)
    store_batch(Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", 5)]))
    before = snapshot()
    store_batch(batch)
    store_batch(Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", 5)]))
    assert snapshot() == before
    if connection.vendor == "postgresql":
        versions = row_versions()
        store_batch(batch)
        assert row_versions() == versions  # identical data leaves every row as it was


@db
def test_partly_stored_batch_merges_changed_rows_and_adds_new_ones() -> None:
    store_batch(Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", 5)]))
    store_batch(
        Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", 6), eth_transfer_tx("0x02", 7)])
    )
    got = dict(m.Transfer.objects.values_list("tx_hash", "amount"))
    assert got == {"0x01": 6, "0x02": 7}
    assert m.BlockchainTransaction.objects.count() == 2


@db
def test_failing_batch_leaves_the_database_exactly_as_it_was() -> None:
    store_batch(
        Batch(Chain.BTC, transactions=[coinbase(h(1), 50, "1Miner"), spend(h(2), h(1), 0, [40])])
    )
    before = snapshot()
    # h(3) spends the output h(2) already spent: the database refuses the double spend after
    # the new transactions and outputs were written, and all of it is rolled back.
    double = Batch(
        Chain.BTC,
        transactions=[
            coinbase(h(4), 50, "1Other", block=101),
            spend(h(3), h(1), 0, [30], block=101),
        ],
    )
    with pytest.raises(IntegrityError):
        store_batch(double)
    assert snapshot() == before
    if connection.vendor != "postgresql":
        return  # SQLite does not enforce varchar lengths
    too_long = eth_transfer_tx("0x09", 1)
    too_long.transfers[0].to_address = "0x" + "c" * 200  # longer than the column allows
    with pytest.raises(DataError, match="too long"):
        store_batch(Batch(Chain.ETH, transactions=[eth_transfer_tx("0x08", 1), too_long]))
    assert snapshot() == before


@db
def test_input_stored_before_its_output_is_linked_by_a_later_batch() -> None:
    store_batch(Batch(Chain.BTC, transactions=[spend(h(2), h(1), 0, [40])]))
    assert m.TxInput.objects.get(txid=h(2)).spent_output is None
    stats = store_batch(Batch(Chain.BTC, transactions=[coinbase(h(1), 50, "1Miner")]))
    assert stats.linked_inputs == 1
    inp = m.TxInput.objects.get(txid=h(2))
    assert (inp.spent_output.txid, inp.value, inp.address) == (h(1), 50, "1Miner")
    assert m.BlockchainTransaction.objects.get(transaction_hash=h(2)).fee == 10


@db
def test_escaped_strings_and_empty_strings_round_trip() -> None:
    name = 'Tab\there, back\\slash, new\nline, cr\r, quote "'
    store_batch(
        Batch(
            Chain.ETH,
            transactions=[eth_transfer_tx("0x01", 1)],
            assets=[Asset(Chain.ETH, "0x" + "cc" * 20, symbol="", decimals=0, name=name)],
        )
    )
    asset = m.Asset.objects.get()
    assert (asset.symbol, asset.name, asset.decimals) == ("", name, 0)
    assert m.Transfer.objects.get().trace_address == ""


@db
def test_pipelined_store_matches_sequential_semantics() -> None:
    good = Batch(Chain.BTC, transactions=[coinbase(h(1), 50, "1Miner")])
    later = Batch(Chain.BTC, transactions=[spend(h(2), h(1), 0, [45], block=101)])
    bad = Batch(Chain.BTC, transactions=[spend(h(3), h(2), 0, [99], block=102)])
    bad.transactions[0].inputs[0].value = 45  # outputs exceed inputs
    never = Batch(Chain.BTC, transactions=[coinbase(h(4), 50, "1Late", block=103)])
    with pytest.raises(ModelError, match="outputs exceed inputs"):
        store_batches([good, later, bad, never])
    stored = set(m.BlockchainTransaction.objects.values_list("transaction_hash", flat=True))
    assert stored == {h(1), h(2)}
    assert m.TxInput.objects.get(txid=h(2)).spent_output.txid == h(1)
    # re-stored (1 tx, 1 output, 1 input each), still counted, nothing doubled
    assert store_batches([good, later]).rows == 6
    assert m.TxOutput.objects.count() == 2


@db
def test_batch_racing_another_importer_is_merged_not_doubled() -> None:
    """The next batch is encoded, its ids reserved, while another importer stores one of its
    transactions: the direct COPY hits the unique key, and the batch is merged instead."""
    postgres_only()
    from data_collection.pg_direct import prepare
    from data_collection.storage import _reserve, _store_prepared

    batch = Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", 6), eth_transfer_tx("0x02", 1)])
    prep = prepare(batch, _reserve(batch))
    assert prep.ids is not None and prep.data["tx"]
    store_batch(Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", 5)]))  # the other one
    stored_id = m.BlockchainTransaction.objects.get(transaction_hash="0x01").id
    assert stored_id not in prep.ids  # ids were reserved first, never handed out twice
    stats = _store_prepared(prep)
    assert (stats.transactions, stats.transfers) == (2, 2)
    assert dict(m.Transfer.objects.values_list("tx_hash", "amount")) == {"0x01": 6, "0x02": 1}
    assert m.BlockchainTransaction.objects.get(transaction_hash="0x01").id == stored_id
    assert m.BlockchainTransaction.objects.count() == 2


@db
def test_pipelined_reimport_of_stored_batches_rewrites_no_row_and_uses_fresh_ids() -> None:
    """Every batch tries the direct COPY first; stored ones fall back to merging, whose rows
    keep their ids and versions, and a fresh batch after them is stored straight."""
    postgres_only()
    first = Batch(
        Chain.BTC,
        blocks=[Block(Chain.BTC, 100, h(999), 1_600_000_100)],
        transactions=[coinbase(h(1), 50, "1Miner"), spend(h(2), h(1), 0, [20, 25])],
    )
    second = Batch(Chain.BTC, transactions=[spend(h(3), h(2), 1, [24], block=101)])
    store_batches([first, second])
    before, versions = snapshot(), row_versions()
    fresh = Batch(Chain.BTC, transactions=[spend(h(4), h(3), 0, [23], block=102)])
    stats = store_batches([first, second, fresh])
    # counted as written, but only the fresh input is newly linked
    assert (stats.transactions, stats.inputs, stats.linked_inputs) == (4, 4, 1)
    after = row_versions()
    for table, rows in versions.items():
        assert after[table][: len(rows)] == rows, table  # stored rows untouched
    assert len(after["BlockchainTransaction"]) == 4 and len(after["TxInput"]) == 4
    # the fresh transaction got an id above every stored one (reserved, not reused)
    new_id = m.BlockchainTransaction.objects.get(transaction_hash=h(4)).id
    assert new_id > max(r[0] for r in versions["BlockchainTransaction"])
    assert m.TxInput.objects.get(txid=h(4)).spent_output.txid == h(3)
    assert m.BlockchainTransaction.objects.get(transaction_hash=h(4)).fee == 1
    now = snapshot()
    assert all(set(rows) <= set(now[table]) for table, rows in before.items())


@db
def test_ids_not_contiguous_are_not_used_and_the_batch_is_still_stored() -> None:
    postgres_only()
    from data_collection import pg_direct
    from data_collection.storage import _store_prepared

    batch = Batch(Chain.ETH, transactions=[eth_transfer_tx("0x01", 5)])
    prep = pg_direct.prepare(batch)
    assert prep.ids is None and not prep.data  # no ids: encoded once they are reserved
    with pytest.raises(ValueError):
        pg_direct.prepare(
            Batch(Chain.ETH, transactions=[eth_transfer_tx("0x02", 1), eth_transfer_tx("0x03", 1)]),
            range(1, 2),
        )
    real = pg_direct.reserve_ids

    def split(cursor, table, n):  # as if another session took ids in between
        real(cursor, table, n)
        return None

    pg_direct.reserve_ids = split
    try:
        stats = _store_prepared(prep)
    finally:
        pg_direct.reserve_ids = real
    assert stats.transactions == 1
    assert m.Transfer.objects.get().amount == 5


# --- real data -------------------------------------------------------------------------------


def block_279671() -> Batch:
    from fundtrace.chains.btc.core_rpc import parse_getblock

    return parse_getblock(json.loads(BLOCK_279671.read_text(), parse_float=Decimal))


def fees_and_links() -> tuple[dict[str, int | None], set[tuple[str, str, int]]]:
    fees = dict(m.BlockchainTransaction.objects.values_list("transaction_hash", "fee"))
    links = set(
        m.TxInput.objects.filter(spent_output__isnull=False).values_list(
            "txid", "spent_output__txid", "spent_output__index"
        )
    )
    return fees, links


@needs_shared
@db
def test_block_279671_split_in_two_batches_stores_what_one_batch_stores() -> None:
    """Later transactions first: their inputs spend outputs stored only by the next batch."""
    whole = block_279671()
    store_batch(whole)
    fees, links = fees_and_links()
    coinbase_out = m.TxOutput.objects.filter(transaction__is_coinbase=True).values_list(
        "value", flat=True
    )
    assert sum(coinbase_out) == 2_505_047_000  # PROVENANCE: subsidy 25 BTC + fees of 217 txs
    paid = [fees[tx.hash] for tx in whole.transactions if not tx.is_coinbase]
    assert len(fees) == 217 and len(paid) == 216
    assert sum(paid) == 5_047_000
    for model in (m.Transfer, m.TxInput, m.TxOutput, m.BlockchainTransaction, m.Block, m.Address):
        model.objects.all().delete()
    half = len(whole.transactions) // 2
    late = Batch(Chain.BTC, blocks=whole.blocks, transactions=whole.transactions[half:])
    early = Batch(Chain.BTC, blocks=whole.blocks, transactions=whole.transactions[:half])
    store_batches([late, early])
    assert fees_and_links() == (fees, links)
    before = snapshot()
    store_batches([early, late, whole])  # every path again: nothing doubles, nothing changes
    assert snapshot() == before


@db
@pytest.mark.parametrize("order", [(10, 5, 20), (20, 10, 5), (5, 20, 10)])
def test_first_seen_block_is_the_earliest_whatever_the_import_order(order: tuple) -> None:
    who = "0x" + "ab" * 20

    def tx(block: int) -> Batch:
        t = Transaction(
            chain=Chain.ETH,
            hash="0x" + f"{block:064x}",
            block_number=block,
            tx_index=0,
            fee=0,
            fee_payer=who,
            transfers=[Transfer(0, TransferKind.NATIVE, "native", who, "0x" + "cd" * 20, 1)],
        )
        return Batch(Chain.ETH, transactions=[t])

    for block in order:
        store_batch(tx(block))
    got = dict(m.Address.objects.filter(chain="eth").values_list("address", "first_seen_block"))
    assert got == {who: 5, "0x" + "cd" * 20: 5}


# --- a batch written in parts, in one transaction ---------------------------------------------


def chain_of_spends(n: int, first_block: int = 100) -> Batch:
    """A coinbase, then n-1 transactions each spending the one before (two per block), plus
    an empty block and an asset: parts must carry each exactly once."""
    txs = [coinbase(h(1), 50_000, "1Miner", block=first_block)]
    for k in range(2, n + 1):
        txs.append(spend(h(k), h(k - 1), 0, [50_000 - 10 * (k - 1)], block=first_block + k // 2))
    numbers = [*sorted({t.block_number for t in txs}), first_block + n]  # the last one empty
    blocks = [Block(Chain.BTC, b, h(10_000 + b), 1_600_000_000 + b) for b in numbers]
    return Batch(Chain.BTC, blocks=blocks, transactions=txs, assets=[Asset.native(Chain.BTC)])


def test_split_batch_keeps_order_and_carries_each_block_and_asset_once() -> None:
    from data_collection.storage import split_batch

    batch = chain_of_spends(7)
    parts = split_batch(batch, 3)
    assert [len(p.transactions) for p in parts] == [3, 3, 1]
    assert [t for p in parts for t in p.transactions] == batch.transactions
    numbers = [b.number for p in parts for b in p.blocks]
    assert sorted(numbers) == sorted(b.number for b in batch.blocks)  # each once
    for p in parts[1:]:
        assert not p.assets and {b.number for b in p.blocks} <= {
            t.block_number for t in p.transactions
        }
    assert parts[0].assets == batch.assets and 107 in {b.number for b in parts[0].blocks}
    assert split_batch(batch, 7) == [batch]


@db
def test_a_batch_in_parts_is_stored_whole_with_spends_across_parts_linked(monkeypatch) -> None:
    postgres_only()
    from data_collection import storage

    monkeypatch.setattr(storage, "PART", 2)
    batch = chain_of_spends(7)
    stats = store_batches([batch])
    assert (stats.transactions, stats.blocks, stats.inputs) == (7, 5, 7)
    assert stats.linked_inputs == 6  # every spend, across parts too
    fees = dict(m.BlockchainTransaction.objects.values_list("transaction_hash", "fee"))
    assert all(int(fees[h(k)]) == 10 for k in range(2, 8))
    assert m.Block.objects.count() == 5


@db
def test_a_part_failing_leaves_nothing_of_its_batch_and_the_batch_before_stays(
    monkeypatch,
) -> None:
    postgres_only()
    from data_collection import storage

    monkeypatch.setattr(storage, "PART", 2)
    before = Batch(Chain.BTC, transactions=[coinbase(h(500), 7, "1Other", block=90)])
    bad = chain_of_spends(7)
    bad.transactions[5].outputs[0].value = -1  # refused when its part is encoded
    after = Batch(Chain.BTC, transactions=[coinbase(h(600), 7, "1Later", block=99)])
    with pytest.raises(Exception, match="output 0"):
        store_batches([before, bad, after])
    assert set(m.BlockchainTransaction.objects.values_list("transaction_hash", flat=True)) == {
        h(500)
    }
    assert not m.TxOutput.objects.filter(txid=h(1)).exists()


@db
def test_a_batch_in_parts_stored_again_is_merged_without_rewriting_rows(monkeypatch) -> None:
    postgres_only()
    from data_collection import storage

    monkeypatch.setattr(storage, "PART", 2)
    batch = chain_of_spends(7)
    store_batches([batch])
    versions = row_versions()
    stats = store_batches([batch])
    assert (stats.transactions, stats.inputs) == (7, 7)
    assert row_versions() == versions  # nothing doubled, nothing rewritten
