"""PostgreSQL merge path: COPY into temporary staging tables, then set-based upserts.

Used when some of a batch's transactions are stored already (a re-import, overlapping
collection runs); fresh batches take ``pg_direct``. Every table goes through
``INSERT ... SELECT ... ON CONFLICT ... DO UPDATE`` on its natural key, so a re-import updates
rows in place and never doubles them. A batch costs a fixed handful of round trips whatever
its size: one COPY per staging table and one statement per target table.

* Transaction ids are looked up once per staged transaction into a small staging map, so
  children join the batch's staged rows instead of the whole transaction table.
* A stored row is rewritten only when a value differs (``DO UPDATE ... WHERE ... IS DISTINCT
  FROM``): re-importing identical data leaves every row version and index entry as it was.
* Lookups by key are LATERAL subqueries with ``OFFSET 0``, which are always index probes; a
  join the planner may reorder could, without statistics on freshly loaded tables, scan or hash
  a whole table per batch, a cost that grows with the database instead of with the batch.
* Inputs are linked to the outputs they spend in the same ``INSERT`` (outputs are stored
  first), instead of inserting and then updating every input row a second time; only inputs
  stored by earlier batches are linked by an ``UPDATE``.
"""

from __future__ import annotations

from typing import Any

from data_collection.pg_copy import copy_in
from data_collection.pg_rows import StageText

TX = "data_collection_blockchaintransaction"
OUTPUT = "data_collection_txoutput"
INPUT = "data_collection_txinput"
TRANSFER = "data_collection_transfer"
BLOCK = "data_collection_block"
ASSET = "data_collection_asset"
ADDRESS = "data_collection_address"

# Staging tables: name -> (column, type). Column order is the COPY order ``pg_rows`` produces.
STAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "asset": (
        ("chain", "text"),
        ("asset_id", "text"),
        ("symbol", "text"),
        ("name", "text"),
        ("decimals", "integer"),
    ),
    "block": (
        ("number", "bigint"),
        ("hash", "text"),
        ("parent_hash", "text"),
        ("ts", "bigint"),
        ("tx_count", "integer"),
        ("miner", "text"),
    ),
    "tx": (
        ("hash", "text"),
        ("block_number", "bigint"),
        ("block_hash", "text"),
        ("tx_index", "integer"),
        ("ts", "bigint"),
        ("from_address", "text"),
        ("to_address", "text"),
        ("amount", "numeric"),
        ("fee", "numeric"),
        ("success", "boolean"),
        ("is_coinbase", "boolean"),
    ),
    "output": (
        ("txid", "text"),
        ("idx", "integer"),
        ("value", "numeric"),
        ("address", "text"),
        ("script_type", "text"),
        ("script_hex", "text"),
    ),
    "input": (
        ("txid", "text"),
        ("idx", "integer"),
        ("spent_txid", "text"),
        ("spent_vout", "integer"),
        ("value", "numeric"),
        ("address", "text"),
    ),
    # the direct path's inputs, transaction ids already known
    "input_ids": (
        ("transaction_id", "bigint"),
        ("txid", "text"),
        ("idx", "integer"),
        ("spent_txid", "text"),
        ("spent_vout", "integer"),
        ("value", "numeric"),
        ("address", "text"),
    ),
    "transfer": (
        ("tx_hash", "text"),
        ("kind", "text"),
        ("idx", "bigint"),
        ("asset", "text"),
        ("from_address", "text"),
        ("to_address", "text"),
        ("amount", "numeric"),
        ("trace_address", "text"),
    ),
    "address": (("address", "text"), ("first_seen_block", "bigint")),
}
# Transaction ids of this batch (and the stored position/time transfers copy).
TXMAP = (
    ("id", "bigint"),
    ("hash", "text"),
    ("block_number", "bigint"),
    ("tx_index", "integer"),
    ("ts", "timestamptz"),
)


def stage_name(name: str) -> str:
    return f"ft_stage_{name}"


def _ddl(names: tuple[str, ...] | None = None) -> str:
    """Staging tables ``names`` (all of them by default); each CREATE writes the catalogs, so
    the direct path creates only the few it uses."""
    tables = {**{stage_name(n): cols for n, cols in STAGES.items()}, stage_name("txmap"): TXMAP}
    tables[stage_name("linked")] = (("transaction_id", "bigint"),)
    if names is not None:
        tables = {stage_name(n): tables[stage_name(n)] for n in names}
    statements = [f"DROP TABLE IF EXISTS {', '.join(tables)}"]
    for table, cols in tables.items():
        body = ", ".join(f'"{c}" {t}' for c, t in cols)
        statements.append(f"CREATE TEMP TABLE {table} ({body}) ON COMMIT DROP")
    return ";\n".join(statements)


