"""Benchmark the tracing engine on a generated laundering graph.

    python bench/trace_bench.py --transfers 1000000

Generates an account ledger of N transfers and a Bitcoin graph of about N outputs, each with a
theft, splits, peel chains cashing out at exchanges, merges, a mixer (fan-in/fan-out) and
background traffic; runs every model forward from the theft; and, in the same run, (a) scipy's
``breadth_first_order`` reachability from the same sources over the same graph (the floor) and
(b) a straightforward networkx implementation of the same model on a sample of
``--nx-sample`` transfers, scaled linearly to N (said in the output). Ends with one line per
model: ``model=M events_per_s=X vs_bfs=R1 vs_networkx=R2 peak_mb=P`` (R1 = engine / BFS
time, R2 = networkx / engine time; peak_mb = process peak RSS so far).
"""

from __future__ import annotations

import argparse
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
    led = account_ledger_from_arrays(
        chain="eth",
        asset="native",
        tx_hashes=LazyNames("0xtx", n),
        addresses=LazyNames("0xa", n_addr),
        tx_id=np.arange(n),
        block=np.arange(n),
        tx_pos=np.zeros(n, dtype=np.int64),
        index=np.zeros(n, dtype=np.int64),
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
    t0 = time.perf_counter()
    adj = csr_matrix(
        (np.ones(int(m.sum()), dtype=np.int8), (led.ev_from[m], led.ev_to[m])),
        shape=(n_addr, n_addr),
    )
    breadth_first_order(adj, int(led.ev_to[src_event]), directed=True, return_predecessors=False)
    return time.perf_counter() - t0


def nx_accounts(led, src_event: int, model: str, labels, sample: int) -> float:
    """What a user would write: a networkx MultiDiGraph and a Python sweep over its edges."""
    k = min(sample, led.n_events)
    t0 = time.perf_counter()
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
    return (time.perf_counter() - t0) * led.n_events / k


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
    t0 = time.perf_counter()
    valid = g.in_spent >= 0
    in_tx = np.repeat(np.arange(g.n_tx), np.diff(g.tx_in_ptr))
    # output -> spending tx's outputs (2 per tx here, but keep it general with CSR)
    src = g.in_spent[valid]
    txs = in_tx[valid]
    n_out = g.tx_out_ptr[txs + 1] - g.tx_out_ptr[txs]
    rows = np.repeat(src, n_out)
    cols = np.repeat(g.tx_out_ptr[txs], n_out) + (
        np.arange(int(n_out.sum())) - np.repeat(np.cumsum(n_out) - n_out, n_out)
    )
    adj = csr_matrix(
        (np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(g.n_outputs, g.n_outputs)
    )
    breadth_first_order(adj, start, directed=True, return_predecessors=False)
    return time.perf_counter() - t0


def nx_utxo(g, model: str, sample_tx: int) -> float:
    """networkx DiGraph of tx -> output -> spending tx; topological sweep in Python."""
    k = min(sample_tx, g.n_tx)
    t0 = time.perf_counter()
    d = nx.DiGraph()
    for t in range(k):
        for o in range(int(g.tx_out_ptr[t]), int(g.tx_out_ptr[t + 1])):
            d.add_edge(("t", t), ("o", o), value=int(g.out_value[o]))
        for i in range(int(g.tx_in_ptr[t]), int(g.tx_in_ptr[t + 1])):
            if g.in_spent[i] >= 0:
                d.add_edge(("o", int(g.in_spent[i])), ("t", t))
    taint = {("o", 0): int(g.out_value[0])}
    for node in nx.topological_sort(d):
        if node[0] != "t":
            continue
        ins = [p for p in d.predecessors(node)]
        tin = sum(taint.get(p, 0) for p in ins)
        if not tin:
            continue
        outs = sorted(d.successors(node), key=lambda o: o[1])
        vals = [d.edges[node, o]["value"] for o in outs]
        total = sum(d.edges[p, node].get("value", 0) for p in ins) or 1
        if model == "poison":
            for o in outs:
                taint[o] = d.edges[node, o]["value"]
        elif model == "haircut":
            for o, v in zip(outs, vals, strict=True):
                taint[o] = v * tin // total
        else:  # fifo/lifo/tiho: fill in order (a user's simplification)
            left = tin
            for o, v in zip(outs, vals, strict=True):
                c = min(v, left)
                taint[o] = c
                left -= c
    return (time.perf_counter() - t0) * g.n_tx / k


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transfers", type=int, default=10_000_000)
    ap.add_argument("--nx-sample", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    n = args.transfers
    rng = np.random.default_rng(args.seed)
    lines = []

    t0 = time.perf_counter()
    led, src, labels = gen_accounts(n, rng)
    print(
        f"accounts: generated {led.n_events} transfers, {led.n_addresses} addresses in "
        f"{time.perf_counter() - t0:.1f}s; peak {peak_mb():.0f} MB"
    )
    # warm up the compiled kernels on a tiny ledger so compile time is not measured
    small, s_src, s_lab = gen_accounts(2000, np.random.default_rng(1))
    for m in ("poison", "haircut", "fifo", "lifo"):
        trace(small, [(f"0xtx{s_src}", None, None)], model=m, attribution=s_lab)
    bfs_t = min(bfs_accounts(led, src) for _ in range(2))
    print(f"accounts: scipy BFS reachability {bfs_t:.3f}s")
    source = [(f"0xtx{src}", None, None)]
    for m in ("poison", "haircut", "fifo", "lifo"):
        eng = timed(lambda m=m: trace(led, source, model=m, attribution=labels), 2)
        r = trace(led, source, model=m, attribution=labels)
        nxt = nx_accounts(led, src, m, labels, args.nx_sample)
        s = r.summary()
        print(
            f"accounts {m}: engine {eng:.3f}s, networkx (sample {min(args.nx_sample, n)} "
            f"transfers, scaled x{n / min(args.nx_sample, n):.1f}) {nxt:.1f}s; "
            f"labeled {sum(s['by_entity'].values())} holding {s['holding']} fee {s['fee']}"
        )
        lines.append(
            f"model={m} events_per_s={led.n_events / eng:.3g} vs_bfs={eng / bfs_t:.2f} "
            f"vs_networkx={nxt / eng:.0f} peak_mb={peak_mb():.0f}"
        )
    led = r = None  # free the ledger before the Bitcoin graph

    t0 = time.perf_counter()
    g, usrc, ulabels = gen_utxo(n, rng)
    print(
        f"bitcoin: generated {g.n_tx} txs, {g.n_outputs} outputs, "
        f"{g.in_spent.shape[0]} inputs in {time.perf_counter() - t0:.1f}s"
    )
    sg, _, sl = gen_utxo(4000, np.random.default_rng(1))
    for m in ("poison", "haircut", "fifo", "lifo", "tiho"):
        trace(sg, [("tx0", 0)], model=m, attribution=sl)
    ubfs = min(bfs_utxo(g, g.output_row(*usrc)) for _ in range(2))
    print(f"bitcoin: scipy BFS reachability {ubfs:.3f}s")
    for m in ("poison", "haircut", "fifo", "lifo", "tiho"):
        eng = timed(lambda m=m: trace(g, [usrc], model=m, attribution=ulabels), 2)
        nxt = nx_utxo(g, m, args.nx_sample // 2)
        sm = trace(g, [usrc], model=m, attribution=ulabels).summary()
        print(
            f"bitcoin {m}: labeled {sum(sm['by_entity'].values())} holding {sm['holding']} "
            f"fee {sm['fee']} limit {sm['limit']}"
        )
        print(
            f"bitcoin {m}: engine {eng:.3f}s, networkx (sample {min(args.nx_sample // 2, g.n_tx)}"
            f" txs, scaled) {nxt:.1f}s"
        )
        lines.append(
            f"model=btc-{m} events_per_s={g.n_events / eng:.3g} "
            f"vs_bfs={eng / ubfs:.2f} vs_networkx={nxt / eng:.0f} peak_mb={peak_mb():.0f}"
        )
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
