"""Store canonical ``Batch`` records idempotently, in one database transaction per batch.

Re-importing the same data updates rows in place (keyed by chain + hash + index) and never
doubles them; a batch that fails half way leaves the database exactly as it was, because the
whole batch runs inside ``transaction.atomic``. Writes are set-based: on PostgreSQL, COPY
(straight into the tables for new transactions, through staging tables and
``INSERT ... SELECT ... ON CONFLICT`` for stored ones; see ``pg_store``); elsewhere, batched
``INSERT ... ON CONFLICT`` through the ORM. ``store_batches`` overlaps encoding the next batch
with writing the current one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction

from data_collection import models as m
from fundtrace.core.model import NATIVE, Batch, Chain, Transaction, TransferKind

BULK = 2000

# Column order of the row tuples ``batch_rows`` produces; both writers use it.
ASSET_COLS = ("chain", "asset_id", "symbol", "name", "decimals")
BLOCK_COLS = ("chain", "number", "hash", "parent_hash", "timestamp", "tx_count", "miner")
TX_COLS = (
    "blockchain_network",
    "transaction_hash",
    "block_number",
    "block_hash",
    "tx_index",
    "timestamp",
    "from_address",
    "to_address",
    "amount",
    "fee",
    "success",
    "is_coinbase",
)
OUTPUT_COLS = ("chain", "txid", "index", "value", "address", "script_type", "script_hex")
INPUT_COLS = ("chain", "txid", "index", "spent_txid", "spent_vout", "value", "address")
TRANSFER_COLS = (
    "chain",
    "tx_hash",
    "kind",
    "index",
    "asset",
    "from_address",
    "to_address",
    "amount",
    "trace_address",
    "block_number",
    "tx_index",
    "timestamp",
)
ADDRESS_COLS = ("chain", "address", "first_seen_block")


@dataclass
class StoreStats:
    blocks: int = 0
    transactions: int = 0
    outputs: int = 0
    inputs: int = 0
    transfers: int = 0
    assets: int = 0
    linked_inputs: int = 0

    def add(self, other: StoreStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def rows(self) -> int:
        return self.blocks + self.transactions + self.outputs + self.inputs + self.transfers


@dataclass
class Rows:
    assets: list[tuple] = field(default_factory=list)
    blocks: list[tuple] = field(default_factory=list)
    txs: list[tuple] = field(default_factory=list)
    outputs: list[tuple] = field(default_factory=list)
    inputs: list[tuple] = field(default_factory=list)
    transfers: list[tuple] = field(default_factory=list)
    addresses: list[tuple] = field(default_factory=list)


def to_datetime(ts: int | None) -> dt.datetime | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, tz=dt.UTC)


def summarize(tx: Transaction) -> tuple[str | None, str | None, int | None]:
    """(from, to, amount) of the transaction-level view; see ``BlockchainTransaction``."""
    if tx.chain.is_utxo:
        sender = tx.inputs[0].address if tx.inputs else None
        receiver = tx.outputs[0].address if tx.outputs else None
        return sender, receiver, tx.output_total()
    if tx.chain is Chain.ETH:
        return tx.fee_payer, tx.to_address, tx.value
    receiver = tx.transfers[0].to_address if tx.transfers else tx.to_address
    outer = sum(
        t.amount for t in tx.transfers if t.asset == NATIVE and t.kind == TransferKind.NATIVE
    )
    return tx.fee_payer, receiver, outer


def batch_rows(batch: Batch) -> Rows:
    """Flatten a batch into row tuples, de-duplicated on each table's natural key."""
    chain = batch.chain.value
    rows = Rows()
    assets = {(a.chain.value, a.asset_id): a for a in batch.assets}
    rows.assets = [(c, i, a.symbol, a.name, a.decimals) for (c, i), a in assets.items()]
    blocks = {b.number: b for b in batch.blocks}
    rows.blocks = [
        (chain, b.number, b.hash, b.parent_hash, to_datetime(b.timestamp), b.tx_count, b.miner)
        for b in blocks.values()
    ]
    first_seen: dict[str, int | None] = {}
    txs = {tx.hash: tx for tx in batch.transactions}  # last one wins within a batch
    for tx in txs.values():
        sender, receiver, amount = summarize(tx)
        ts = to_datetime(tx.timestamp)
        rows.txs.append(
            (
                chain,
                tx.hash,
                tx.block_number,
                tx.block_hash,
                tx.tx_index,
                ts,
                sender,
                receiver,
                amount,
                tx.fee,
                tx.success,
                tx.is_coinbase,
            )
        )
        seen = [tx.fee_payer]
        for o in tx.outputs:
            rows.outputs.append(
                (chain, tx.hash, o.index, o.value, o.address, o.script_type, o.script_hex)
            )
            seen.append(o.address)
        for i in tx.inputs:
            rows.inputs.append(
                (chain, tx.hash, i.index, i.spent_txid, i.spent_vout, i.value, i.address)
            )
            seen.append(i.address)
        for t in tx.transfers:
            rows.transfers.append(
                (
                    chain,
                    tx.hash,
                    t.kind.value,
                    t.index,
                    t.asset,
                    t.from_address,
                    t.to_address,
                    t.amount,
                    t.trace_address,
                    tx.block_number,
                    tx.tx_index,
                    ts,
                )
            )
            seen += [t.from_address, t.to_address]
        for a in seen:
            if a and (a not in first_seen or (tx.block_number or 0) < (first_seen[a] or 0)):
                first_seen[a] = tx.block_number
    rows.addresses = [(chain, a, b) for a, b in first_seen.items()]
    return rows


