"""Filling in input values a source left out (``getblock`` verbosity 2, plain bitcoin-etl).

A Bitcoin input names the output it spends but not its value; without the value there is no
fee and no taint amount. Outputs inside the batch answer first (no round trip), the stored
outputs next through ``lookup`` (the database, in one query for the whole batch); whatever is
still unknown is returned so the importer can report the gap instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable

from fundtrace.chains.btc.fields import Where
from fundtrace.chains.btc.txbuild import finalize_fee
from fundtrace.core.model import Batch

Outpoint = tuple[str, int]
SpentOutput = tuple[int, str | None, str | None]  # (value, address, script_type)
Lookup = Callable[[list[Outpoint]], dict[Outpoint, SpentOutput]]


def outputs_created(batch: Batch) -> dict[Outpoint, SpentOutput]:
    """What a spend of each output of ``batch`` resolves to, by outpoint."""
    return {
        (tx.hash, o.index): (o.value, o.address, o.script_type)
        for tx in batch.transactions
        for o in tx.outputs
    }


def resolve_input_values(batch: Batch, lookup: Lookup | None = None) -> list[Outpoint]:
    """Fill unknown input values in place; return the outpoints still unknown, in input order.

    Each transaction's ``fee`` is set once all its inputs are known (and checked against a fee
    the source stated). ``lookup`` receives each missing outpoint once; outpoints it does not
    know are simply absent from its answer.
    """
    created = outputs_created(batch)
    missing: dict[Outpoint, None] = {}
    for tx in batch.transactions:
        for i in tx.inputs:
            if i.value is None and i.spent_txid is not None:
                key = (i.spent_txid, i.spent_vout)
                hit = created.get(key)  # type: ignore[arg-type]
                if hit is None:
                    missing[key] = None  # type: ignore[index]
                else:
                    i.value, i.address, i.script_type = hit
    found: dict[Outpoint, SpentOutput] = {}
    if missing and lookup is not None:
        found = lookup(list(missing))
    still: dict[Outpoint, None] = {}
    for tx in batch.transactions:
        for i in tx.inputs:
            if i.value is None and i.spent_txid is not None:
                key = (i.spent_txid, i.spent_vout)
                hit = found.get(key)  # type: ignore[arg-type]
                if hit is None:
                    still[key] = None  # type: ignore[index]
                    continue
                value, address, script_type = hit
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise Where("input resolution", tx.hash).error(
                        f"lookup gave {value!r} as the value of {key[0]}:{key[1]}", "value"
                    )
                i.value, i.address, i.script_type = value, address, script_type
        if not tx.is_coinbase and tx.input_total() is not None:
            finalize_fee(tx, tx.fee, Where("input resolution", tx.hash), "fee")
    return list(still)
