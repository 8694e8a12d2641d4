"""A canonical ``Batch`` as COPY text for the PostgreSQL staging tables, built column-wise.

Same rows and the same de-duplication as ``storage.batch_rows`` (the SQLite path): the last
transaction / block / asset with a given key wins. Differences that only make the load cheaper:
the chain is not staged (it is a parameter of the merge), timestamps stay unix seconds (the
merge applies ``to_timestamp``, exact for whole seconds), and a transfer's block, position and
time are taken from its stored transaction instead of being sent once per transfer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from data_collection.pg_copy import NULL, bool_col, copy_text, int_col, text_col
from data_collection.storage import summarize
from fundtrace.core.model import Batch, Transaction


@dataclass
class StageText:
    """COPY text and row count per staging table (``text`` is empty when there are no rows)."""

    text: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def put(self, name: str, columns: list[list[str]]) -> None:
        self.text[name] = copy_text(columns)
        self.rows[name] = len(columns[0]) if columns else 0


def unique_transactions(batch: Batch) -> list[Transaction]:
    return list({tx.hash: tx for tx in batch.transactions}.values())


def stage_text(batch: Batch, *, side: bool = False) -> StageText:
    """COPY text for every staging table of ``batch`` (columns in ``pg_merge.STAGES`` order).

    ``side`` builds only assets, blocks and addresses: the tables the direct path
    (``pg_direct``) still merges through staging."""
    out = StageText()
    txs = unique_transactions(batch)
    _assets(batch, out)
    _blocks(batch, out)
    _addresses(txs, out)
    if not side:
        _transactions(txs, out)
        _outputs(txs, out)
        _inputs(txs, out)
        _transfers(txs, out)
    return out


def _assets(batch: Batch, out: StageText) -> None:
    assets = list({(a.chain.value, a.asset_id): a for a in batch.assets}.values())
    out.put(
        "asset",
        [
            text_col([a.chain.value for a in assets]),
            text_col([a.asset_id for a in assets]),
            text_col([a.symbol for a in assets]),
            text_col([a.name for a in assets]),
            int_col([a.decimals for a in assets]),
        ],
    )


def _blocks(batch: Batch, out: StageText) -> None:
    blocks = list({b.number: b for b in batch.blocks}.values())
    out.put(
        "block",
        [
            int_col([b.number for b in blocks]),
            text_col([b.hash for b in blocks]),
            text_col([b.parent_hash for b in blocks]),
            int_col([b.timestamp for b in blocks]),
            int_col([b.tx_count for b in blocks]),
            text_col([b.miner for b in blocks]),
        ],
    )


def _transactions(txs: list[Transaction], out: StageText) -> None:
    out.put("tx", tx_columns(txs, timestamps=int_col))


def tx_columns(txs: list[Transaction], timestamps: Callable[[list], list[str]]) -> list[list[str]]:
    """hash, block_number, block_hash, tx_index, timestamp, from, to, amount, fee, success,
    is_coinbase; ``timestamps`` encodes the unix-seconds column (int or timestamptz text)."""
    summary = [summarize(tx) for tx in txs]
    return [
        text_col([tx.hash for tx in txs]),
        int_col([tx.block_number for tx in txs]),
        text_col([tx.block_hash for tx in txs]),
        int_col([tx.tx_index for tx in txs]),
        timestamps([tx.timestamp for tx in txs]),
        text_col([s[0] for s in summary]),
        text_col([s[1] for s in summary]),
        int_col([s[2] for s in summary]),
        int_col([tx.fee for tx in txs]),
        bool_col([tx.success for tx in txs]),
        bool_col([tx.is_coinbase for tx in txs]),
    ]


def timestamptz_col(values: list[int | None]) -> list[str]:
    """Unix seconds as timestamptz text; formatted once per distinct value (one per block)."""
    cache: dict[int | None, str] = {None: NULL}
    for v in set(values):
        if v is not None:
            cache[v] = dt.datetime.fromtimestamp(v, tz=dt.UTC).isoformat()
    return [cache[v] for v in values]


def output_columns(txs: list[Transaction]) -> list[list[str]]:
    """txid, index, value, address, script_type, script_hex."""
    outs = [o for tx in txs for o in tx.outputs]
    return [
        text_col([tx.hash for tx in txs for _ in tx.outputs]),
        int_col([o.index for o in outs]),
        int_col([o.value for o in outs]),
        text_col([o.address for o in outs]),
        text_col([o.script_type for o in outs]),
        text_col([o.script_hex for o in outs]),
    ]


def _outputs(txs: list[Transaction], out: StageText) -> None:
    out.put("output", output_columns(txs))


def input_columns(txs: list[Transaction]) -> list[list[str]]:
    """txid, index, spent_txid, spent_vout, value, address."""
    ins = [i for tx in txs for i in tx.inputs]
    return [
        text_col([tx.hash for tx in txs for _ in tx.inputs]),
        int_col([i.index for i in ins]),
        text_col([i.spent_txid for i in ins]),
        int_col([i.spent_vout for i in ins]),
        int_col([i.value for i in ins]),
        text_col([i.address for i in ins]),
    ]


def _inputs(txs: list[Transaction], out: StageText) -> None:
    out.put("input", input_columns(txs))


def transfer_columns(txs: list[Transaction]) -> list[list[str]]:
    """tx_hash, kind, index, asset, from, to, amount, trace_address."""
    trs = [t for tx in txs for t in tx.transfers]
    return [
        text_col([tx.hash for tx in txs for _ in tx.transfers]),
        text_col([t.kind.value for t in trs]),
        int_col([t.index for t in trs]),
        text_col([t.asset for t in trs]),
        text_col([t.from_address for t in trs]),
        text_col([t.to_address for t in trs]),
        int_col([t.amount for t in trs]),
        text_col([t.trace_address for t in trs]),
    ]


def _transfers(txs: list[Transaction], out: StageText) -> None:
    out.put("transfer", transfer_columns(txs))


def per_child(values: list[str], txs: list[Transaction], attr: str) -> list[str]:
    """A per-transaction column repeated once per output / input / transfer of it."""
    return [v for v, tx in zip(values, txs, strict=True) for _ in getattr(tx, attr)]


def first_seen(txs: list[Transaction]) -> dict[str, int | None]:
    """Address -> block of the earliest transaction touching it (a missing block counts as 0,
    ties go to the earlier transaction in the batch), as in ``storage.batch_rows``."""
    addrs: list[str | None] = []
    blocks: list[int | None] = []
    for tx in sorted(txs, key=lambda t: t.block_number or 0):
        seen = [
            tx.fee_payer,
            *[o.address for o in tx.outputs],
            *[i.address for i in tx.inputs],
            *[a for t in tx.transfers for a in (t.from_address, t.to_address)],
        ]
        addrs += seen
        blocks += [tx.block_number] * len(seen)
    # dict() keeps the last value per key, so feeding it reversed keeps the first occurrence
    return {a: b for a, b in zip(reversed(addrs), reversed(blocks), strict=True) if a}


def _addresses(txs: list[Transaction], out: StageText) -> None:
    seen = first_seen(txs)
    out.put("address", [text_col(list(seen)), int_col(list(seen.values()))])