def store_batch(batch: Batch) -> StoreStats:
    """Upsert everything in ``batch`` atomically and link Bitcoin inputs to their outputs."""
    if connection.vendor == "postgresql":
        return store_batches([batch])
    for tx in batch.transactions:
        tx.validate()
    rows = batch_rows(batch)
    with transaction.atomic():
        linked = _store_rows_orm(rows, batch.chain)
    return StoreStats(
        blocks=len(rows.blocks),
        transactions=len(rows.txs),
        outputs=len(rows.outputs),
        inputs=len(rows.inputs),
        transfers=len(rows.transfers),
        assets=len(rows.assets),
        linked_inputs=linked,
    )


PART = 20_000
"""Transactions per part of a batch on PostgreSQL: the unit of the encode/write pipeline."""


def split_batch(batch: Batch, size: int | None = None) -> list[Batch]:
    """``batch`` as consecutive parts of at most ``size`` transactions, each block and asset
    once (a block with the first part that has one of its transactions; blocks without any,
    and the assets, with the first part)."""
    size = size or PART
    txs = batch.transactions
    if len(txs) <= size:
        return [batch]
    parts = [Batch(batch.chain, transactions=txs[i : i + size]) for i in range(0, len(txs), size)]
    blocks = {b.number: b for b in batch.blocks}
    for part in parts:
        for number in dict.fromkeys(t.block_number for t in part.transactions):
            block = blocks.pop(number, None)
            if block is not None:
                part.blocks.append(block)
    parts[0].blocks += blocks.values()
    parts[0].assets = list(batch.assets)
    return parts


def store_batches(
    batches: Iterable[Batch], on_stored: Callable[[Batch, StoreStats], None] | None = None
) -> StoreStats:
    """``store_batch`` each batch in turn (each atomic on its own); on PostgreSQL as a pipeline.

    A batch is written in parts (``split_batch``) inside its one transaction, and the next part
    (of this batch or the next) is encoded in a worker thread while the database writes the
    current one. The encoding is pure Python and the database wait releases the GIL, so on a
    machine with two cores the client's share of the load time disappears. The next part's
    transaction ids are reserved before the current one is written, so the worker builds the
    complete COPY data and this thread only streams it: Python work here would leave the
    database idle, and with the worker holding the GIL half the time, idle for twice as long.

    Semantics are those of the sequential loop: a batch that fails validation or storage
    raises once every batch before it is stored, and nothing of it or after it is.
    ``on_stored`` hears of each batch once it is committed.
    """
    total = StoreStats()
    if connection.vendor != "postgresql":
        for batch in batches:
            stats = store_batch(batch)
            total.add(stats)
            if on_stored is not None:
                on_stored(batch, stats)
        return total
    from concurrent.futures import ThreadPoolExecutor

    from data_collection.pg_direct import prepare

    parts = ((batch, part) for batch in batches for part in split_batch(batch))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fundtrace-encode") as pool:

        def submit() -> tuple[Batch, Any] | None:
            item = next(parts, None)
            if item is None:
                return None
            batch, part = item
            return batch, pool.submit(prepare, part, _reserve(part))

        ahead = submit()
        while ahead is not None:
            batch = ahead[0]
            stats = StoreStats()
            try:
                with transaction.atomic():
                    while ahead is not None and ahead[0] is batch:
                        prep = ahead[1].result()
                        ahead = submit()
                        stats.add(_stats(_store_direct(prep)))
            except IntegrityError:
                # A transaction of the batch is stored already (a re-import, or another
                # importer meanwhile): the whole batch again, merged on the natural keys.
                while ahead is not None and ahead[0] is batch:
                    ahead[1].result()
                    ahead = submit()
                stats = _store_merged(batch)
            total.add(stats)
            if on_stored is not None:
                on_stored(batch, stats)
    return total