DDL = _ddl()
DIRECT_DDL = _ddl(("input_ids", "linked", "asset", "block", "address"))


# Per transaction only. JIT compiling these one-off statements costs more than it saves;
# hash joins of a batch's staging tables need more than the default 4MB to stay in memory.
SETTINGS = "SET LOCAL synchronous_commit TO OFF; SET LOCAL jit TO OFF; SET LOCAL work_mem TO '64MB'"


# Linking looks outputs and inputs up by their unique keys, once per row of the batch. As
# LATERAL subqueries (OFFSET 0 keeps them from being flattened) these are always index probes:
# a join the planner may reorder could, without statistics on freshly loaded tables, scan or
# hash a whole table per batch, a cost that grows with the database instead of the batch.
SPENT_OUTPUT = f"""
    SELECT o.id, o.value, o.address FROM {OUTPUT} AS o
     WHERE o.chain = %(chain)s AND o.txid = s.spent_txid AND o."index" = s.spent_vout
    OFFSET 0"""


def _on_conflict(table: str, key: str, sets: dict[str, str]) -> str:
    """Update a stored row in place, and only if something differs: an unchanged row written
    again would cost a new row version and an entry in every index."""
    body = ", ".join(f'"{c}" = {v}' for c, v in sets.items())
    old = ", ".join(f'{table}."{c}"' for c in sets)
    new = ", ".join(sets.values())
    return f" ON CONFLICT ({key}) DO UPDATE SET {body} WHERE ({old}) IS DISTINCT FROM ({new})"


def _excluded(*cols: str) -> dict[str, str]:
    return {c: f'EXCLUDED."{c}"' for c in cols}


def _earliest_block() -> dict[str, str]:
    """An address is first seen at the earliest block any import showed it (LEAST skips NULL),
    whatever order the blocks arrive in."""
    return {"first_seen_block": f'LEAST({ADDRESS}."first_seen_block", EXCLUDED."first_seen_block")'}


def tx_sql() -> tuple[str, str]:
    """Upsert the staged transactions, then map every one of them to its id (an unchanged row
    is not returned by the upsert, so the map is filled by key lookups)."""
    cols = [
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
    ]
    sets = {**_excluded(*cols), "fee": f"COALESCE(EXCLUDED.fee, {TX}.fee)"}
    conflict = _on_conflict(TX, "blockchain_network, transaction_hash", sets)
    return (
        f"""
        INSERT INTO {TX} (blockchain_network, transaction_hash, {", ".join(cols)})
        SELECT %(chain)s, s.hash, s.block_number, s.block_hash, s.tx_index,
               to_timestamp(s.ts), s.from_address, s.to_address, s.amount, s.fee,
               s.success, s.is_coinbase
          FROM {stage_name("tx")} AS s{conflict}""",
        f"""
        INSERT INTO {stage_name("txmap")}
        SELECT t.id, t.transaction_hash, t.block_number, t.tx_index, t.timestamp
          FROM {stage_name("tx")} AS s CROSS JOIN LATERAL (
               SELECT * FROM {TX} AS t
                WHERE t.blockchain_network = %(chain)s AND t.transaction_hash = s.hash
               OFFSET 0) AS t""",
    )


def output_sql() -> str:
    cols = ("transaction_id", "value", "address", "script_type", "script_hex")
    conflict = _on_conflict(OUTPUT, 'chain, txid, "index"', _excluded(*cols))
    return f"""
        INSERT INTO {OUTPUT}
               (transaction_id, chain, txid, "index", value, address, script_type, script_hex)
        SELECT m.id, %(chain)s, s.txid, s.idx, s.value, s.address, s.script_type, s.script_hex
          FROM {stage_name("output")} AS s JOIN {stage_name("txmap")} AS m ON m.hash = s.txid
        {conflict}"""


