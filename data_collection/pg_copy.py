"""PostgreSQL bulk path: COPY into staging tables, then set-based upserts.

Row-by-row INSERTs cap out at a few thousand rows/s; COPY streams rows in the wire format and
one ``INSERT ... SELECT ... ON CONFLICT`` per table merges them, so a batch costs a handful of
round trips whatever its size. Semantics match the ORM path in ``storage`` exactly (same
natural keys, same "never wipe a known input value" rule).
"""

from __future__ import annotations

from django.db import connection

from data_collection import storage as s
from fundtrace.core.model import Chain

TABLE = {
    "asset": "data_collection_asset",
    "block": "data_collection_block",
    "tx": "data_collection_blockchaintransaction",
    "output": "data_collection_txoutput",
    "input": "data_collection_txinput",
    "transfer": "data_collection_transfer",
    "address": "data_collection_address",
}


def _q(col: str) -> str:
    return f'"{col}"'


def _stage(cursor, name: str, cols: tuple[str, ...], rows: list[tuple]) -> str:
    stage = f"stage_{name}"
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(
        f"CREATE TEMP TABLE {stage} AS SELECT {', '.join(map(_q, cols))} "
        f"FROM {TABLE[name]} WITH NO DATA"
    )
    raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
    with raw.copy(f"COPY {stage} ({', '.join(map(_q, cols))}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return stage


def _merge(
    cursor,
    name: str,
    cols: tuple[str, ...],
    rows: list[tuple],
    key: tuple[str, ...],
    *,
    join_tx: bool = False,
    updates: dict[str, str] | None = None,
) -> None:
    if not rows:
        return
    stage = _stage(cursor, name, cols, rows)
    select_cols = [f"s.{_q(c)}" for c in cols]
    insert_cols = list(map(_q, cols))
    source = f"{stage} AS s"
    if join_tx:
        hash_col = "tx_hash" if "tx_hash" in cols else "txid"
        insert_cols.insert(0, '"transaction_id"')
        select_cols.insert(0, "t.id")
        source += (
            f" JOIN {TABLE['tx']} AS t ON t.blockchain_network = s.chain"
            f" AND t.transaction_hash = s.{hash_col}"
        )
    sets = {c: f"EXCLUDED.{_q(c)}" for c in cols if c not in key}
    if join_tx:
        sets["transaction_id"] = "EXCLUDED.transaction_id"
    sets.update(updates or {})
    action = (
        "DO UPDATE SET " + ", ".join(f"{_q(c)} = {v}" for c, v in sets.items())
        if sets
        else "DO NOTHING"
    )
    cursor.execute(
        f"INSERT INTO {TABLE[name]} ({', '.join(insert_cols)}) "
        f"SELECT {', '.join(select_cols)} FROM {source} "
        f"ON CONFLICT ({', '.join(map(_q, key))}) {action}"
    )


def store_rows_postgres(rows: s.Rows, chain: Chain) -> int:
    with connection.cursor() as c:
        _merge(c, "asset", s.ASSET_COLS, rows.assets, ("chain", "asset_id"))
        _merge(c, "block", s.BLOCK_COLS, rows.blocks, ("chain", "number"))
        _merge(c, "tx", s.TX_COLS, rows.txs, ("blockchain_network", "transaction_hash"))
        _merge(c, "output", s.OUTPUT_COLS, rows.outputs, ("chain", "txid", "index"), join_tx=True)
        inputs = TABLE["input"]
        _merge(
            c,
            "input",
            s.INPUT_COLS,
            rows.inputs,
            ("chain", "txid", "index"),
            join_tx=True,
            updates={
                "value": f"COALESCE(EXCLUDED.value, {inputs}.value)",
                "address": f"COALESCE(EXCLUDED.address, {inputs}.address)",
            },
        )
        _merge(
            c,
            "transfer",
            s.TRANSFER_COLS,
            rows.transfers,
            ("chain", "tx_hash", "kind", "index"),
            join_tx=True,
        )
        _merge(c, "address", s.ADDRESS_COLS, rows.addresses, ("chain", "address"))
    if not chain.is_utxo:
        return 0
    txids = [r[1] for r in rows.txs]
    linked = s._link_inputs_sql(chain.value, txids)
    s._fill_fees_sql(chain.value, txids)
    return linked