def _reserve(batch: Batch) -> range | None:
    """Transaction ids for ``batch`` (one per transaction, duplicates included: unused ones
    are gaps), or None if there are none to reserve or the range is not contiguous."""
    from data_collection.pg_direct import reserve_ids
    from data_collection.pg_merge import TX

    if not batch.transactions:
        return None
    with connection.cursor() as c:
        return reserve_ids(c, TX, len(batch.transactions))


def _store_direct(prep: Any) -> dict[str, int]:
    """PostgreSQL (``pg_store``): written as if none of its transactions were stored; if one
    is, the COPY hits a unique key (``IntegrityError``)."""
    from data_collection.pg_store import store_prepared

    return store_prepared(prep)


def _store_prepared(prep: Any) -> StoreStats:
    """One prepared batch on its own: straight, or merged if a transaction is stored."""
    try:
        with transaction.atomic():
            return _stats(_store_direct(prep))
    except IntegrityError:
        return _store_merged(prep.batch)


def _store_merged(batch: Batch) -> StoreStats:
    from data_collection.pg_direct import prepare
    from data_collection.pg_store import store_prepared

    with transaction.atomic():
        return _stats(store_prepared(prepare(batch), merge=True))


def _stats(n: dict[str, int]) -> StoreStats:
    return StoreStats(
        blocks=n["block"],
        transactions=n["tx"],
        outputs=n["output"],
        inputs=n["input"],
        transfers=n["transfer"],
        assets=n["asset"],
        linked_inputs=n["linked"],
    )


def _chunks(rows: Sequence, n: int = BULK) -> Iterable[Sequence]:
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def _upsert(model: type, cols: tuple[str, ...], rows: list[tuple], unique: list[str]) -> None:
    update = [c for c in cols if c not in unique]
    for chunk in _chunks(rows):
        objs = [model(**dict(zip(cols, r, strict=True))) for r in chunk]
        if update:
            model.objects.bulk_create(
                objs, update_conflicts=True, unique_fields=unique, update_fields=update
            )
        else:
            model.objects.bulk_create(objs, ignore_conflicts=True)


def _upsert_addresses(rows: list[tuple]) -> None:
    """Keep the earliest first-seen block whatever order imports arrive in (SQLite's scalar
    min() is NULL if either side is, hence the COALESCEs)."""
    table = m.Address._meta.db_table
    sql = (
        f"INSERT INTO {table} (chain, address, first_seen_block) VALUES (%s, %s, %s) "
        "ON CONFLICT (chain, address) DO UPDATE SET first_seen_block = min("
        f"COALESCE({table}.first_seen_block, excluded.first_seen_block), "
        f"COALESCE(excluded.first_seen_block, {table}.first_seen_block))"
    )
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            cursor.executemany(sql, chunk)


