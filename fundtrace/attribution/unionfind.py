"""Array-backed union-find (disjoint sets) compiled with numba.

Clustering a chain means billions of ``union`` calls; Python objects per address would not fit in
memory nor finish. Elements are dense integer ids (see ``clustering.AddressIndex``); the state is
one int64 ``parent`` array, so it saves and loads as a plain array and extends incrementally.

The root of every set is its *smallest* element id. That makes the cluster id deterministic (the
first-seen address of the cluster) and independent of union order, which is what lets a bulk
(Spark) job and this incremental one agree on identical clusters. Path halving keeps finds short;
without union-by-rank the amortised bound is O(log n) per operation, measured fast enough in
``bench/cluster_bench.py``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["UnionFind"]


@numba.njit(cache=True, nogil=True)
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=True, nogil=True)
def _union_pairs(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> int:
    merges = 0
    for i in range(a.shape[0]):
        ra = _find(parent, a[i])
        rb = _find(parent, b[i])
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
            merges += 1
    return merges


@numba.njit(cache=True, nogil=True)
def _union_groups(parent: np.ndarray, members: np.ndarray, offsets: np.ndarray) -> int:
    """Union each group members[offsets[g]:offsets[g+1]] into one set (multi-input clustering)."""
    merges = 0
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        hi = offsets[g + 1]
        if hi - lo < 2:
            continue
        r0 = _find(parent, members[lo])
        for j in range(lo + 1, hi):
            r = _find(parent, members[j])
            if r != r0:
                if r < r0:
                    parent[r0] = r
                    r0 = r
                else:
                    parent[r] = r0
                merges += 1
    return merges


@numba.njit(cache=True, nogil=True)
def _roots(parent: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        # Roots are the minimum id, so parent[i] <= i and parent[i]'s root is already known.
        p = parent[i]
        out[i] = i if p == i else out[p] if p < i else _find(parent, i)
        parent[i] = out[i]
    return out


class UnionFind:
    """Disjoint sets over ids ``0..n-1``; grows on demand."""

    def __init__(self, n: int = 0) -> None:
        self._parent = np.arange(max(n, 16), dtype=np.int64)
        self._n = n

    def __len__(self) -> int:
        return self._n

    def grow(self, n: int) -> None:
        """Make ids up to ``n-1`` valid (new ids are singletons)."""
        if n <= self._n:
            return
        if n > self._parent.shape[0]:
            cap = max(n, int(self._parent.shape[0] * 1.5) + 16)
            new = np.arange(cap, dtype=np.int64)
            new[: self._n] = self._parent[: self._n]
            self._parent = new
        self._n = n

    def find(self, x: int) -> int:
        if not 0 <= x < self._n:
            raise IndexError(f"id {x} outside 0..{self._n - 1}")
        return int(_find(self._parent, x))

    def union(self, a: int, b: int) -> bool:
        return self.union_pairs(np.array([a]), np.array([b])) == 1

    def union_pairs(self, a: np.ndarray, b: np.ndarray) -> int:
        """Union a[i] with b[i] for all i; returns how many merges happened."""
        a = np.ascontiguousarray(a, dtype=np.int64)
        b = np.ascontiguousarray(b, dtype=np.int64)
        if a.shape != b.shape:
            raise ValueError("a and b differ in length")
        if a.size:
            hi = int(max(a.max(), b.max()))
            if min(int(a.min()), int(b.min())) < 0:
                raise IndexError("negative id")
            self.grow(hi + 1)
        return int(_union_pairs(self._parent, a, b))

    def union_groups(self, members: np.ndarray, offsets: np.ndarray) -> int:
        """Union each ``members[offsets[g]:offsets[g+1]]``; ``offsets`` starts at 0 (CSR)."""
        members = np.ascontiguousarray(members, dtype=np.int64)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        if members.size:
            if int(members.min()) < 0:
                raise IndexError("negative id")
            self.grow(int(members.max()) + 1)
        return int(_union_groups(self._parent, members, offsets))

    def roots(self) -> np.ndarray:
        """Root (= smallest member id) of every element; also fully compresses the paths."""
        return _roots(self._parent, self._n)

    def same(self, a: int, b: int) -> bool:
        return self.find(a) == self.find(b)

    def to_array(self) -> np.ndarray:
        """The state to persist: the parent array (a copy, length ``len(self)``)."""
        return self._parent[: self._n].copy()

    @classmethod
    def from_array(cls, parent: np.ndarray) -> UnionFind:
        parent = np.asarray(parent, dtype=np.int64)
        n = parent.shape[0]
        if n and (parent.min() < 0 or parent.max() >= n or np.any(parent > np.arange(n))):
            raise ValueError("not a union-find parent array (roots must be the minimum id)")
        uf = cls(0)
        uf._parent = np.arange(max(n, 16), dtype=np.int64)
        uf._parent[:n] = parent
        uf._n = n
        return uf
