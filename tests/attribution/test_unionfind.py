import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrace.attribution.unionfind import UnionFind


def naive_components(n, pairs):
    comp = list(range(n))
    for a, b in pairs:
        ca, cb = comp[a], comp[b]
        if ca != cb:
            comp = [ca if c == cb else c for c in comp]
    # canonical: the smallest member of each component
    smallest = {}
    for i, c in enumerate(comp):
        smallest.setdefault(c, i)
    return [smallest[c] for c in comp]


pairs_strategy = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80)
    )
)


@settings(max_examples=150, deadline=None)
@given(pairs_strategy)
def test_equivalent_to_naive(case):
    n, pairs = case
    uf = UnionFind(n)
    half = len(pairs) // 2
    # incremental: two batches, the second after a save/load round trip
    if half:
        uf.union_pairs(
            np.array([a for a, _ in pairs[:half]]), np.array([b for _, b in pairs[:half]])
        )
    uf = UnionFind.from_array(uf.to_array())
    rest = pairs[half:]
    if rest:
        uf.union_pairs(np.array([a for a, _ in rest]), np.array([b for _, b in rest]))
    expected = naive_components(n, pairs)
    assert uf.roots().tolist() == expected
    assert [uf.find(i) for i in range(n)] == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=6), max_size=20))
def test_groups_equal_pairs(groups):
    members = np.array([m for g in groups for m in g], dtype=np.int64)
    offsets = np.cumsum([0] + [len(g) for g in groups])
    n = 31
    a = UnionFind(n)
    merges = a.union_groups(members, offsets)
    pairs = [(g[0], m) for g in groups for m in g[1:]]
    expected = naive_components(n, pairs)
    assert a.roots().tolist() == expected
    assert merges == n - len(set(expected))


def test_grows_and_counts_merges():
    uf = UnionFind()
    assert uf.union_pairs(np.array([5, 6, 5]), np.array([6, 7, 7])) == 2
    assert len(uf) == 8 and uf.find(7) == 5 and not uf.same(0, 5)
    assert not uf.union(6, 7)


def test_from_array_rejects_garbage():
    import pytest

    with pytest.raises(ValueError):
        UnionFind.from_array(np.array([0, 2, 1]))  # parent above the element: not our layout