def _tx_ids(chain: str, hashes: Iterable[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(set(hashes)), 900):
        ids.update(
            m.BlockchainTransaction.objects.filter(
                blockchain_network=chain, transaction_hash__in=chunk
            ).values_list("transaction_hash", "id")
        )
    return ids


def _with_tx_id(rows: list[tuple], ids: dict[str, int], cols: tuple[str, ...]):
    return [(ids[r[1]], *r) for r in rows], ("transaction_id", *cols)


def _store_rows_orm(rows: Rows, chain: Chain) -> int:
    """SQLite (and any database but PostgreSQL): batched ``INSERT ... ON CONFLICT``."""
    _upsert(m.Asset, ASSET_COLS, rows.assets, ["chain", "asset_id"])
    _upsert(m.Block, BLOCK_COLS, rows.blocks, ["chain", "number"])
    _upsert(m.BlockchainTransaction, TX_COLS, rows.txs, ["blockchain_network", "transaction_hash"])
    ids = _tx_ids(chain.value, (r[1] for r in rows.txs))
    out_rows, out_cols = _with_tx_id(rows.outputs, ids, OUTPUT_COLS)
    _upsert(m.TxOutput, out_cols, out_rows, ["chain", "txid", "index"])
    # A value learnt earlier (e.g. from a verbosity-3 block) must not be wiped by a re-import
    # that lacks it (verbosity 2), so inputs without a value never overwrite value/address.
    in_rows, in_cols = _with_tx_id(rows.inputs, ids, INPUT_COLS)
    key = ["chain", "txid", "index"]
    _upsert(m.TxInput, in_cols, [r for r in in_rows if r[6] is not None], key)
    _upsert(m.TxInput, in_cols[:6], [r[:6] for r in in_rows if r[6] is None], key)
    tr_rows, tr_cols = _with_tx_id(rows.transfers, ids, TRANSFER_COLS)
    _upsert(m.Transfer, tr_cols, tr_rows, ["chain", "tx_hash", "kind", "index"])
    _upsert_addresses(rows.addresses)
    if not chain.is_utxo:
        return 0
    txids = list(ids)
    linked = _link_inputs_sql(chain.value, txids)
    _fill_fees_sql(chain.value, txids)
    return linked


def _temp_keys(cursor, txids: list[str]) -> None:
    cursor.execute("DROP TABLE IF EXISTS temp_batch_txids")
    cursor.execute("CREATE TEMP TABLE temp_batch_txids (txid varchar(100) PRIMARY KEY)")
    for chunk in _chunks(txids, 500):
        cursor.executemany("INSERT INTO temp_batch_txids VALUES (%s)", [(t,) for t in chunk])


def _link_inputs_sql(chain: str, txids: list[str]) -> int:
    """Point each input of, or spending, this batch's transactions at the output it consumes.

    Value and address are copied from the output so the input row is self-contained.
    """
    with connection.cursor() as c:
        _temp_keys(c, txids)
        c.execute(
            """
            UPDATE data_collection_txinput AS i
               SET spent_output_id = o.id, value = o.value, address = o.address
              FROM data_collection_txoutput AS o
             WHERE i.spent_output_id IS NULL
               AND i.chain = %s AND o.chain = i.chain
               AND o.txid = i.spent_txid AND o."index" = i.spent_vout
               AND (i.txid IN (SELECT txid FROM temp_batch_txids)
                    OR i.spent_txid IN (SELECT txid FROM temp_batch_txids))
            """,
            [chain],
        )
        return c.rowcount


FEE_SQL = """
    WITH cand AS (
        SELECT id FROM data_collection_blockchaintransaction
         WHERE blockchain_network = %s AND fee IS NULL AND NOT is_coinbase
           AND transaction_hash IN (
               SELECT txid FROM temp_batch_txids
               UNION
               SELECT txid FROM data_collection_txinput
                WHERE chain = %s AND spent_txid IN (SELECT txid FROM temp_batch_txids))
    ), ins AS (
        SELECT transaction_id, SUM({in_value}) AS total_in, COUNT(*) AS n, COUNT(value) AS known
          FROM data_collection_txinput
         WHERE transaction_id IN (SELECT id FROM cand) GROUP BY transaction_id
    ), outs AS (
        SELECT transaction_id, SUM({out_value}) AS total_out
          FROM data_collection_txoutput
         WHERE transaction_id IN (SELECT id FROM cand) GROUP BY transaction_id
    )
    UPDATE data_collection_blockchaintransaction AS t
       SET fee = {fee}
      FROM ins, outs
     WHERE t.id = ins.transaction_id AND t.id = outs.transaction_id AND ins.n = ins.known
"""


def _fill_fees_sql(chain: str, txids: list[str]) -> None:
    """Bitcoin fee = inputs - outputs once every input value is known.

    SQLite keeps amounts as padded text, so sums there are exact only below 2**63; Bitcoin's
    21e14 satoshi supply is far below that, and the result is stored back padded.
    """
    sql = FEE_SQL.format(
        fee="printf('%%078d', ins.total_in - outs.total_out)",
        in_value="CAST(value AS INTEGER)",
        out_value="CAST(value AS INTEGER)",
    )
    with connection.cursor() as c:
        c.execute(sql, [chain, chain])


def lookup_outputs(chain: Chain, keys: list[tuple[str, int]]) -> dict[tuple[str, int], tuple]:
    """Stored outputs by (txid, vout): (value, address, script_type); for input resolution."""
    found: dict[tuple[str, int], tuple] = {}
    by_tx: dict[str, set[int]] = {}
    for txid, vout in keys:
        by_tx.setdefault(txid, set()).add(vout)
    for chunk in _chunks(sorted(by_tx), 400):
        for txid, idx, value, address, st in m.TxOutput.objects.filter(
            chain=chain.value, txid__in=chunk
        ).values_list("txid", "index", "value", "address", "script_type"):
            if idx in by_tx[txid]:
                found[(txid, idx)] = (value, address, st)
    return found
