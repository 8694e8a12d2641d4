"""Sweeps over a UTXO graph, per transaction that spends tainted outputs (inputs and outputs in
index order; ``I`` = input total, fee = ``I`` - output total):

* ``poison``: every output is wholly tainted (and the whole fee).
* ``haircut``: the tainted input value ``T`` is split over the outputs and the fee in proportion
  to their values (output taint = value * T / I), by largest remainder so the parts sum to ``T``
  exactly (each within one base unit of the real-valued share; ties to the lower index, the fee
  last).
* ``fifo`` (Anderson et al., "Bitcoin Redux"): the satoshis of the inputs, concatenated in input
  order, fill the outputs in output order; the fee is the tail. Tainted satoshi *ranges* are
  kept per output as interval lists, so taint is followed exactly through every hop.
* ``lifo``: as fifo with the inputs concatenated in reverse order.
* ``tiho`` (taint-in, highest-out): ``T`` fills the outputs in descending value order (ties:
  lower index first); what is left goes to the fee.

Backward (where did the value of an output come from), per transaction whose outputs carry
backward taint ``X``: ``poison`` marks every input wholly; ``haircut`` gives input ``i``
``X * value_i / I`` (largest remainder); ``fifo``/``lifo`` map the outputs' tainted satoshi
ranges (outputs concatenated in order) back onto the inputs concatenated in input order /
reverse input order, exactly inverting the forward rule; ``tiho`` draws ``X`` from the inputs
in descending value order. A coinbase's value is newly mined: its outputs are the origin; an
input whose spent output is not stored is an origin at the input's address (``origin``).

Stopping is per output, when the output would be spent onward: an output at a ``stop`` address
keeps its taint (labeled); one whose hop is ``max_hops`` or whose taint is below ``min_amount``
is not followed (``status`` 2 = limit). Sources are hop 0; an output created by a transaction
spending taint of hop ``h`` (the smallest among its tainted inputs) is hop ``h + 1``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fundtrace.tracing.arith import apportion

POISON = 0
HAIRCUT = 1
FIFO = 2
LIFO = 3
TIHO = 4
BIG_HOP = 1 << 40
POOL_CAP = 4096
"""Initial interval pool size (ranges); it grows as needed (tests set it tiny to compact often)."""


def utxo_scalar(
    backward,
    model,
    tx_in_ptr,
    tx_out_ptr,
    tx_coinbase,
    in_spent,
    in_value,
    in_addr,
    out_value,
    out_stop,
    is_src,
    max_hops,
    min_amount,
    taint,
    hop,
    status,
    sinks,
    origin,
    overlap,
):  # type: ignore[no-untyped-def]
    """poison / haircut / tiho. ``sinks``: [fee, unused, input value missing from the data]."""
    n_tx = tx_coinbase.shape[0]
    zero = out_value[0] - out_value[0] if out_value.shape[0] > 0 else 0
    # scratch for one transaction's weights and shares, reused (no allocation per transaction)
    width = 1
    for t in range(n_tx):
        wo = tx_out_ptr[t + 1] - tx_out_ptr[t] + 1
        wi = tx_in_ptr[t + 1] - tx_in_ptr[t]
        width = max(width, wo, wi)
    wbuf = np.zeros_like(out_value[:1]).repeat(width)
    sbuf = np.zeros_like(out_value[:1]).repeat(width)
    rbuf = np.zeros_like(out_value[:1]).repeat(width)
    for step in range(n_tx):
        t = n_tx - 1 - step if backward else step
        i0 = tx_in_ptr[t]
        i1 = tx_in_ptr[t + 1]
        o0 = tx_out_ptr[t]
        o1 = tx_out_ptr[t + 1]
        if backward and (tx_coinbase[t] or i1 == i0):
            continue  # newly mined: the outputs themselves are the origin (holding)
        x = zero
        h = BIG_HOP
        # gather the taint entering this transaction (inputs forward, outputs backward)
        n_from = o1 - o0 if backward else i1 - i0
        for j in range(n_from):
            o = o0 + j if backward else in_spent[i0 + j]
            if o < 0 or taint[o] <= 0 or out_stop[o]:
                continue
            if hop[o] >= max_hops or taint[o] < min_amount:
                status[o] = 2
                continue
            status[o] = 1
            x += taint[o]
            if hop[o] < h:
                h = hop[o]
        if x <= 0:
            continue
        total_in = zero
        for k in range(i0, i1):
            total_in += in_value[k]
        if backward:
            m = i1 - i0
            for j in range(m):
                wbuf[j] = in_value[i0 + j]
            w = wbuf[:m]
            denom = total_in
        else:
            m = o1 - o0
            total_out = zero
            for j in range(m):
                wbuf[j] = out_value[o0 + j]
                total_out += out_value[o0 + j]
            fee = total_in - total_out
            wbuf[m] = fee if fee > 0 else zero
            w = wbuf[: m + 1]
            denom = total_in if fee > 0 else total_out
        share = sbuf[: w.shape[0]]
        rest = zero
        if model == POISON:
            for j in range(w.shape[0]):
                share[j] = w[j]
        elif model == HAIRCUT:
            if x > denom:
                rest = x - denom
                x = denom
            apportion(x, w, denom, share, rbuf[: w.shape[0]])
        else:  # TIHO
            order = np.argsort(-w[:m], kind="mergesort")
            left = x
            for j in range(m):
                r = order[j]
                c = w[r] if w[r] < left else left
                share[r] = c
                left -= c
            if backward:
                rest = left
            else:
                share[m] = left
        if backward:
            sinks[2] += rest
        else:
            sinks[0] += share[m]
        for j in range(m):
            c = share[j]
            o = in_spent[i0 + j] if backward else o0 + j
            if o < 0:
                origin[in_addr[i0 + j]] += c
                continue
            if is_src[o]:
                overlap[0] += c
                continue
            taint[o] = c
            if c > 0:
                hop[o] = h + 1


def utxo_intervals(
    backward,
    lifo,
    tx_in_ptr,
    tx_out_ptr,
    tx_coinbase,
    in_spent,
    in_value,
    in_addr,
    out_value,
    out_stop,
    is_src,
    max_hops,
    min_amount,
    taint,
    hop,
    status,
    sinks,
    origin,
    overlap,
    ivp,
    ivn,
    keep_all,
    pool_cap,
):  # type: ignore[no-untyped-def]
    """fifo / lifo with exact satoshi ranges. Returns the interval pool ``iv``: output ``o``'s
    tainted ranges, relative to its own first satoshi, are the ``[start, end)`` pairs
    ``iv[2q], iv[2q+1]`` for ``q`` in ``ivp[o]:ivp[o]+ivn[o]`` (``ivn[o]`` = 0: none).

    Memory follows the frontier of the taint, not its history: an output's ranges are written
    once (when the transaction that creates it forward, or spends it backward, is swept) and
    read once (when the taint moves on); unless ``keep_all``, they are dropped at that read
    (``ivp[o]`` = -1, recomputable by a ``keep_all`` rerun) and the pool is compacted when
    full. Nearly every tainted output is spent again, so only the ranges of labeled, limited
    and unspent outputs stay, and the live pool is small enough to stay in cache. Starts and
    ends are interleaved so an output's ranges are one run of memory. Each transaction reads
    its entering ranges once, merging adjacent ones, and cuts them straight into the
    destinations' runs (no intermediate copy). ``keep_all`` must be set when an output can be
    read twice (forward over data with double spends). ``pool_cap``: initial pool size in
    ranges (it grows as needed).
    """
    n_tx = tx_coinbase.shape[0]
    n_out = out_value.shape[0]
    zero = out_value[0] - out_value[0] if n_out > 0 else 0
    n_src = 0
    for o in range(n_out):
        if is_src[o]:
            n_src += 1
    cap = pool_cap + n_src  # pool capacity in ranges
    iv = np.zeros_like(out_value[:1]).repeat(2 * cap)
    bcap = pool_cap + n_src  # blocks: (owner, position) of each run written, in pool order
    bown = np.zeros(bcap, dtype=np.int64)
    bpos = np.zeros(bcap, dtype=np.int64)
    nblk = 0
    used = 0
    sl_o = np.zeros(64, dtype=np.int64)  # the transaction's tainted slots: output, offset
    sl_off = np.zeros_like(out_value[:1]).repeat(64)
    for o in range(n_out):
        if is_src[o] and out_value[o] > 0:
            iv[2 * used] = zero
            iv[2 * used + 1] = out_value[o]
            ivp[o] = used
            ivn[o] = 1
            bown[nblk] = o
            bpos[nblk] = used
            nblk += 1
            used += 1
    for step in range(n_tx):
        t = n_tx - 1 - step if backward else step
        i0 = tx_in_ptr[t]
        i1 = tx_in_ptr[t + 1]
        o0 = tx_out_ptr[t]
        o1 = tx_out_ptr[t + 1]
        if backward and (tx_coinbase[t] or i1 == i0):
            continue  # newly mined: the outputs themselves are the origin (holding)
        # 1. the tainted slots entering the transaction, at their offsets in its satoshi order
        nsl = 0
        need = 0
        off = zero
        h = BIG_HOP
        n_from = o1 - o0 if backward else i1 - i0
        for j in range(n_from):
            if backward:
                o = o0 + j
                v = out_value[o]
            else:
                k = i1 - 1 - j if lifo else i0 + j
                o = in_spent[k]
                v = in_value[k]
            if o >= 0 and taint[o] > 0 and not out_stop[o]:
                if hop[o] >= max_hops or taint[o] < min_amount:
                    status[o] = 2
                else:
                    status[o] = 1
                    if hop[o] < h:
                        h = hop[o]
                    if nsl == sl_o.shape[0]:
                        sl_o = np.concatenate((sl_o, sl_o))
                        sl_off = np.concatenate((sl_off, sl_off))
                    sl_o[nsl] = o
                    sl_off[nsl] = off
                    nsl += 1
                    need += ivn[o]
            off += v
        if nsl == 0:
            continue
        n_to = i1 - i0 if backward else o1 - o0
        # 2. room for the worst case: every entering range cut at every destination boundary
        need += n_to
        if used + need > cap or nblk + n_to > bcap:
            if not keep_all:  # compact: keep the runs whose owner still points at them
                w = 0
                nb = 0
                for b in range(nblk):
                    o = bown[b]
                    p = bpos[b]
                    if ivp[o] != p:
                        continue
                    cnt = ivn[o]
                    if p != w:
                        for q in range(2 * cnt):
                            iv[2 * w + q] = iv[2 * p + q]
                    ivp[o] = w
                    bown[nb] = o
                    bpos[nb] = w
                    nb += 1
                    w += cnt
                used = w
                nblk = nb
            if 2 * (used + need) > cap:  # grow, leaving at least half free
                cap = max(2 * cap, 2 * (used + need))
                grown = np.zeros_like(out_value[:1]).repeat(2 * cap)
                grown[: 2 * used] = iv[: 2 * used]
                iv = grown
            if 2 * (nblk + n_to) > bcap:
                bcap = max(2 * bcap, 2 * (nblk + n_to))
                gb = np.zeros(bcap, dtype=np.int64)
                gb[:nblk] = bown[:nblk]
                bown = gb
                gb = np.zeros(bcap, dtype=np.int64)
                gb[:nblk] = bpos[:nblk]
                bpos = gb
        # 3. one pass over the entering ranges, merged when adjacent, cut at the boundaries of
        # the destination rows (outputs forward, inputs backward; then the tail: the fee
        # forward, input value missing from the data backward)
        j = 0  # open destination: rows [lo, hi) of the transaction's satoshis
        lo = zero
        hi = zero
        dest = -2
        k = 0
        c = zero
        start = used
        keep = False
        if n_to > 0:
            if backward:
                k = i1 - 1 if lifo else i0
                hi = in_value[k]
                dest = in_spent[k]
            else:
                k = o0
                hi = out_value[k]
                dest = k
            keep = dest >= 0 and not is_src[dest]
        si = 0
        q = 0
        qend = 0
        base = zero
        s = zero
        en = zero
        ps = zero
        pe = zero
        have = False
        while True:
            # the next entering range [s, en), merged into the pending [ps, pe) if adjacent
            while q == qend and si < nsl:
                if si > 0 and not keep_all:
                    ivp[sl_o[si - 1]] = -1  # read: the taint moves on
                o = sl_o[si]
                base = sl_off[si]
                q = ivp[o]
                qend = q + ivn[o]
                si += 1
            last = q == qend
            if not last:
                s = base + iv[2 * q]
                en = base + iv[2 * q + 1]
                q += 1
                if have and pe == s:
                    pe = en
                    continue
            # place the pending range; at the end, close every remaining destination
            cs = ps
            ce = pe if have else ps
            while True:
                if j < n_to and (cs >= hi or (last and cs >= ce)):
                    if dest == -1:
                        origin[in_addr[k]] += c
                    elif is_src[dest]:
                        overlap[0] += c
                    else:
                        taint[dest] = c
                        ivp[dest] = start
                        ivn[dest] = used - start
                        if used > start:
                            bown[nblk] = dest
                            bpos[nblk] = start
                            nblk += 1
                        if c > 0:
                            hop[dest] = h + 1
                    j += 1
                    lo = hi
                    c = zero
                    start = used
                    if j < n_to:
                        if backward:
                            k = i1 - 1 - j if lifo else i0 + j
                            hi = lo + in_value[k]
                            dest = in_spent[k]
                        else:
                            k = o0 + j
                            hi = lo + out_value[k]
                            dest = k
                        keep = dest >= 0 and not is_src[dest]
                    else:
                        keep = False
                    continue
                if cs >= ce:
                    break
                e2 = ce if j == n_to or ce < hi else hi
                c += e2 - cs
                if keep:
                    iv[2 * used] = cs - lo
                    iv[2 * used + 1] = e2 - lo
                    used += 1
                cs = e2
            if last:
                if not keep_all:
                    ivp[sl_o[nsl - 1]] = -1
                if backward:
                    sinks[2] += c
                else:
                    sinks[0] += c
                break
            ps = s
            pe = en
            have = True
    return iv[: 2 * used].copy()


utxo_scalar_jit = njit(cache=True)(utxo_scalar)
utxo_intervals_jit = njit(cache=True)(utxo_intervals)
