"""Reference Bitcoin taint models, written for clarity rather than speed.

The scenario generator states in ``ground_truth.json`` where stolen coins went under each model.
Those figures must not come from the engine they are meant to check, so this is a separate,
deliberately plain implementation (dicts of outpoints, Python ints, interval lists) of the
definitions in ``taint_result.ROUNDING_RULES``. It runs over canonical ``Transaction`` records
in chain order, so it can be applied both to the generator's own incident transactions and to
what the importers parsed back from the written files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fundtrace.core.model import Transaction
from fundtrace.scenarios.taint_result import TaintFigures, add

UTXO_MODELS = ("poison", "haircut", "fifo", "lifo", "tiho")

Outpoint = tuple[str, int]
Ranges = list[tuple[int, int]]  # half-open [start, end) satoshi ranges


def parse_source(text: str) -> Outpoint:
    """ "txid:vout" (the trace CLI's Bitcoin source syntax) -> (txid, vout)."""
    txid, _, vout = text.rpartition(":")
    if not txid or not vout.isdigit():
        raise ValueError(f"bitcoin source {text!r} is not 'txid:vout'")
    return txid.lower(), int(vout)


def apportion(total: int, weights: list[int], denom: int) -> list[int]:
    """floor(total * w / denom) each; leftover units to the largest remainders (lower first)."""
    shares = []
    rems = []
    for w in weights:
        q, r = divmod(total * w, denom)
        shares.append(q)
        rems.append(r)
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda k: (-rems[k], k))
    for k in order[:left]:
        shares[k] += 1
    return shares


def _clip(ranges: Ranges, lo: int, hi: int) -> Ranges:
    """The parts of ``ranges`` inside [lo, hi), shifted so lo becomes 0."""
    out = []
    for a, b in ranges:
        a2, b2 = max(a, lo), min(b, hi)
        if a2 < b2:
            out.append((a2 - lo, b2 - lo))
    return out


def _merge(ranges: Ranges) -> Ranges:
    out: Ranges = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def utxo_taint(
    transactions: Iterable[Transaction],
    sources: Iterable[str | Outpoint],
    *,
    model: str,
    stop: Mapping[str, object] | set[str] | frozenset[str] = frozenset(),
) -> TaintFigures:
    """Forward taint of ``sources`` (outputs) through ``transactions`` (in chain order).

    ``stop``: labeled addresses; taint on an output paying one is an endpoint, not followed.
    Every input value must be known (bitcoin-etl exports with enriched inputs, or the
    generator's own records).
    """
    if model not in UTXO_MODELS:
        raise ValueError(f"unknown utxo model {model!r}")
    src = {parse_source(s) if isinstance(s, str) else (s[0].lower(), s[1]) for s in sources}
    fig = TaintFigures(model)
    # outpoint -> (address, taint amount, ranges or None); only tainted, unlabeled outputs
    live: dict[Outpoint, tuple[str, int, Ranges | None]] = {}
    lots = model in ("fifo", "lifo")

    def settle(tx: Transaction, k: int, amount: int, ranges: Ranges | None) -> None:
        out = tx.outputs[k]
        addr = out.address or f"{tx.hash}:{k}"
        if amount <= 0:
            return
        if addr in stop:
            add(fig.endpoints, addr, amount)
        else:
            live[(tx.hash, k)] = (addr, amount, ranges)

    for tx in transactions:
        # taint entering through inputs
        in_taint: list[int] = []
        in_ranges: list[Ranges] = []
        any_taint = False
        for inp in tx.inputs:
            got = (
                None if inp.spent_txid is None else live.pop((inp.spent_txid, inp.spent_vout), None)
            )
            if got is None:
                in_taint.append(0)
                in_ranges.append([])
            else:
                any_taint = True
                in_taint.append(got[1])
                in_ranges.append(got[2] or [])
        new_sources = [k for k in range(len(tx.outputs)) if (tx.hash, k) in src]
        if any_taint:
            _spread(tx, model, in_taint, in_ranges, settle, fig, lots)
        for k in new_sources:
            value = tx.outputs[k].value
            fig.source_total += value
            live.pop((tx.hash, k), None)  # already-tainted part is replaced, counted once
            settle(tx, k, value, [(0, value)] if lots else None)
    for (_txid, _k), (addr, amount, _r) in live.items():
        add(fig.held, addr, amount)
    return fig


def _spread(tx, model, in_taint, in_ranges, settle, fig, lots) -> None:  # type: ignore[no-untyped-def]
    values_in = [i.value or 0 for i in tx.inputs]
    total_in = sum(values_in)
    values_out = [o.value for o in tx.outputs]
    fee = total_in - sum(values_out)
    t = sum(in_taint)
    if model == "poison":
        for k, v in enumerate(values_out):
            settle(tx, k, v, None)
        fig.fees += fee
        return
    if model == "haircut":
        shares = apportion(t, [*values_out, fee], total_in)
        for k in range(len(values_out)):
            settle(tx, k, shares[k], None)
        fig.fees += shares[-1]
        return
    if model == "tiho":
        left = t
        for k in sorted(range(len(values_out)), key=lambda k: (-values_out[k], k)):
            take = min(values_out[k], left)
            settle(tx, k, take, None)
            left -= take
        fig.fees += left
        return
    # fifo / lifo: lay the inputs end to end, then cut the line at output boundaries
    order = list(range(len(values_in)))
    if model == "lifo":
        order.reverse()
    line: Ranges = []
    pos = 0
    for j in order:
        line.extend((pos + a, pos + b) for a, b in in_ranges[j])
        pos += values_in[j]
    pos = 0
    for k, v in enumerate(values_out):
        r = _merge(_clip(line, pos, pos + v))
        settle(tx, k, sum(b - a for a, b in r), r)
        pos += v
    fig.fees += sum(b - a for a, b in _clip(line, pos, total_in))
