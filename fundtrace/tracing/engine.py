"""``trace``: run a taint model over a UTXO graph or an account ledger and assemble the result.

Direction:

* ``forward`` follows the sources' value to where it went.
* ``backward`` answers where the value of the sources came from. On Bitcoin the sources are
  outputs (or an ``AddressSource``: the address's unspent outputs) and each model is inverted
  per transaction (see ``utxo_kernels``). On account chains the same sweep runs over the
  time-reversed ledger with every transfer reversed: an address's reversed balance is what it
  holds at that point (it starts from its final stored balance), so backward fifo/lifo pair
  exactly the units the forward model would pair, haircut splits an address's later outflows
  over its earlier inflows in proportion, and poison marks every earlier inflow of an address
  that later sent the funds. Backward endpoints: ``labeled`` = came from an attributed address;
  ``holding`` = was already at that address when the stored history begins (origin unknown;
  address null for newly mined coins or minted tokens); ``limit`` = not followed further.

Stopping: ``attribution(address) -> (entity, category) | None`` (or a mapping address ->
(entity, category)); taint stops at attributed addresses unless their category is in
``through``. ``max_hops``/``min_amount``: see the kernels' docstrings.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fundtrace.core.model import TransferKind
from fundtrace.tracing import account_kernels as ak
from fundtrace.tracing import utxo_kernels as uk
from fundtrace.tracing.account_ledger import KIND_CODES, KIND_FEE, AccountLedger
from fundtrace.tracing.arith import INT64_SAFE
from fundtrace.tracing.result import Endpoint, ExplainContext, Flow, TraceResult
from fundtrace.tracing.utxo_graph import UtxoGraph

MODELS = {"poison": 0, "haircut": 1, "fifo": 2, "lifo": 3, "tiho": 4}
UTXO_MODELS = tuple(MODELS)
ACCOUNT_MODELS = ("poison", "haircut", "fifo", "lifo")
NO_LIMIT_HOPS = 1 << 40

Attribution = Callable[[str], "tuple[str | None, str | None] | None"] | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AddressSource:
    """Backward only: "where did the funds this address holds come from" (its final balance on
    account chains, its unspent outputs on Bitcoin)."""

    address: str


def _attribute(
    addresses: Any,
    lookup_id: Callable[[str], int],
    attribution: Attribution | None,
    through: frozenset[str],
) -> tuple[np.ndarray, dict[int, tuple[str | None, str | None]]]:
    n = len(addresses)
    stop = np.zeros(n, dtype=np.bool_)
    info: dict[int, tuple[str | None, str | None]] = {}
    if attribution is None:
        return stop, info
    if isinstance(attribution, Mapping):
        for addr, val in attribution.items():
            i = lookup_id(addr)
            if i >= 0 and val is not None:
                info[i] = (val[0], val[1])
    else:
        for i, addr in enumerate(addresses):
            val = attribution(addr)
            if val is not None:
                info[i] = (val[0], val[1])
    for i, (_, cat) in info.items():
        if cat not in through:
            stop[i] = True
    return stop, info


def _money_zeros(like: np.ndarray, n: int) -> np.ndarray:
    if like.dtype == object:
        out = np.empty(n, dtype=object)
        out[:] = 0
        return out
    return np.zeros(n, dtype=np.int64)


def _check_model(model: str, allowed: tuple[str, ...]) -> int:
    if model not in allowed:
        raise ValueError(f"unknown model {model!r} for this chain; choose one of {allowed}")
    return MODELS[model]


def trace(
    data: UtxoGraph | AccountLedger,
    sources: Iterable[Any],
    *,
    model: str,
    direction: str = "forward",
    max_hops: int | None = None,
    min_amount: int = 0,
    attribution: Attribution | None = None,
    through: Iterable[str] = frozenset(),
) -> TraceResult:
    """Trace ``sources`` through ``data`` under ``model``.

    Sources: Bitcoin ``(txid, vout)`` or ``"txid:vout"`` (a bare txid = all its outputs);
    account chains ``(tx_hash, kind, index)`` identifying a transfer (``kind`` None = any kind),
    ``"tx_hash:index"`` or a bare hash (every transfer of the asset in it); ``AddressSource``
    for backward tracing of an address's holdings.
    """
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")
    if min_amount < 0:
        raise ValueError("min_amount must be >= 0")
    through = frozenset(through)
    params = {
        "model": model,
        "direction": direction,
        "max_hops": max_hops,
        "min_amount": str(min_amount),
        "through": sorted(through),
    }
    hops = NO_LIMIT_HOPS if max_hops is None else int(max_hops)
    if isinstance(data, UtxoGraph):
        return _trace_utxo(
            data,
            list(sources),
            model,
            direction == "backward",
            hops,
            min_amount,
            attribution,
            through,
            params,
        )
    if isinstance(data, AccountLedger):
        return _trace_account(
            data,
            list(sources),
            model,
            direction == "backward",
            hops,
            min_amount,
            attribution,
            through,
            params,
        )
    raise TypeError(f"cannot trace a {type(data).__name__}; build a UtxoGraph or AccountLedger")


# --------------------------------------------------------------------------- UTXO


def _utxo_sources(g: UtxoGraph, sources: list[Any], backward: bool) -> tuple[list[int], list[str]]:
    rows: list[int] = []
    labels: list[str] = []
    for s in sources:
        if isinstance(s, AddressSource):
            if not backward:
                raise ValueError("an address source is only meaningful for backward tracing")
            a = g.address_id(s.address)
            hits = np.nonzero((g.out_addr == a) & (g.out_spender < 0))[0] if a >= 0 else []
            if len(hits) == 0:
                raise ValueError(f"address {s.address} holds no unspent output in the data")
            rows.extend(int(h) for h in hits)
            labels.append(s.address)
            continue
        if isinstance(s, str):
            txid, _, vout = s.partition(":")
            pair: tuple[str, int | None] = (txid, int(vout) if vout else None)
        else:
            pair = (str(s[0]), int(s[1]) if s[1] is not None else None)
        txid, vout_i = pair
        t = g.tx_id(txid)
        if t < 0:
            raise ValueError(f"source transaction {txid} is not in the loaded data")
        if vout_i is None:
            lo, hi = int(g.tx_out_ptr[t]), int(g.tx_out_ptr[t + 1])
            rows.extend(range(lo, hi))
            labels.append(txid)
        else:
            r = g.output_row(txid, vout_i)
            if r < 0:
                raise ValueError(f"source output {txid}:{vout_i} is not in the loaded data")
            rows.append(r)
            labels.append(f"{txid}:{vout_i}")
    return sorted(set(rows)), labels


def _trace_utxo(
    g: UtxoGraph,
    sources: list[Any],
    model: str,
    backward: bool,
    hops: int,
    min_amount: int,
    attribution: Attribution | None,
    through: frozenset[str],
    params: dict[str, Any],
) -> TraceResult:
    code = _check_model(model, UTXO_MODELS)
    rows, labels = _utxo_sources(g, sources, backward)
    stop_addr, info = _attribute(g.addresses, g.address_id, attribution, through)
    n_out = g.n_outputs
    out_stop = stop_addr[g.out_addr] if n_out else np.zeros(0, dtype=np.bool_)
    is_src = np.zeros(n_out, dtype=np.bool_)
    is_src[rows] = True
    fast = g.out_value.dtype != object and g.in_value.dtype != object
    vals = g.out_value
    source_amount = int(sum(int(v) for v in vals[rows]))
    min_amt = min_amount if not fast else np.int64(min(min_amount, 2**63 - 1))
    interval_model = code in (uk.FIFO, uk.LIFO)

    def run(keep_all: bool) -> tuple[Any, ...]:
        taint = _money_zeros(vals, n_out)
        taint[rows] = vals[rows]
        hop = np.full(n_out, uk.BIG_HOP, dtype=np.int64)
        hop[rows] = 0
        status = np.zeros(n_out, dtype=np.int8)
        sinks = _money_zeros(vals, 3)
        origin = _money_zeros(vals, len(g.addresses))
        overlap = _money_zeros(vals, 1)
        common = (
            g.tx_in_ptr,
            g.tx_out_ptr,
            g.tx_coinbase,
            g.in_spent,
            g.in_value,
            g.in_addr,
            vals,
            out_stop,
            is_src,
            hops,
            min_amt,
            taint,
            hop,
            status,
            sinks,
            origin,
            overlap,
        )
        iv = ivp = ivn = None
        if interval_model:
            ivp = np.zeros(n_out, dtype=np.int64)
            ivn = np.zeros(n_out, dtype=np.int64)
            fn = uk.utxo_intervals_jit if fast else uk.utxo_intervals
            iv = fn(backward, code == uk.LIFO, *common, ivp, ivn, keep_all, uk.POOL_CAP)
        else:
            fn = uk.utxo_scalar_jit if fast else uk.utxo_scalar
            fn(backward, code, *common)
        return taint, hop, status, sinks, origin, overlap, iv, ivp, ivn

    # forward over double spends an output is read twice, so its ranges must not be dropped
    taint, hop, status, sinks, origin, overlap, iv, ivp, ivn = run(
        not backward and g.has_double_spends()
    )
    warnings = list(g.warnings)
    ov = int(overlap[0])
    if ov:
        warnings.append(f"sources overlap: {ov} base units were already tainted; counted once")
        source_amount -= ov
    if backward and int(sinks[2]):
        warnings.append(f"{int(sinks[2])} base units come from inputs of unknown value")

    def endpoints() -> list[Endpoint]:
        acc: dict[tuple[int, str], int] = {}
        tainted = (
            np.nonzero(taint > 0)[0]
            if taint.dtype != object
            else np.nonzero(np.array([v > 0 for v in taint], dtype=np.bool_))[0]
        )
        for o in tainted.tolist():
            if out_stop[o]:
                kind = "labeled"
            elif status[o] == 2:
                kind = "limit"
            elif status[o] == 1:
                continue
            else:
                kind = "holding"
            key = (int(g.out_addr[o]), kind)
            acc[key] = acc.get(key, 0) + int(taint[o])
        for a in np.nonzero(origin != 0)[0].tolist():
            acc[(a, "holding")] = acc.get((a, "holding"), 0) + int(origin[a])
        eps = [_endpoint(g.addresses[a], info.get(a), v, k) for (a, k), v in acc.items()]
        if int(sinks[0]):
            eps.append(Endpoint(None, None, None, int(sinks[0]), "fee"))
        if int(sinks[1]) or int(sinks[2]):
            eps.append(Endpoint(None, None, None, int(sinks[1]) + int(sinks[2]), "holding"))
        return eps

    flow_rows: list[int] = []

    def flows() -> list[Flow]:
        mask = taint > 0 if taint.dtype != object else np.array([v > 0 for v in taint])
        flow_rows[:] = np.nonzero(mask)[0].tolist()
        out = []
        for o in flow_rows:
            t = g.output_tx(o)
            i0, i1 = int(g.tx_in_ptr[t]), int(g.tx_in_ptr[t + 1])
            frm = g.addresses[int(g.in_addr[i0])] if i1 > i0 else None
            for k in range(i0, i1):  # first tainted input names the sender
                s = int(g.in_spent[k])
                if s >= 0 and taint[s] > 0 and status[s] == 1:
                    frm = g.addresses[int(g.in_addr[k])]
                    break
            out.append(
                Flow(
                    g.txids[t],
                    int(g.out_vout[o]),
                    frm,
                    g.addresses[int(g.out_addr[o])],
                    int(taint[o]),
                    int(hop[o]),
                )
            )
        return out

    result = TraceResult(
        chain="btc",
        asset="native",
        decimals=g.decimals,
        model=model,
        direction="backward" if backward else "forward",
        sources=labels,
        source_amount=source_amount,
        parameters=params,
        warnings=warnings,
        _endpoints=endpoints,
        _flows=flows,
    )

    def context(res: TraceResult) -> ExplainContext:
        # the result is an argument, not captured: no reference cycle keeps big arrays alive
        fl = res.flows
        eps = res.endpoints
        fid = {o: i for i, o in enumerate(flow_rows)}

        def parents(i: int) -> list[tuple[int, int]]:
            o = flow_rows[i]
            if is_src[o]:
                return []
            if backward:
                t = int(g.out_spender[o])
                cand = range(int(g.tx_out_ptr[t]), int(g.tx_out_ptr[t + 1])) if t >= 0 else []
            else:
                t = g.output_tx(o)
                cand = [
                    int(g.in_spent[k]) for k in range(int(g.tx_in_ptr[t]), int(g.tx_in_ptr[t + 1]))
                ]
            return [(fid[c], int(taint[c])) for c in cand if c >= 0 and c in fid and status[c] == 1]

        def terminals(address: str) -> list[tuple[int, int]]:
            a = g.address_id(address)
            res = [
                (i, fl[i].amount)
                for i, o in enumerate(flow_rows)
                if g.out_addr[o] == a and (status[o] != 1 or out_stop[o])
            ]
            if backward and a >= 0 and origin[a] != 0:
                for k in np.nonzero((g.in_addr == a) & (g.in_spent < 0))[0].tolist():
                    t = g.input_tx(k)
                    for o in range(int(g.tx_out_ptr[t]), int(g.tx_out_ptr[t + 1])):
                        if o in fid and status[o] == 1:
                            res.append((fid[o], int(taint[o])))
            return res

        def amount(address: str) -> int:
            return sum(e.amount for e in eps if e.address == address)

        return ExplainContext(fl, terminals, parents, amount)

    result._explain = context
    if iv is not None:
        full: list[Any] = []  # the keep_all rerun, made on the first question about a dropped run

        def ranges(txid: str, vout: int) -> list[tuple[int, int]]:
            o = g.output_row(txid, vout)
            if o < 0:
                raise ValueError(f"output {txid}:{vout} is not in the loaded data")
            if int(taint[o]) == 0:
                return []
            pool, lo, cnt = iv, int(ivp[o]), int(ivn[o])
            if lo < 0:  # the taint moved on and the sweep dropped these ranges
                if not full:
                    full[:] = run(True)[6:]
                pool, lo, cnt = full[0], int(full[1][o]), int(full[2][o])
            return [(int(pool[2 * q]), int(pool[2 * q + 1])) for q in range(lo, lo + cnt)]

        result._ranges = ranges
    return result


def _endpoint(
    address: str, inf: tuple[str | None, str | None] | None, amount: int, kind: str
) -> Endpoint:
    ent, cat = inf if inf is not None else (None, None)
    return Endpoint(address, ent, cat, amount, kind)


# --------------------------------------------------------------------------- accounts


def _account_sources(
    led: AccountLedger, sources: list[Any], backward: bool
) -> tuple[list[int], list[int], list[str]]:
    events: list[int] = []
    addrs: list[int] = []
    labels: list[str] = []
    for s in sources:
        if isinstance(s, AddressSource):
            if not backward:
                raise ValueError("an address source is only meaningful for backward tracing")
            a = led.address_id(s.address)
            if a < 0:
                raise ValueError(f"address {s.address} does not occur in the {led.asset} ledger")
            addrs.append(a)
            labels.append(s.address)
            continue
        kind: Any = None
        index: int | None = None
        if isinstance(s, str):
            h, _, idx = s.partition(":")
            index = int(idx) if idx else None
        elif len(s) == 2:
            h, index = s[0], s[1]
        else:
            h, kind, index = s[0], s[1], s[2]
        t = led.tx_id(h)
        if t < 0:
            raise ValueError(f"source transaction {h} has no {led.asset} movement in the data")
        cand = np.nonzero(led.ev_tx == t)[0]
        cand = cand[led.ev_kind[cand] != KIND_FEE]
        if index is not None:
            cand = cand[led.ev_index[cand] == int(index)]
        if kind is not None:
            cand = cand[led.ev_kind[cand] == KIND_CODES[TransferKind(kind)]]
        if cand.size == 0:
            what = h if index is None else f"{h}:{index}"
            raise ValueError(f"source {what} is not a {led.asset} transfer in the loaded data")
        events.extend(int(c) for c in cand)
        labels.append(h if index is None else f"{h}:{index}")
    return sorted(set(events)), sorted(set(addrs)), labels


def final_balances(
    ev_from: np.ndarray, ev_to: np.ndarray, ev_amount: np.ndarray, bal: np.ndarray
) -> None:
    """Balances after the stored history, a shortfall counted as funds held before it."""
    for e in range(ev_from.shape[0]):
        f = ev_from[e]
        x = ev_amount[e]
        if f >= 0:
            b = bal[f]
            bal[f] = b - x if b > x else b - b
        t = ev_to[e]
        if t >= 0:
            bal[t] += x


def _final_balances(led: AccountLedger, amt: np.ndarray, bal: np.ndarray) -> None:
    from numba import njit

    global _final_balances_jit
    if amt.dtype == object:
        final_balances(led.ev_from, led.ev_to, amt, bal)
        return
    if _final_balances_jit is None:
        _final_balances_jit = njit(cache=True)(final_balances)
    _final_balances_jit(led.ev_from, led.ev_to, amt, bal)


_final_balances_jit: Any = None


def _trace_account(
    led: AccountLedger,
    sources: list[Any],
    model: str,
    backward: bool,
    hops: int,
    min_amount: int,
    attribution: Attribution | None,
    through: frozenset[str],
    params: dict[str, Any],
) -> TraceResult:
    code = _check_model(model, ACCOUNT_MODELS)
    src_events, src_addrs, labels = _account_sources(led, sources, backward)
    stop, info = _attribute(led.addresses, led.address_id, attribution, through)
    n, n_addr = led.n_events, led.n_addresses
    amt = led.ev_amount
    fast = amt.dtype != object
    if fast and sum(int(amt[e]) for e in src_events) >= INT64_SAFE:
        # the ledger's per-address bound (``ledger_money``) does not cover the overlap count
        # of several huge sources: trace this one on exact ints
        amt = amt.astype(object)
        fast = False
    is_src = np.zeros(n, dtype=np.bool_)
    is_src[src_events] = True
    bal = _money_zeros(amt, n_addr)
    tnt = _money_zeros(amt, n_addr)
    hop = np.full(n_addr, NO_LIMIT_HOPS, dtype=np.int64)
    warnings: list[str] = []
    if backward:
        _final_balances(led, amt, bal)
        ev_from, ev_to = led.ev_to[::-1].copy(), led.ev_from[::-1].copy()
        ev_kind, ev_amt = led.ev_kind[::-1].copy(), amt[::-1].copy()
        is_src = is_src[::-1].copy()
        for a in src_addrs:
            tnt[a] = bal[a]
            hop[a] = 0
            if bal[a] == 0:
                warnings.append(f"{led.addresses[a]} holds no {led.asset} at the end of the data")
    else:
        ev_from, ev_to, ev_kind, ev_amt = led.ev_from, led.ev_to, led.ev_kind, amt
    source_amount = int(sum(int(amt[e]) for e in src_events)) + int(
        sum(int(tnt[a]) for a in src_addrs)
    )
    flow_taint = _money_zeros(amt, n)
    flow_hop = np.zeros(n, dtype=np.int64)
    labeled = _money_zeros(amt, n_addr)
    limit = _money_zeros(amt, n_addr)
    sinks = _money_zeros(amt, 2)
    short = np.zeros(n_addr, dtype=np.bool_)
    overlap = _money_zeros(amt, 1)
    min_amt = min_amount if not fast else np.int64(min(min_amount, 2**63 - 1))
    args = (
        code,
        ev_from,
        ev_to,
        ev_kind,
        ev_amt,
        is_src,
        stop,
        hops,
        min_amt,
        bal,
        tnt,
        hop,
        flow_taint,
        flow_hop,
        labeled,
        limit,
        sinks,
        short,
        overlap,
    )
    if code in (ak.FIFO, ak.LIFO):
        fn = ak.sweep_lots_jit if fast else ak.sweep_lots
        fn(*args, _money_zeros(amt, 0), ak.LOTS_CAP)
    else:
        fn = ak.sweep_scalar_jit if fast else ak.sweep_scalar
        fn(*args)
    n_short = int(short.sum())
    if n_short:
        some = ", ".join(led.addresses[int(a)] for a in np.nonzero(short)[0][:5])
        warnings.append(
            f"incomplete history: {n_short} address(es) sent more than they received in the "
            f"data (e.g. {some}); the unknown funds count as untainted"
        )
    ov = int(overlap[0])
    if ov:
        warnings.append(f"sources overlap: {ov} base units were already tainted; counted once")
        source_amount -= ov

    def nz(arr: np.ndarray) -> list[int]:
        if arr.dtype == object:
            return [i for i, v in enumerate(arr) if v != 0]
        return np.nonzero(arr)[0].tolist()

    def endpoints() -> list[Endpoint]:
        eps = [
            _endpoint(led.addresses[a], info.get(a), int(labeled[a]), "labeled")
            for a in nz(labeled)
        ]
        eps += [_endpoint(led.addresses[a], info.get(a), int(limit[a]), "limit") for a in nz(limit)]
        for a in nz(tnt):
            if stop[a]:
                continue
            held = int(bal[a]) if code == ak.POISON else int(tnt[a])
            if held:
                eps.append(_endpoint(led.addresses[a], info.get(a), held, "holding"))
        if int(sinks[0]):
            eps.append(Endpoint(None, None, None, int(sinks[0]), "fee"))
        if int(sinks[1]):
            eps.append(Endpoint(None, None, None, int(sinks[1]), "holding"))
        return eps

    flow_ev: list[int] = []  # kernel-order event of each flow

    def flows() -> list[Flow]:
        flow_ev[:] = nz(flow_taint)
        out = []
        for k in flow_ev:
            e = n - 1 - k if backward else k
            f, t = int(led.ev_from[e]), int(led.ev_to[e])
            out.append(
                Flow(
                    led.tx_hashes[int(led.ev_tx[e])],
                    int(led.ev_index[e]),
                    led.addresses[f] if f >= 0 else None,
                    led.addresses[t] if t >= 0 else None,
                    int(flow_taint[k]),
                    int(flow_hop[k]),
                )
            )
        return out

    result = TraceResult(
        chain=str(led.chain),
        asset=led.asset,
        decimals=led.decimals,
        model=model,
        direction="backward" if backward else "forward",
        sources=labels,
        source_amount=source_amount,
        parameters=params,
        warnings=warnings,
        _endpoints=endpoints,
        _flows=flows,
    )

    def context(res: TraceResult) -> ExplainContext:
        # the result is an argument, not captured: no reference cycle keeps big arrays alive
        fl = res.flows
        eps = res.endpoints
        # delivered flows by (kernel-order) recipient, in kernel order
        into: dict[int, list[int]] = {}
        for i, k in enumerate(flow_ev):
            t = int(ev_to[k])
            if t >= 0 and not stop[t]:
                into.setdefault(t, []).append(i)
        labeled_into: dict[int, list[int]] = {}
        for i, k in enumerate(flow_ev):
            t = int(ev_to[k])
            if t >= 0 and stop[t]:
                labeled_into.setdefault(t, []).append(i)

        def parents(i: int) -> list[tuple[int, int]]:
            k = flow_ev[i]
            if is_src[k]:
                return []
            f = int(ev_from[k])
            lst = into.get(f, [])
            cut = bisect.bisect_left([flow_ev[j] for j in lst], k)
            return [(j, fl[j].amount) for j in lst[:cut]]

        def terminals(address: str) -> list[tuple[int, int]]:
            a = led.address_id(address)
            lst = labeled_into.get(a, []) + into.get(a, [])
            return [(j, fl[j].amount) for j in sorted(lst)]

        def amount(address: str) -> int:
            return sum(e.amount for e in eps if e.address == address)

        return ExplainContext(fl, terminals, parents, amount)

    result._explain = context
    return result
