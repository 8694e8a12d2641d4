"""Benchmark the tracing engine on a generated laundering graph.

    python bench/trace_bench.py --transfers 1000000

Generates an account ledger of N transfers and a Bitcoin graph of about N outputs, each with a
theft, splits, peel chains cashing out at exchanges, merges, a mixer (fan-in/fan-out) and
background traffic; runs every model forward from the theft; and, in the same run, (a) scipy's
``breadth_first_order`` reachability from the same sources over the same graph (the floor) and
(b) a straightforward networkx implementation of the same model on a sample of
``--nx-sample`` transfers (Bitcoin: half as many transactions, from the theft on), scaled
linearly to N (said in the output). Ends with one line per model:
``model=M events_per_s=X vs_bfs=R1 vs_networkx=R2 peak_mb=P`` (R1 = engine / BFS time,
R2 = networkx / engine time; peak_mb = process peak RSS so far).

Engine and BFS times are the best of ``--repeat`` runs and include each side's setup over the
stored arrays (BFS builds its CSR matrix; ``trace`` resolves sources and labels). The BFS
follows every edge (no stop at labeled addresses), so it visits at least what the engine does.
On a machine shared with other jobs, ``--clock cpu`` times this process's CPU instead of wall
time (every timed path is single-threaded).
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from fundtrace.tracing import (
    KIND_NATIVE,
    account_ledger_from_arrays,
    trace,
    utxo_graph_from_arrays,
)

clock = time.perf_counter  # --clock cpu: time.process_time (for a machine shared with others)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class LazyNames:
    """Address names made on demand, so the benchmark does not hold millions of strings."""

    def __init__(self, prefix: str, n: int) -> None:
        self.prefix, self.n = prefix, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> str:
        return f"{self.prefix}{i}"

    def __iter__(self):
        return (f"{self.prefix}{i}" for i in range(self.n))


# ----------------------------------------------------------------------------- accounts


def gen_accounts(n: int, rng: np.random.Generator):
    n_addr = max(n // 4, 1000)
    n_exch = 50
    mixer = n_addr - 1
    f = rng.integers(0, n_addr, n)
    t = rng.integers(0, n_addr, n)
    amt = rng.integers(1, 10**8, n)
    mint = rng.random(n) < 0.1
    f[mint] = -1
    amt[mint] *= 10
    # laundering script, placed at increasing random positions among the background
    thief = n_exch
    script_f, script_t, script_a = [-1], [thief], [10**12]  # the theft
    thief_split = rng.integers(n_exch, n_addr - 1, 100)
    for a in thief_split:
        script_f.append(thief)
        script_t.append(int(a))
        script_a.append(10**10)
    for a in thief_split:  # peel chains: each hop peels 2% to an exchange, forwards the rest
        cur, bal = int(a), 10**10
        for _ in range(40):
            nxt = int(rng.integers(n_exch, n_addr - 1))
            peel = bal // 50
            script_f += [cur, cur]
            script_t += [int(rng.integers(0, n_exch)), nxt]
            script_a += [peel, bal - peel]
            cur, bal = nxt, bal - peel
        script_f.append(cur)
        script_t.append(mixer)  # merge into the mixer
        script_a.append(bal)
    for _ in range(300):  # mixer fan-out
        script_f.append(mixer)
        script_t.append(int(rng.integers(n_exch, n_addr - 1)))
        script_a.append(10**9)
    k = min(len(script_f), n)
    pos = np.sort(rng.choice(n, k, replace=False))
    f[pos] = script_f[:k]
    t[pos] = script_t[:k]
    amt[pos] = script_a[:k]
    seq = np.arange(n, dtype=np.int64)  # one tx per block; the ledger keeps these columns
    zeros = np.zeros(n, dtype=np.int64)
    led = account_ledger_from_arrays(
        chain="eth",
        asset="native",
        tx_hashes=LazyNames("0xtx", n),
        addresses=LazyNames("0xa", n_addr),
        tx_id=seq,
        block=seq,
        tx_pos=zeros,
        index=zeros,
        kind=np.full(n, KIND_NATIVE, dtype=np.int8),
        from_id=f,
        to_id=t,
        amount=amt,
        presorted=True,
    )
    labels = {f"0xa{i}": (f"Exchange{i % 7}", "exchange") for i in range(n_exch)}
    labels[f"0xa{mixer}"] = ("Mixer", "mixer")
    return led, int(pos[0]), labels


def bfs_accounts(led, src_event: int) -> float:
    n_addr = led.n_addresses
    m = (led.ev_from >= 0) & (led.ev_to >= 0)
    t0 = clock()
    adj = csr_matrix(
        (
            np.ones(int(m.sum()), dtype=np.int8),
            (led.ev_from[m].astype(np.int32), led.ev_to[m].astype(np.int32)),
        ),
        shape=(n_addr, n_addr),
    )
    breadth_first_order(adj, int(led.ev_to[src_event]), directed=True, return_predecessors=False)
    return clock() - t0


def nx_accounts(led, src_event: int, model: str, labels, sample: int) -> float:
    """What a user would write: a networkx MultiDiGraph and a Python sweep over its edges."""
    k = min(sample, led.n_events)
    t0 = clock()
    g = nx.MultiDiGraph()
    for e in range(k):
        g.add_edge(int(led.ev_from[e]), int(led.ev_to[e]), key=e, amount=int(led.ev_amount[e]))
    stop = {led.address_id(a) for a in labels}
    bal: dict[int, int] = {}
    tnt: dict[int, int] = {}
    lots: dict[int, list[list[int]]] = {}
    for u, v, e, d in sorted(g.edges(keys=True, data=True), key=lambda x: x[2]):
        x = d["amount"]
        t = 0
        if u >= 0:
            b = max(bal.get(u, 0), x)
            tu = tnt.get(u, 0)
            if model in ("fifo", "lifo"):
                q = lots.setdefault(u, [])
                need = min(x, bal.get(u, 0))
                while need and q:
                    lot = q[0] if model == "fifo" else q[-1]
                    take = min(lot[0], need)
                    t += take if lot[1] else 0
                    lot[0] -= take
                    need -= take
                    if not lot[0]:
                        q.pop(0 if model == "fifo" else -1)
                tnt[u] = tu - t
            elif tu:
                t = x if model == "poison" else x * tu // b
                if model != "poison":
                    tnt[u] = tu - t
            bal[u] = b - x
        if e == src_event:
            t = x
        if v >= 0:
            bal[v] = bal.get(v, 0) + x
            if v not in stop:
                tnt[v] = tnt.get(v, 0) + t
                if model in ("fifo", "lifo"):
                    lots.setdefault(v, []).append([x, t > 0])
    return (clock() - t0) * led.n_events / k


# ----------------------------------------------------------------------------- bitcoin


def gen_utxo(n_outputs: int, rng: np.random.Generator):
    """Transactions of 1-3 inputs and 2 outputs (payment + change), a theft tx first."""
    n_tx = n_outputs // 2
    n_cb = max(n_tx // 20, 10)
    spend_n = rng.integers(1, 4, n_tx)
    spend_n[:n_cb] = 0
    in_ptr = np.zeros(n_tx + 1, dtype=np.int64)
    np.cumsum(spend_n, out=in_ptr[1:])
    out_ptr = np.arange(0, 2 * n_tx + 1, 2, dtype=np.int64)
    out_value = np.zeros(2 * n_tx, dtype=np.int64)
    out_value[: 2 * n_cb] = rng.integers(10**6, 10**9, 2 * n_cb)
    in_spent = np.full(int(in_ptr[-1]), -1, dtype=np.int64)
    in_value = np.zeros(int(in_ptr[-1]), dtype=np.int64)
    # recent-output pool: spend outputs created shortly before (peel chains, merges)
    pool = list(range(2 * n_cb))
    rand = rng.random(int(in_ptr[-1]) + n_tx)
    ri = 0
    for tx in range(n_cb, n_tx):
        total = 0
        for k in range(int(in_ptr[tx]), int(in_ptr[tx + 1])):
            j = len(pool) - 1 - int(rand[ri] * min(len(pool), 64))
            ri += 1
            o = pool[j]
            pool[j] = pool[-1]
            pool.pop()
            in_spent[k] = o
            v = int(out_value[o])
            in_value[k] = v
            total += v
        fee = min(1000, total // 100)
        pay = int((total - fee) * (0.05 + 0.9 * rand[ri]))
        ri += 1
        out_value[2 * tx] = pay
        out_value[2 * tx + 1] = total - fee - pay
        pool += [2 * tx, 2 * tx + 1]
        if len(pool) < 8:
            pool += []
    n_addr = max(n_outputs // 3, 100)
    out_addr = rng.integers(0, n_addr, 2 * n_tx)
    in_addr = np.where(in_spent >= 0, out_addr[np.maximum(in_spent, 0)], 0)
    g = utxo_graph_from_arrays(
        txids=LazyNames("tx", n_tx),
        addresses=LazyNames("bc1q", n_addr),
        tx_in_ptr=in_ptr,
        tx_out_ptr=out_ptr,
        in_spent=in_spent,
        in_value=in_value,
        in_addr=in_addr,
        out_value=out_value,
        out_addr=out_addr,
    )
    labels = {f"bc1q{i}": (f"Exchange{i % 7}", "exchange") for i in range(20)}
    # the theft: the first coinbase output that is spent (so the trace has somewhere to go);
    # each spend is a hop of a split / peel / merge chain
    first = int(in_spent[int(in_ptr[n_cb])])
    return g, (f"tx{first // 2}", first % 2), labels


def bfs_utxo(g, start: int) -> float:
    """Reachability over outputs: an output leads to every output of the transaction spending
    it (the graph the engine sweeps). The CSR matrix is built directly from the graph's
    spender and output offsets (int32 indices), as a C traversal would be fed."""
    t0 = clock()
    sp = g.out_spender
    has = sp >= 0
    deg = np.zeros(g.n_outputs, dtype=np.int32)
    first = g.tx_out_ptr[sp[has]]
    deg[has] = g.tx_out_ptr[sp[has] + 1] - first
    indptr = np.zeros(g.n_outputs + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    total = int(indptr[-1])
    # row o's neighbours are first_o, first_o + 1, ...: k + (first_o - indptr[o]) at slot k
    shift = (first - indptr[:-1][has]).astype(np.int32)
    indices = np.repeat(shift, deg[has])
    indices += np.arange(total, dtype=np.int32)
    del shift, first, deg
    adj = csr_matrix(
        (np.ones(total, dtype=np.int8), indices, indptr.astype(np.int32)),
        shape=(g.n_outputs, g.n_outputs),
    )
    breadth_first_order(adj, start, directed=True, return_predecessors=False)
    return clock() - t0


def nx_utxo(
    g, model: str, src_row: int, out_stop: np.ndarray, sample_tx: int, check: dict | None = None
) -> float:
    """The same model as the engine, written the way a user would with networkx.

    A ``DiGraph`` with a node per transaction and per output (``value`` attribute), edges
    tx -> output and output -> spending tx (``pos`` = input position), swept in
    ``nx.topological_sort`` order in Python: a transaction spending taint sorts its inputs by
    position and its outputs by vout, then applies the model exactly as the engine does,
    stopping at labeled outputs: poison marks every output, haircut gives ``v * T // I``
    (floors: the largest-remainder fix-up is left out, which only makes this faster), tiho
    fills outputs by descending value, and fifo/lifo keep each output's tainted satoshi ranges
    as a Python list of ``(start, end)``, concatenated over the inputs (reversed for lifo) and
    cut at each output's bounds. Graph building is timed, as the BFS floor times building its
    CSR matrix. Runs on a window of ``sample_tx`` transactions starting at the first one that
    spends the source (the outputs they spend are added as nodes), and the time is scaled
    linearly to the whole graph by events (inputs + outputs).
    """
    t_first = int(g.out_spender[src_row])
    t_end = min(t_first + sample_tx, g.n_tx)
    i_lo, i_hi = int(g.tx_in_ptr[t_first]), int(g.tx_in_ptr[t_end])
    o_lo, o_hi = int(g.tx_out_ptr[t_first]), int(g.tx_out_ptr[t_end])
    window_events = (i_hi - i_lo) + (o_hi - o_lo)
    t0 = clock()
    d = nx.DiGraph()
    for t in range(t_first, t_end):
        for o in range(int(g.tx_out_ptr[t]), int(g.tx_out_ptr[t + 1])):
            d.add_node(("o", o), value=int(g.out_value[o]))
            d.add_edge(("t", t), ("o", o))
        for pos, i in enumerate(range(int(g.tx_in_ptr[t]), int(g.tx_in_ptr[t + 1]))):
            o = int(g.in_spent[i])
            if o >= 0:
                if ("o", o) not in d:
                    d.add_node(("o", o), value=int(g.out_value[o]))
                d.add_edge(("o", o), ("t", t), pos=pos)
    src = ("o", src_row)
    taint = {src: int(g.out_value[src_row])}
    ranges = {src: [(0, taint[src])]}
    for node in nx.topological_sort(d):
        if node[0] != "t":
            continue
        ins = sorted(d.predecessors(node), key=lambda p: d.edges[p, node]["pos"])
        live = [p for p in ins if taint.get(p) and not out_stop[p[1]]]
        if not live:
            continue
        tin = sum(taint[p] for p in live)
        total = sum(d.nodes[p]["value"] for p in ins) or 1
        outs = sorted(d.successors(node), key=lambda o: o[1])
        vals = [d.nodes[o]["value"] for o in outs]
        if model == "poison":
            for o, v in zip(outs, vals, strict=True):
                taint[o] = v
        elif model == "haircut":
            for o, v in zip(outs, vals, strict=True):
                taint[o] = v * tin // total
        elif model == "tiho":
            left = tin
            for j in sorted(range(len(outs)), key=lambda j: (-vals[j], j)):
                taint[outs[j]] = min(vals[j], left)
                left -= taint[outs[j]]
        else:  # fifo / lifo: exact satoshi ranges
            seq = []
            off = 0
            for p in reversed(ins) if model == "lifo" else ins:
                if p in live:
                    for s, e in ranges[p]:  # merge adjacent ranges, as the engine does
                        if seq and seq[-1][1] == off + s:
                            seq[-1] = (seq[-1][0], off + e)
                        else:
                            seq.append((off + s, off + e))
                off += d.nodes[p]["value"]
            lo = 0
            for o, v in zip(outs, vals, strict=True):
                hi = lo + v
                cut = [(max(s, lo) - lo, min(e, hi) - lo) for s, e in seq if s < hi and e > lo]
                ranges[o] = cut
                taint[o] = sum(e - s for s, e in cut)
                lo = hi
    elapsed = clock() - t0
    if check is not None:  # for cross-checking against the engine
        check.update((o[1], v) for o, v in taint.items())
    return elapsed * g.n_events / max(window_events, 1)


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transfers", type=int, default=10_000_000)
    ap.add_argument("--nx-sample", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3, help="best of R runs (engine and BFS)")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time, or this process's CPU time (every timed path is single-threaded, so "
        "cpu is wall time without the other processes of a shared machine)",
    )
    args = ap.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"clock: {args.clock}; best of {args.repeat} runs")
    n = args.transfers
    rng = np.random.default_rng(args.seed)
    lines = []

    t0 = clock()
    led, src, labels = gen_accounts(n, rng)
    print(
        f"accounts: generated {led.n_events} transfers, {led.n_addresses} addresses in "
        f"{clock() - t0:.1f}s; peak {peak_mb():.0f} MB"
    )
    # warm up the compiled kernels on a tiny ledger so compile time is not measured
    small, s_src, s_lab = gen_accounts(2000, np.random.default_rng(1))
    for m in ("poison", "haircut", "fifo", "lifo"):
        trace(small, [(f"0xtx{s_src}", None, None)], model=m, attribution=s_lab)
    bfs_t = min(bfs_accounts(led, src) for _ in range(args.repeat))
    print(f"accounts: scipy BFS reachability {bfs_t:.3f}s")
    source = [(f"0xtx{src}", None, None)]
    for m in ("poison", "haircut", "fifo", "lifo"):
        eng = timed(lambda m=m: trace(led, source, model=m, attribution=labels), args.repeat)
        s = trace(led, source, model=m, attribution=labels).summary()
        nxt = nx_accounts(led, src, m, labels, args.nx_sample)
        gc.collect()  # networkx leaves millions of small objects behind
        print(
            f"accounts {m}: engine {eng:.3f}s, networkx (sample {min(args.nx_sample, n)} "
            f"transfers, scaled x{n / min(args.nx_sample, n):.1f}) {nxt:.1f}s; "
            f"labeled {sum(s['by_entity'].values())} holding {s['holding']} fee {s['fee']}"
        )
        lines.append(
            f"model={m} events_per_s={led.n_events / eng:.3g} vs_bfs={eng / bfs_t:.2f} "
            f"vs_networkx={nxt / eng:.0f} peak_mb={peak_mb():.0f}"
        )
    led = None  # free the ledger before the Bitcoin graph

    t0 = clock()
    g, usrc, ulabels = gen_utxo(n, rng)
    print(
        f"bitcoin: generated {g.n_tx} txs, {g.n_outputs} outputs, "
        f"{g.in_spent.shape[0]} inputs in {clock() - t0:.1f}s"
    )
    sg, _, sl = gen_utxo(4000, np.random.default_rng(1))
    for m in ("poison", "haircut", "fifo", "lifo", "tiho"):
        trace(sg, [("tx0", 0)], model=m, attribution=sl)
    src_row = g.output_row(*usrc)
    ubfs = min(bfs_utxo(g, src_row) for _ in range(args.repeat))
    stop = np.zeros(len(g.addresses), dtype=np.bool_)
    stop[[g.address_id(a) for a in ulabels]] = True
    out_stop = stop[g.out_addr]
    print(f"bitcoin: scipy BFS reachability {ubfs:.3f}s")
    for m in ("poison", "haircut", "fifo", "lifo", "tiho"):
        eng = timed(lambda m=m: trace(g, [usrc], model=m, attribution=ulabels), args.repeat)
        nxt = nx_utxo(g, m, src_row, out_stop, args.nx_sample // 2)
        sm = trace(g, [usrc], model=m, attribution=ulabels).summary()
        gc.collect()
        print(
            f"bitcoin {m}: labeled {sum(sm['by_entity'].values())} holding {sm['holding']} "
            f"fee {sm['fee']} limit {sm['limit']}"
        )
        print(
            f"bitcoin {m}: engine {eng:.3f}s, networkx (window of "
            f"{min(args.nx_sample // 2, g.n_tx)} txs from the source, scaled by events) {nxt:.1f}s"
        )
        lines.append(
            f"model=btc-{m} events_per_s={g.n_events / eng:.3g} "
            f"vs_bfs={eng / ubfs:.2f} vs_networkx={nxt / eng:.0f} peak_mb={peak_mb():.0f}"
        )
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
