"""Fresh batches on PostgreSQL: COPY straight into the target tables.

When none of a batch's transactions is stored yet, none of its outputs, inputs or transfers
can be either, since each of those rows belongs to its transaction. Then there is nothing to
merge, and staging every row only to copy it again cost about as much as the insert itself.
Instead the batch reserves its transaction ids from the table's own sequence and COPYs
transactions, outputs and transfers into place with their foreign keys already set. Inputs
still go through a staging table, because linking them to the outputs they spend (stored
earlier or in this batch) is a join the database does best. Blocks, assets and addresses are
few and may exist already, so they are merged as before.

No query asks first whether the batch is new: the COPY into the transaction table is the
check. A stored transaction fails it on the unique key, the batch rolls back, and ``storage``
stores it again in merge mode. Fresh batches, the bulk of any import, so save a probe of the
unique index per transaction; a re-imported batch pays for one failed COPY.

Ids come from ``nextval`` on the real sequences, so concurrent writers never collide; if the
reserved ids are not one contiguous range (another session took ids meanwhile) the batch is
stored through the merge path instead. ``store_batches`` reserves the next batch's ids before
writing the current one, so the COPY text, ids included, is built by the encoding thread and
the database never waits for Python between statements. Sequences are not transactional: ids
of a batch that is rolled back or merged instead are simply never used (gaps are harmless).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from data_collection import pg_merge as pm
from data_collection.pg_copy import copy_in
from data_collection.pg_rows import (
    StageText,
    input_columns,
    output_columns,
    stage_text,
    timestamptz_col,
    transfer_columns,
    tx_columns,
    unique_transactions,
)
from fundtrace.core.model import Batch, Transaction

# COPY column order: the reserved transaction id first, then what ``prepare`` encoded.
TX_COLS = (
    "id",
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
OUTPUT_COLS = (
    "transaction_id",
    "chain",
    "txid",
    "index",
    "value",
    "address",
    "script_type",
    "script_hex",
)
TRANSFER_COLS = (
    "transaction_id",
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

# OFFSET 0 keeps the sequence lookup from being inlined into nextval() and run once per id.
RESERVE_SQL = """
    SELECT min(v), max(v) FROM (
        SELECT nextval(s.seq) AS v
          FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq OFFSET 0) AS s,
               generate_series(1, %s)
    ) AS ids"""

INPUT_SQL = f"""
    WITH w AS (
        INSERT INTO {pm.INPUT} (transaction_id, chain, txid, "index", spent_txid, spent_vout,
                                spent_output_id, value, address)
        SELECT s.transaction_id, %(chain)s, s.txid, s.idx, s.spent_txid, s.spent_vout, o.id,
               CASE WHEN o.id IS NULL THEN s.value ELSE o.value END,
               CASE WHEN o.id IS NULL THEN s.address ELSE o.address END
          FROM {pm.stage_name("input_ids")} AS s
          LEFT JOIN LATERAL ({pm.SPENT_OUTPUT}) AS o ON true
        RETURNING spent_output_id)
    SELECT count(spent_output_id) FROM w"""

# Inputs stored by earlier batches that spend an output of this one.
LINK_EARLIER_SQL = pm.link_earlier_sql(
    f"SELECT transaction_hash AS hash FROM {pm.TX} WHERE id BETWEEN %(lo)s AND %(hi)s"
)

# This batch's transactions without a fee, and those whose inputs were just linked.
FEE_CANDIDATES = f"""
    SELECT t.id FROM {pm.TX} AS t
     WHERE (t.id BETWEEN %(lo)s AND %(hi)s
            OR t.id IN (SELECT transaction_id FROM {pm.stage_name("linked")}))
       AND t.fee IS NULL AND NOT t.is_coinbase"""


@dataclass
class Prepared:
    """Everything about a batch that needs no database: rows as COPY lines without their
    transaction ids (known only once reserved), and for each child row the position of its
    transaction in ``txs``. Built by ``prepare``, possibly in another thread."""

    batch: Batch
    txs: list[Transaction]
    side: StageText
    tx_rows: list[str]
    outputs: list[str]
    output_tx: list[int]
    inputs: list[str]
    input_tx: list[int]
    transfers: list[str]
    transfer_tx: list[int]
    fee_unknown: bool
    # Reserved transaction ids (the first ``len(txs)`` are used) and the COPY data per table
    # with those ids in place; both empty until ``encode`` ran.
    ids: range | None = None
    data: dict[str, bytes] = field(default_factory=dict)


def _lines(columns: list[list[str]]) -> list[str]:
    return list(map("\t".join, zip(*columns, strict=True))) if columns[0] else []


def _owners(txs: list[Transaction], attr: str) -> list[int]:
    return [k for k, tx in enumerate(txs) for _ in getattr(tx, attr)]


def prepare(batch: Batch, ids: range | None = None) -> Prepared:
    """Validate ``batch`` and encode its rows (pure Python; raises ``ModelError``); with
    ``ids`` reserved for it (``reserve_ids``), also the COPY data (see ``encode``)."""
    for tx in batch.transactions:
        tx.validate()
    chain = batch.chain.value
    txs = unique_transactions(batch)
    txc = tx_columns(txs, timestamps=timestamptz_col)
    transfer_tx = _owners(txs, "transfers")
    transfers = transfer_columns(txs)
    if transfer_tx:
        # a transfer carries its transaction's block, position and time
        per_tx = [[c[k] for k in transfer_tx] for c in (txc[1], txc[3], txc[4])]
        transfers = [[chain] * len(transfer_tx), *transfers, *per_tx]
    n_out = sum(len(tx.outputs) for tx in txs)
    prep = Prepared(
        batch=batch,
        txs=txs,
        side=stage_text(batch, side=True),
        tx_rows=_lines([[chain] * len(txs), *txc]),
        outputs=_lines([[chain] * n_out, *output_columns(txs)]),
        output_tx=_owners(txs, "outputs"),
        inputs=_lines(input_columns(txs)),
        input_tx=_owners(txs, "inputs"),
        transfers=_lines(transfers),
        transfer_tx=transfer_tx,
        fee_unknown=batch.chain.is_utxo
        and any(tx.fee is None and not tx.is_coinbase for tx in txs),
    )
    if ids is not None:
        encode(prep, ids)
    return prep


def encode(prep: Prepared, ids: range) -> None:
    """Put the transaction ids ``ids`` (at least one per transaction) into the COPY data."""
    if len(ids) < len(prep.txs):
        raise ValueError(f"{len(ids)} ids reserved for {len(prep.txs)} transactions")
    text = list(map(str, ids[: len(prep.txs)]))
    prep.ids = ids
    prep.data = {
        "tx": _with_ids(text, prep.tx_rows),
        "output": _with_ids([text[k] for k in prep.output_tx], prep.outputs),
        "input": _with_ids([text[k] for k in prep.input_tx], prep.inputs),
        "transfer": _with_ids([text[k] for k in prep.transfer_tx], prep.transfers),
    }


def reserve_ids(cursor: Any, table: str, n: int) -> range | None:
    """``n`` fresh ids of ``table``, or None when they are not one contiguous range."""
    cursor.execute(RESERVE_SQL, [table, n])
    lo, hi = cursor.fetchone()
    return range(lo, hi + 1) if hi - lo + 1 == n else None


def _with_ids(ids: list[str], rows: list[str]) -> bytes:
    if not rows:
        return b""
    return ("\n".join(map("\t".join, zip(ids, rows, strict=True))) + "\n").encode()


def write(cursor: Any, prep: Prepared) -> dict[str, int] | None:
    """COPY the prepared transactions, none of which may be stored yet (a stored one fails
    the COPY with ``IntegrityError``); returns row counts and ``linked`` inputs, or None,
    having written nothing, when the reserved ids are not contiguous."""
    chain = prep.batch.chain.value
    if prep.ids is None:
        ids = reserve_ids(cursor, pm.TX, len(prep.txs))
        if ids is None:
            return None
        encode(prep, ids)
    lo = prep.ids.start
    p = {"chain": chain, "lo": lo, "hi": lo + len(prep.txs) - 1}
    copy_in(cursor, pm.TX, TX_COLS, prep.data["tx"])
    if prep.outputs:
        copy_in(cursor, pm.OUTPUT, OUTPUT_COLS, prep.data["output"])
    linked = 0
    if prep.inputs:
        names = [c for c, _ in pm.STAGES["input_ids"]]
        copy_in(cursor, pm.stage_name("input_ids"), names, prep.data["input"])
        cursor.execute(INPUT_SQL, p)
        linked += cursor.fetchone()[0]
    earlier = 0
    if prep.outputs:
        cursor.execute(LINK_EARLIER_SQL, p)
        earlier = cursor.rowcount
    # Fees the source gave are final; a fee is computed here only for a transaction without
    # one (its inputs may just have been linked) or one whose inputs an earlier batch stored.
    if prep.fee_unknown:
        cursor.execute(pm.fee_sql(FEE_CANDIDATES), p)
    elif earlier:
        cursor.execute(pm.fee_sql(pm.LINKED_FEE_CANDIDATES), p)
    if prep.transfers:
        copy_in(cursor, pm.TRANSFER, TRANSFER_COLS, prep.data["transfer"])
    pm.merge_side_tables(cursor, prep.side, chain)
    return {
        "tx": len(prep.txs),
        "output": len(prep.outputs),
        "input": len(prep.inputs),
        "transfer": len(prep.transfers),
        "linked": linked + earlier,
        **{k: prep.side.rows[k] for k in ("asset", "block", "address")},
    }