def input_sql() -> str:
    """Insert inputs already linked to the stored outputs they spend.

    A linked input takes value and address from its output (as the ``UPDATE`` linking earlier
    inputs does); an unlinked one keeps what the source said, and on re-import a source that
    lacks a value never wipes one learnt earlier.
    """
    t = INPUT
    sets = {
        "transaction_id": "EXCLUDED.transaction_id",
        "spent_txid": "EXCLUDED.spent_txid",
        "spent_vout": "EXCLUDED.spent_vout",
        "spent_output_id": f"COALESCE(EXCLUDED.spent_output_id, {t}.spent_output_id)",
        "value": "CASE WHEN EXCLUDED.spent_output_id IS NOT NULL THEN EXCLUDED.value "
        f"ELSE COALESCE(EXCLUDED.value, {t}.value) END",
        "address": "CASE WHEN EXCLUDED.spent_output_id IS NOT NULL THEN EXCLUDED.address "
        f"ELSE COALESCE(EXCLUDED.address, {t}.address) END",
    }
    conflict = _on_conflict(t, 'chain, txid, "index"', sets)
    return f"""
        WITH w AS (
            INSERT INTO {t} (transaction_id, chain, txid, "index", spent_txid, spent_vout,
                             spent_output_id, value, address)
            SELECT m.id, %(chain)s, s.txid, s.idx, s.spent_txid, s.spent_vout, o.id,
                   CASE WHEN o.id IS NULL THEN s.value ELSE o.value END,
                   CASE WHEN o.id IS NULL THEN s.address ELSE o.address END
              FROM {stage_name("input")} AS s
              JOIN {stage_name("txmap")} AS m ON m.hash = s.txid
              LEFT JOIN LATERAL ({SPENT_OUTPUT}) AS o ON true
            {conflict}
            RETURNING spent_output_id)
        SELECT count(spent_output_id) FROM w"""


def link_earlier_sql(hashes: str) -> str:
    """Link inputs stored by earlier batches that spend an output of this batch's transactions
    (``hashes``, a query of their ``hash``), and note their transactions for the fee update.

    One probe of the inputs' spend index per transaction, not per output: an output's spender
    is looked up only when some stored input spends its transaction at all."""
    return f"""
    WITH u AS (
        UPDATE {INPUT} AS i
           SET spent_output_id = o.id, value = o.value, address = o.address
          FROM ({hashes}) AS h
         CROSS JOIN LATERAL (
               SELECT j.id, j.spent_vout FROM {INPUT} AS j
                WHERE j.chain = %(chain)s AND j.spent_txid = h.hash AND j.spent_output_id IS NULL
               OFFSET 0) AS j
         CROSS JOIN LATERAL (
               SELECT o.id, o.value, o.address FROM {OUTPUT} AS o
                WHERE o.chain = %(chain)s AND o.txid = h.hash AND o."index" = j.spent_vout
               OFFSET 0) AS o
         WHERE i.id = j.id
        RETURNING i.transaction_id)
    INSERT INTO {stage_name("linked")} SELECT transaction_id FROM u"""


LINK_EARLIER_SQL = link_earlier_sql(f"SELECT hash FROM {stage_name('tx')}")

# Bitcoin fee = inputs - outputs once every input value is known, NULL while one is not (as
# the SQLite path computes it); numeric sums are exact. Rows whose fee is already right are
# left alone.
FEE_SQL = """
    WITH cand AS ({candidates}
    ), ins AS (
        SELECT transaction_id, SUM(value) AS total_in, COUNT(*) AS n, COUNT(value) AS known
          FROM {inputs} WHERE transaction_id IN (SELECT id FROM cand) GROUP BY transaction_id
    ), outs AS (
        SELECT transaction_id, SUM(value) AS total_out
          FROM {outputs} WHERE transaction_id IN (SELECT id FROM cand) GROUP BY transaction_id
    ), fees AS (
        SELECT ins.transaction_id AS id,
               CASE WHEN ins.n = ins.known THEN ins.total_in - outs.total_out END AS fee
          FROM ins JOIN outs ON outs.transaction_id = ins.transaction_id
    )
    UPDATE {txs} AS t SET fee = fees.fee
      FROM fees
     WHERE t.id = fees.id AND t.fee IS DISTINCT FROM fees.fee"""

# Transactions whose inputs were just linked to this batch's outputs.
LINKED_FEE_CANDIDATES = f"""
    SELECT t.id FROM {TX} AS t
     WHERE t.id IN (SELECT transaction_id FROM {stage_name("linked")})
       AND t.fee IS NULL AND NOT t.is_coinbase"""

