"""Sequential sweeps over an account ledger: one pass over the events in chain order.

Definitions (per address, per asset; an address's balance is what it received in the stored
data minus what it sent):

* ``poison``: an outflow from an address holding any taint is wholly tainted.
* ``haircut``: an outflow of ``x`` from a balance ``B`` holding taint ``T`` carries
  ``floor(x * T / B)``; the sub-unit remainder stays with the address, so taint is conserved
  exactly and never exceeds the balance.
* ``fifo`` / ``lifo``: the balance is a sequence of lots in arrival order; an outflow consumes
  the oldest (fifo) / newest (lifo) lots first. The consumed pieces arrive at the recipient in
  their original order (as satoshi ranges do on Bitcoin), so taint is followed exactly.

Incomplete history: when an address sends more than its balance, the missing amount is
counted as untainted funds it already had (older than anything stored), and ``short`` marks the
address so the result can warn.

Stopping: taint reaching a ``stop`` address is counted there (``labeled``) and not followed. A
tainted outflow of an address whose taint arrived at hop ``max_hops``, or carrying less than
``min_amount``, is not followed either: its taint is counted as ``limit`` at the sender (where
the trace stopped) and the recipient receives it as untainted. Hop of an address = smallest hop
of the taint it received before; a flow from it is one hop more; sources are hop 0.

Backward tracing runs these same sweeps over the time-reversed ledger (see ``engine``).

Kernels are written once: compiled by numba for int64 money, run as Python for object money.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fundtrace.tracing.arith import dual, muldiv

POISON = 0
HAIRCUT = 1
FIFO = 2
LIFO = 3
TIHO = 4
KIND_FEE = 3
LOTS_CAP = 1024
"""Initial lot pool size; it grows as needed (tests set it tiny to grow often)."""


def sweep_scalar(
    model,
    ev_from,
    ev_to,
    ev_kind,
    ev_amount,
    is_src,
    stop,
    max_hops,
    min_amount,
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
):  # type: ignore[no-untyped-def]
    """poison / haircut. ``sinks[0]`` collects fees, ``sinks[1]`` burns; ``overlap[0]`` the taint
    a source transfer carried that was already tainted (counted once)."""
    n = ev_from.shape[0]
    for e in range(n):
        f = ev_from[e]
        to = ev_to[e]
        x = ev_amount[e]
        t = x - x
        fh = 0
        if f >= 0:
            b = bal[f]
            if b < x:
                short[f] = True
                b = x
            tf = tnt[f]
            if tf > 0:
                if model == POISON:
                    t = x
                else:
                    t = muldiv(x, tf, b)
                    tnt[f] = tf - t
            bal[f] = b - x
            fh = hop[f] + 1
        cut = False
        if is_src[e]:
            overlap[0] += t
            t = x
            fh = 0
        elif t > 0 and (hop[f] >= max_hops or t < min_amount):
            cut = True
            limit[f] += t
        if to >= 0:
            bal[to] += x
        if t > 0 and not cut:
            flow_taint[e] = t
            flow_hop[e] = fh
            if to < 0:
                if ev_kind[e] == KIND_FEE:
                    sinks[0] += t
                else:
                    sinks[1] += t
            elif stop[to]:
                labeled[to] += t
            else:
                tnt[to] += t
                if fh < hop[to]:
                    hop[to] = fh


def sweep_lots(
    model,
    ev_from,
    ev_to,
    ev_kind,
    ev_amount,
    is_src,
    stop,
    max_hops,
    min_amount,
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
    lamt,
    lots_cap,
):  # type: ignore[no-untyped-def]
    """fifo / lifo over per-address lot lists (a doubly linked pool). ``lamt`` is an empty money
    array of the right dtype to grow the pool from; ``lots_cap`` the pool's initial size (it grows
    as needed). Addresses without taint keep no lots.

    The pool never grows inside the event loop (``lots_run``): an array variable reassigned in
    a compiled loop costs reference counting on every iteration, which made the whole sweep
    several times slower. Instead ``lots_run`` stops before an event that might not fit (one
    event allocates at most the lots it consumes plus two, and consumes at most every live lot)
    and this function grows the arrays and resumes it there."""
    n_addr = bal.shape[0]
    n_init = 0
    for a in range(n_addr):
        if tnt[a] > 0:
            n_init += 2
    cap = lots_cap + 2 * n_init
    lamt = np.concatenate((lamt, np.zeros_like(bal[:1]).repeat(cap)))
    ltn = np.zeros(cap, dtype=np.int8)
    lnext = np.full(cap, -1, dtype=np.int64)
    lprev = np.full(cap, -1, dtype=np.int64)
    head = np.full(n_addr, -1, dtype=np.int64)
    tail = np.full(n_addr, -1, dtype=np.int64)
    used = 0
    pamt = np.zeros_like(bal[:1]).repeat(64)
    ptn = np.zeros(64, dtype=np.int8)

    # initial tainted balances (backward tracing of an address's holdings)
    for a in range(n_addr):
        if tnt[a] > 0:
            for part in range(2):
                amt = bal[a] - tnt[a] if part == 0 else tnt[a]
                if amt <= 0:
                    continue
                node = used
                used += 1
                lamt[node] = amt
                ltn[node] = part
                lnext[node] = -1
                lprev[node] = tail[a]
                if tail[a] >= 0:
                    lnext[tail[a]] = node
                else:
                    head[a] = node
                tail[a] = node

    n = ev_from.shape[0]
    e = 0
    free = -1
    live = used
    while e < n:
        e, used, free, live = lots_run(
            e,
            model,
            ev_from,
            ev_to,
            ev_kind,
            ev_amount,
            is_src,
            stop,
            max_hops,
            min_amount,
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
            lamt,
            ltn,
            lnext,
            lprev,
            head,
            tail,
            pamt,
            ptn,
            used,
            free,
            live,
        )
        if e < n:  # make room for the worst case of any event, then resume
            size = max(2 * lamt.shape[0], 4 * live + 8)
            grown = np.zeros_like(bal[:1]).repeat(size)
            grown[:used] = lamt[:used]
            lamt = grown
            g8 = np.zeros(size, dtype=np.int8)
            g8[:used] = ltn[:used]
            ltn = g8
            gi = np.full(size, -1, dtype=np.int64)
            gi[:used] = lnext[:used]
            lnext = gi
            gi = np.full(size, -1, dtype=np.int64)
            gi[:used] = lprev[:used]
            lprev = gi
            size = max(2 * pamt.shape[0], 2 * live + 2)
            pamt = np.zeros_like(bal[:1]).repeat(size)
            ptn = np.zeros(size, dtype=np.int8)


@dual
def lots_run(
    e0,
    model,
    ev_from,
    ev_to,
    ev_kind,
    ev_amount,
    is_src,
    stop,
    max_hops,
    min_amount,
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
    lamt,
    ltn,
    lnext,
    lprev,
    head,
    tail,
    pamt,
    ptn,
    used,
    free,
    live,
):  # type: ignore[no-untyped-def]
    """The event loop of ``sweep_lots`` from event ``e0``; returns ``(e, used, free, live)``,
    ``e`` = the event it stopped before for want of room (the number of events when done).
    ``live`` = lots in use; free lots are ``lamt.shape[0] - live`` (a free list up to ``used``,
    never touched beyond it)."""
    n = ev_from.shape[0]
    zero = bal[0] - bal[0] if bal.shape[0] > 0 else 0
    e = e0
    while e < n:
        if lamt.shape[0] < 2 * live + 2 or pamt.shape[0] < live + 1:
            return e, used, free, live
        ev = e
        e += 1
        f = ev_from[ev]
        to = ev_to[ev]
        x = ev_amount[ev]
        t = zero
        fh = 0
        npc = 0
        deficit = zero
        if f >= 0:
            b = bal[f]
            if b < x:
                short[f] = True
                deficit = x - b
            if head[f] >= 0:
                need = x - deficit
                while need > 0:
                    node = head[f] if model == FIFO else tail[f]
                    take = lamt[node] if lamt[node] < need else need
                    if npc > 0 and ptn[npc - 1] == ltn[node]:
                        pamt[npc - 1] += take
                    else:
                        pamt[npc] = take
                        ptn[npc] = ltn[node]
                        npc += 1
                    if ltn[node] == 1:
                        t += take
                    lamt[node] -= take
                    need -= take
                    if lamt[node] == 0:
                        nx = lnext[node]
                        pv = lprev[node]
                        if pv >= 0:
                            lnext[pv] = nx
                        else:
                            head[f] = nx
                        if nx >= 0:
                            lprev[nx] = pv
                        else:
                            tail[f] = pv
                        lnext[node] = free
                        free = node
                        live -= 1
                tnt[f] -= t
                if tnt[f] == 0 and head[f] >= 0:
                    node = head[f]
                    while node >= 0:
                        nx = lnext[node]
                        lnext[node] = free
                        free = node
                        live -= 1
                        node = nx
                    head[f] = -1
                    tail[f] = -1
            bal[f] = b - x + deficit
            fh = hop[f] + 1
        cut = False
        if is_src[ev]:
            overlap[0] += t
            t = x
            fh = 0
            npc = 1
            pamt[0] = x
            ptn[0] = 1
            deficit = zero
        elif t > 0 and (hop[f] >= max_hops or t < min_amount):
            cut = True
            limit[f] += t
        follow = t > 0 and not cut
        if follow:
            flow_taint[ev] = t
            flow_hop[ev] = fh
        if to < 0:
            if follow:
                if ev_kind[ev] == KIND_FEE:
                    sinks[0] += t
                else:
                    sinks[1] += t
            continue
        if follow and stop[to]:
            labeled[to] += t
            follow = False
        if follow:
            tnt[to] += t
            if fh < hop[to]:
                hop[to] = fh
        if follow or head[to] >= 0:
            # pieces in chronological order: unknown funds first (oldest), then what was
            # consumed (fifo consumed oldest first; lifo consumed newest first, so reverse)
            first = -1 if follow and bal[to] > 0 and head[to] < 0 else 0
            total_pieces = npc + 2
            for k in range(first, total_pieces - 1):
                if k == -1:
                    amt = bal[to]
                    flag = 0
                elif k == 0:
                    amt = deficit
                    flag = 0
                    if not follow:
                        amt = x
                elif not follow:
                    break
                else:
                    j = k - 1 if model == FIFO else npc - k
                    amt = pamt[j]
                    flag = ptn[j]
                if amt <= 0:
                    continue
                tl = tail[to]
                if tl >= 0 and ltn[tl] == flag:
                    lamt[tl] += amt
                    continue
                if free >= 0:
                    node = free
                    free = lnext[node]
                else:
                    node = used
                    used += 1
                lamt[node] = amt
                ltn[node] = flag
                live += 1
                lnext[node] = -1
                lprev[node] = tl
                if tl >= 0:
                    lnext[tl] = node
                else:
                    head[to] = node
                tail[to] = node
        bal[to] += x
    return e, used, free, live


sweep_scalar_jit = njit(cache=True)(sweep_scalar)
sweep_lots_jit = njit(cache=True)(sweep_lots)
