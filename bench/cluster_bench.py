"""Multi-input clustering throughput: numba union-find vs networkx connected components.

Usage: .venv/bin/python bench/cluster_bench.py --inputs 1000000 [--nx-inputs N] [--seed S]

History model (generated, deterministic per seed): transactions with a geometric number of
inputs (mean ~2.2, capped at 500); each input spends from a fresh address with probability 0.6,
else from a uniformly chosen earlier address (address reuse is what chains clusters together).
Both methods get the same "inputs of one transaction" groups; networkx gets them as star edges
(first input to each other input), union-find as CSR groups (``UnionFind.union_groups``).

networkx needs ~1 KB per node, so above ``--nx-inputs`` (default 1,000,000) it runs on a separate
history of ``--nx-inputs`` inputs (same model and seed) and its rate is extrapolated linearly
(said so in the output); on that sample both partitions are checked to be identical. networkx
runs in a forked child so the peak memory of each side is reported separately (ru_maxrss).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fundtrace.attribution.unionfind import UnionFind


def generate(n_inputs: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(members, offsets, n_addresses): CSR groups of address ids, one group per transaction."""
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.geometric(0.45, size=n_inputs), 500)
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, n_inputs)) + 1
    sizes = sizes[:k]
    sizes[-1] -= int(ends[k - 1]) - n_inputs
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    fresh = rng.random(n_inputs) < 0.6
    fresh[0] = True
    count = np.cumsum(fresh)  # addresses known after each input
    new_ids = count - 1
    before = np.maximum(count - fresh, 1)  # addresses known before this input
    reuse_ids = (rng.random(n_inputs) * before).astype(np.int64)
    members = np.where(fresh, new_ids, reuse_ids).astype(np.int64)
    return members, offsets, int(count[-1])


def canonical(labels_by_node: np.ndarray) -> np.ndarray:
    """Relabel components by their smallest member (union-find's convention)."""
    n = labels_by_node.shape[0]
    smallest = np.full(labels_by_node.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, labels_by_node, np.arange(n))
    return smallest[labels_by_node]


def _nx_child(n_inputs: int, seed: int, conn) -> None:
    import networkx as nx

    members, offsets, n_addr = generate(n_inputs, seed)
    t0 = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(range(n_addr))
    starts = offsets[:-1]
    sizes = np.diff(offsets)
    rep = np.repeat(members[starts], sizes)
    mask = np.ones(members.shape[0], dtype=bool)
    mask[starts] = False
    g.add_edges_from(zip(rep[mask].tolist(), members[mask].tolist(), strict=True))
    comp = np.empty(n_addr, dtype=np.int64)
    for cid, nodes in enumerate(nx.connected_components(g)):
        comp[list(nodes)] = cid
    elapsed = time.perf_counter() - t0
    conn.send((elapsed, canonical(comp)))
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=10_000_000)
    ap.add_argument("--nx-inputs", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    UnionFind(4).union_groups(np.array([0, 1, 2, 3]), np.array([0, 2, 4]))  # JIT warm-up

    t0 = time.perf_counter()
    members, offsets, n_addr = generate(args.inputs, args.seed)
    t_gen = time.perf_counter() - t0
    uf = UnionFind(n_addr)
    t0 = time.perf_counter()
    merges = uf.union_groups(members, offsets)
    roots = uf.roots()
    t_uf = time.perf_counter() - t0
    uf_rate = args.inputs / t_uf
    n_clusters = n_addr - merges
    biggest = int(np.bincount(roots).max())
    rss_uf = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    print(
        f"history: {args.inputs:,} inputs, {offsets.shape[0] - 1:,} txs, "
        f"{n_addr:,} addresses (generated in {t_gen:.1f}s, seed {args.seed})"
    )
    print(
        f"union-find: {t_uf:.3f}s  {uf_rate:,.0f} inputs/s  -> {n_clusters:,} clusters, "
        f"largest {biggest:,}; peak RSS {rss_uf:,.2f} GB"
    )

    nx_n = min(args.inputs, args.nx_inputs)
    sample_members, sample_offsets, sample_addr = generate(nx_n, args.seed)
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_nx_child, args=(nx_n, args.seed, child))
    p.start()
    t_nx, nx_comp = parent.recv()
    p.join()
    rss_nx = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    nx_rate = nx_n / t_nx
    # Same partition on the sample?
    s = UnionFind(sample_addr)
    t0 = time.perf_counter()
    s.union_groups(sample_members, sample_offsets)
    s_roots = s.roots()
    t_s = time.perf_counter() - t0
    same = bool(np.array_equal(s_roots, nx_comp))
    scaled = (
        ""
        if nx_n == args.inputs
        else f" (measured on a {nx_n:,}-input history of the same model; rate "
    )
    scaled += "" if nx_n == args.inputs else "extrapolated linearly)"
    print(
        f"networkx: {t_nx:.2f}s for {nx_n:,} inputs  {nx_rate:,.0f} inputs/s{scaled}; "
        f"peak RSS {rss_nx:,.2f} GB"
    )
    print(f"union-find on the same sample: {t_s:.3f}s; identical partition: {same}")
    print(
        f"speed-up: {uf_rate / nx_rate:,.1f}x (target >= 20x); "
        f"union-find peak {rss_uf:,.2f} GB (target <= 4 GB)"
    )
    if not same:
        sys.exit("partitions differ")


if __name__ == "__main__":
    main()