# The batch's transactions whose source gave no fee (the upsert kept the stored one, which is
# recomputed here), and transactions whose inputs were just linked.
FEE_CANDIDATES = f"""
    SELECT m.id FROM {stage_name("txmap")} AS m JOIN {stage_name("tx")} AS s ON s.hash = m.hash
     WHERE s.fee IS NULL AND NOT s.is_coinbase
    UNION
    SELECT t.id FROM {TX} AS t
     WHERE t.id IN (SELECT transaction_id FROM {stage_name("linked")})
       AND t.fee IS NULL AND NOT t.is_coinbase"""


def fee_sql(candidates: str) -> str:
    """The fee update for the transactions ``candidates`` (a query of ``id``) selects."""
    return FEE_SQL.format(candidates=candidates, inputs=INPUT, outputs=OUTPUT, txs=TX)


def transfer_sql() -> str:
    cols = (
        "transaction_id",
        "asset",
        "from_address",
        "to_address",
        "amount",
        "trace_address",
        "block_number",
        "tx_index",
        "timestamp",
    )
    conflict = _on_conflict(TRANSFER, 'chain, tx_hash, kind, "index"', _excluded(*cols))
    return f"""
        INSERT INTO {TRANSFER} (transaction_id, chain, tx_hash, kind, "index", asset,
                                from_address, to_address, amount, trace_address, block_number,
                                tx_index, timestamp)
        SELECT m.id, %(chain)s, s.tx_hash, s.kind, s.idx, s.asset, s.from_address,
               s.to_address, s.amount, s.trace_address, m.block_number, m.tx_index, m.ts
          FROM {stage_name("transfer")} AS s JOIN {stage_name("txmap")} AS m ON m.hash = s.tx_hash
        {conflict}"""


ASSET_SQL = f"""
    INSERT INTO {ASSET} (chain, asset_id, symbol, name, decimals)
    SELECT chain, asset_id, symbol, name, decimals FROM {stage_name("asset")}
    {_on_conflict(ASSET, "chain, asset_id", _excluded("symbol", "name", "decimals"))}"""

_BLOCK_COLS = ("hash", "parent_hash", "timestamp", "tx_count", "miner")
BLOCK_SQL = f"""
    INSERT INTO {BLOCK} (chain, number, hash, parent_hash, timestamp, tx_count, miner)
    SELECT %(chain)s, number, hash, parent_hash, to_timestamp(ts), tx_count, miner
      FROM {stage_name("block")}
    {_on_conflict(BLOCK, "chain, number", _excluded(*_BLOCK_COLS))}"""

ADDRESS_SQL = f"""
    INSERT INTO {ADDRESS} (chain, address, first_seen_block)
    SELECT %(chain)s, address, first_seen_block FROM {stage_name("address")}
    {_on_conflict(ADDRESS, "chain, address", _earliest_block())}"""


def merge_side_tables(cursor: Any, staged: StageText, chain: str) -> None:
    """Copy in and merge assets, blocks and addresses (both paths stage these)."""
    for name in ("asset", "block", "address"):
        if staged.rows[name]:
            cols = [c for c, _ in STAGES[name]]
            copy_in(cursor, stage_name(name), cols, staged.text[name])
    p = {"chain": chain}
    for name, sql in (("asset", ASSET_SQL), ("block", BLOCK_SQL), ("address", ADDRESS_SQL)):
        if staged.rows[name]:
            cursor.execute(sql, p)


def merge_transactions(cursor: Any, staged: StageText, chain: str) -> int:
    """Upsert the staged transactions and their rows; returns the number of inputs linked."""
    p = {"chain": chain}
    for name in ("tx", "output", "input", "transfer"):
        if staged.rows[name]:
            cols = [c for c, _ in STAGES[name]]
            copy_in(cursor, stage_name(name), cols, staged.text[name])
    if not staged.rows["tx"]:
        return 0
    for sql in tx_sql():
        cursor.execute(sql, p)
    linked = 0
    if staged.rows["output"]:
        cursor.execute(output_sql(), p)
    if staged.rows["input"]:
        cursor.execute(input_sql(), p)
        linked += cursor.fetchone()[0]
    if staged.rows["output"]:
        cursor.execute(LINK_EARLIER_SQL, p)
        linked += cursor.rowcount
    if staged.rows["input"] or staged.rows["output"]:
        cursor.execute(fee_sql(FEE_CANDIDATES), p)
    if staged.rows["transfer"]:
        cursor.execute(transfer_sql(), p)
    return linked
