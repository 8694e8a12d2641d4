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
    for step in range(n_tx):
        t = n_tx - 1 - step if backward else step
        i0 = tx_in_ptr[t]
        i1 = tx_in_ptr[t + 1]
        o0 = tx_out_ptr[t]
        o1 = tx_out_ptr[t + 1]
        if backward and (tx_coinbase[t] or i1 == i0):
            continue  # newly mined: the outputs themselves are the origin (holding)
        x = zero
        total_in = x
        total_out = x
        h = BIG_HOP
        for k in range(i0, i1):
            total_in += in_value[k]
        for o in range(o0, o1):
            total_out += out_value[o]
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
        if backward:
            m = i1 - i0
            w = in_value[i0:i1].copy()
            denom = total_in
        else:
            m = o1 - o0
            w = np.concatenate((out_value[o0:o1], out_value[o0 : o0 + 1]))
            fee = total_in - total_out
            w[m] = fee if fee > 0 else fee - fee
            denom = total_in if fee > 0 else total_out
        share = np.zeros_like(w)
        rest = x - x
        if model == POISON:
            for j in range(w.shape[0]):
                share[j] = w[j]
        elif model == HAIRCUT:
            if x > denom:
                rest = x - denom
                x = denom
            apportion(x, w, denom, share)
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
):  # type: ignore[no-untyped-def]
    """fifo / lifo with exact satoshi ranges. Returns the interval pool (starts, ends); output
    ``o``'s tainted ranges, relative to its own first satoshi, are rows ``ivp[o]:ivp[o]+ivn[o]``."""
    n_tx = tx_coinbase.shape[0]
    n_out = out_value.shape[0]
    zero = out_value[0] - out_value[0] if n_out > 0 else 0
    cap = 1024
    ivs = np.zeros_like(out_value[:1]).repeat(cap)
    ive = np.zeros_like(out_value[:1]).repeat(cap)
    used = 0
    rs = np.zeros_like(out_value[:1]).repeat(64)
    re = np.zeros_like(out_value[:1]).repeat(64)
    for o in range(n_out):
        if is_src[o] and out_value[o] > 0:
            if used == ivs.shape[0]:
                ivs = np.concatenate((ivs, ivs))
                ive = np.concatenate((ive, ive))
            ivs[used] = zero
            ive[used] = out_value[o]
            ivp[o] = used
            ivn[o] = 1
            used += 1
    for step in range(n_tx):
        t = n_tx - 1 - step if backward else step
        i0 = tx_in_ptr[t]
        i1 = tx_in_ptr[t + 1]
        o0 = tx_out_ptr[t]
        o1 = tx_out_ptr[t + 1]
        if backward and (tx_coinbase[t] or i1 == i0):
            continue  # newly mined: the outputs themselves are the origin (holding)
        # 1. tainted ranges entering the transaction, in its own satoshi coordinates
        nr = 0
        off = zero
        x = zero
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
                    x += taint[o]
                    if hop[o] < h:
                        h = hop[o]
                    for q in range(ivp[o], ivp[o] + ivn[o]):
                        s = off + ivs[q]
                        en = off + ive[q]
                        if nr > 0 and re[nr - 1] == s:
                            re[nr - 1] = en
                            continue
                        if nr == rs.shape[0]:
                            rs = np.concatenate((rs, rs))
                            re = np.concatenate((re, re))
                        rs[nr] = s
                        re[nr] = en
                        nr += 1
            off += v
        if nr == 0:
            continue
        # 2. cut the ranges at the destination rows' boundaries
        n_to = i1 - i0 if backward else o1 - o0
        r = 0
        lo = zero
        for j in range(n_to + 1):
            if j < n_to:
                if backward:
                    k = i1 - 1 - j if lifo else i0 + j
                    v = in_value[k]
                    dest = in_spent[k]
                else:
                    k = o0 + j
                    v = out_value[k]
                    dest = k
                hi = lo + v
            else:  # the tail: fee (forward) or input value missing from the data (backward)
                dest = -2
                hi = re[nr - 1] if re[nr - 1] > lo else lo
            while r < nr and re[r] <= lo:
                r += 1
            c = zero
            start = used
            q = r
            while q < nr and rs[q] < hi:
                s = rs[q] if rs[q] > lo else lo
                en = re[q] if re[q] < hi else hi
                if en > s:
                    c += en - s
                    if dest >= 0 and not is_src[dest]:
                        if used == ivs.shape[0]:
                            ivs = np.concatenate((ivs, ivs))
                            ive = np.concatenate((ive, ive))
                        ivs[used] = s - lo
                        ive[used] = en - lo
                        used += 1
                q += 1
            if dest == -2:
                if backward:
                    sinks[2] += c
                else:
                    sinks[0] += c
            elif dest == -1:
                origin[in_addr[k]] += c
            elif is_src[dest]:
                overlap[0] += c
            else:
                taint[dest] = c
                ivp[dest] = start
                ivn[dest] = used - start
                if c > 0:
                    hop[dest] = h + 1
            lo = hi
    return ivs[:used], ive[:used]


utxo_scalar_jit = njit(cache=True)(utxo_scalar)
utxo_intervals_jit = njit(cache=True)(utxo_intervals)
