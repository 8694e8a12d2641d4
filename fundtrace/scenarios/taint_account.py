"""Reference account-chain (Ethereum, Solana) taint models: plain dicts and lists, exact ints.

Independent of ``fundtrace.tracing`` on purpose (see ``taint_utxo``). One asset at a time:
the native coin's events are each transaction's fee (paid first, by the fee payer, to nobody)
and its native/internal transfers; a token's events are its token transfers. A failed
transaction moves nothing but its fee.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from fundtrace.core.model import NATIVE, Transaction, TransferKind
from fundtrace.scenarios.taint_result import TaintFigures, add

ACCOUNT_MODELS = ("poison", "haircut", "fifo", "lifo")

Event = tuple[str, int, str | None, str | None, int]  # (tx hash, index (-1 fee), from, to, amount)


def parse_source(text: str) -> tuple[str, int]:
    """ "txhash:index" -> (txhash, index) with the canonical transfer index."""
    h, _, idx = text.rpartition(":")
    if not h or not idx.isdigit():
        raise ValueError(f"account source {text!r} is not 'txhash:index'")
    return h, int(idx)


def chain_order(transactions: Iterable[Transaction]) -> list[Transaction]:
    return sorted(
        transactions,
        key=lambda t: (
            t.block_number if t.block_number is not None else 1 << 62,
            t.tx_index if t.tx_index is not None else 0,
        ),
    )


def events(transactions: Iterable[Transaction], asset: str) -> Iterator[Event]:
    """The asset's movements in chain order (transactions must already be in chain order)."""
    for tx in transactions:
        if asset == NATIVE and tx.fee and tx.fee_payer:
            yield (tx.hash, -1, tx.fee_payer, None, tx.fee)
        if not tx.success:
            continue
        for t in sorted(tx.transfers, key=lambda t: t.index):
            if t.asset != asset:
                continue
            if (asset == NATIVE) == (t.kind is TransferKind.TOKEN):
                continue
            yield (tx.hash, t.index, t.from_address, t.to_address, t.amount)


def account_taint(
    transactions: Iterable[Transaction],
    asset: str,
    sources: Iterable[str | tuple[str, int]],
    *,
    model: str,
    stop: Mapping[str, object] | set[str] | frozenset[str] = frozenset(),
) -> TaintFigures:
    """Forward taint of source transfers of ``asset`` through ``transactions`` (chain order)."""
    if model not in ACCOUNT_MODELS:
        raise ValueError(f"unknown account model {model!r}")
    src = {parse_source(s) if isinstance(s, str) else (s[0], s[1]) for s in sources}
    fig = TaintFigures(model)
    bal: dict[str, int] = {}
    taint: dict[str, int] = {}  # poison/haircut: tainted amount held
    lots: dict[str, list[list[int]]] = {}  # fifo/lifo: [amount, tainted 0/1], oldest first
    use_lots = model in ("fifo", "lifo")

    for tx_hash, index, frm, to, x in events(transactions, asset):
        t = 0
        pieces: list[list[int]] = [[x, 0]]
        if frm is not None:
            b = bal.get(frm, 0)
            deficit = max(0, x - b)
            if use_lots:
                pieces = _consume(lots, frm, x - deficit, model == "fifo")
                if deficit:
                    pieces.insert(0, [deficit, 0])  # oldest: funds held before the data
                t = sum(a for a, f in pieces if f)
                if t:
                    taint[frm] = taint.get(frm, 0) - t
            else:
                held = taint.get(frm, 0)
                if held > 0:
                    t = x if model == "poison" else x * held // max(b, x)
                    if model == "haircut":
                        taint[frm] = held - t
            bal[frm] = b + deficit - x
        if (tx_hash, index) in src:
            fig.source_total += x
            t = x
            pieces = [[x, 1]]
        if to is not None:
            bal[to] = bal.get(to, 0) + x
        if to is None:
            if index == -1:
                fig.fees += t
            else:
                fig.burned += t
            continue
        if t and to in stop:
            add(fig.endpoints, to, t)
            pieces = [[x, 0]]
            t = 0
        if t:
            taint[to] = taint.get(to, 0) + t
        if use_lots and (t or to in lots):
            _receive(lots, to, bal[to] - x, pieces)
    for a, v in taint.items():
        if v > 0:
            fig.held[a] = v
    return fig


def _consume(lots: dict[str, list[list[int]]], a: str, need: int, oldest: bool) -> list[list[int]]:
    """Take ``need`` units from a's lots; returns the pieces in chronological order."""
    have = lots.get(a)
    if not have:
        return [[need, 0]] if need else []
    taken: list[list[int]] = []
    while need > 0 and have:
        lot = have[0] if oldest else have[-1]
        take = min(lot[0], need)
        taken.append([take, lot[1]])
        lot[0] -= take
        need -= take
        if lot[0] == 0:
            have.pop(0 if oldest else -1)
    if need > 0:  # lots only ever cover what the address holds; guard against drift
        taken.append([need, 0])
    if not oldest:
        taken.reverse()
    if not any(f for _, f in have):
        del lots[a]  # untainted remainder needs no lot bookkeeping
    return _join(taken)


def _receive(
    lots: dict[str, list[list[int]]], a: str, before: int, pieces: list[list[int]]
) -> None:
    have = lots.get(a)
    if have is None:
        have = lots[a] = [[before, 0]] if before > 0 else []
    for amt, f in pieces:
        if amt <= 0:
            continue
        if have and have[-1][1] == f:
            have[-1][0] += amt
        else:
            have.append([amt, f])
    if not any(f for _, f in have):
        del lots[a]


def _join(pieces: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for amt, f in pieces:
        if amt <= 0:
            continue
        if out and out[-1][1] == f:
            out[-1][0] += amt
        else:
            out.append([amt, f])
    return out
