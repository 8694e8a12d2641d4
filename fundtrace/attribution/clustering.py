"""Address clusters of one chain: interned addresses, a union-find and the evidence links.

A :class:`Clustering` is built incrementally: :func:`cluster_transactions` takes the next batch
of canonical transactions (in chain order), runs the chain's heuristics and unions the links at
or above ``min_confidence``. Weaker links are kept as evidence but do not merge. The whole state
round-trips through plain arrays (:meth:`Clustering.to_arrays` / :meth:`Clustering.from_arrays`),
so a store can persist it and the next run extends the same clusters.

Cluster ids are the id of the cluster's first-seen address (see ``unionfind``): stable while a
cluster grows, and the smaller id survives when two clusters merge.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np

from fundtrace.attribution.heuristics.btc_change import change_links
from fundtrace.attribution.heuristics.btc_multi_input import multi_input_links
from fundtrace.attribution.heuristics.eth_deposit import DepositDetector, _Incoming, _Open
from fundtrace.attribution.heuristics.sol_accounts import fee_payer_links, token_owner_links
from fundtrace.attribution.links import HEURISTICS, Link
from fundtrace.attribution.unionfind import UnionFind
from fundtrace.core.model import Chain, Transaction

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "MAX_TXS_PER_LINK",
    "AddressIndex",
    "Clustering",
    "cluster_transactions",
]

DEFAULT_MIN_CONFIDENCE = 50
MAX_TXS_PER_LINK = 16  # evidence kept per address pair; more transactions add nothing new
_HEUR_CODES = {h: i for i, h in enumerate(sorted(HEURISTICS))}
_HEUR_NAMES = {i: h for h, i in _HEUR_CODES.items()}


class AddressIndex:
    """Dense integer ids for address strings, in first-seen order."""

    def __init__(self, addresses: Iterable[str] = ()) -> None:
        self._ids: dict[str, int] = {}
        self._addrs: list[str] = []
        for a in addresses:
            self.add(a)

    def __len__(self) -> int:
        return len(self._addrs)

    def __contains__(self, address: object) -> bool:
        return address in self._ids

    def add(self, address: str) -> int:
        i = self._ids.get(address)
        if i is None:
            i = len(self._addrs)
            self._ids[address] = i
            self._addrs.append(address)
        return i

    def get(self, address: str) -> int | None:
        return self._ids.get(address)

    def address(self, i: int) -> str:
        return self._addrs[i]

    def addresses(self) -> list[str]:
        return list(self._addrs)


class Clustering:
    def __init__(self, chain: Chain, *, min_confidence: int = DEFAULT_MIN_CONFIDENCE) -> None:
        self.chain = chain
        self.min_confidence = min_confidence
        self.index = AddressIndex()
        self.uf = UnionFind()
        self._links: list[Link] = []
        self._link_pos: dict[tuple[int, int, str], int] = {}
        self._adj: dict[int, list[int]] | None = None
        self.eth_deposits: DepositDetector | None = None

    # ------------------------------------------------------------------ building
    def add_address(self, address: str) -> int:
        i = self.index.add(address)
        self.uf.grow(len(self.index))
        return i

    def add_links(self, links: Iterable[Link]) -> int:
        """Record links (merging evidence per pair) and union the strong ones; returns merges."""
        a_ids: list[int] = []
        b_ids: list[int] = []
        for link in links:
            ia, ib = self.add_address(link.a), self.add_address(link.b)
            key = (min(ia, ib), max(ia, ib), link.heuristic)
            pos = self._link_pos.get(key)
            if pos is None:
                self._link_pos[key] = len(self._links)
                self._links.append(link)
                if self._adj is not None:
                    self._adj.setdefault(ia, []).append(len(self._links) - 1)
                    self._adj.setdefault(ib, []).append(len(self._links) - 1)
            else:
                old = self._links[pos]
                txs = old.txs + tuple(t for t in link.txs if t not in old.txs)
                self._links[pos] = Link(
                    old.a,
                    old.b,
                    old.heuristic,
                    max(old.confidence, link.confidence),
                    txs[:MAX_TXS_PER_LINK],
                )
            if link.confidence >= self.min_confidence:
                a_ids.append(ia)
                b_ids.append(ib)
        if not a_ids:
            return 0
        return self.uf.union_pairs(np.array(a_ids), np.array(b_ids))

    def remove_links(self, links: Iterable[Link]) -> int:
        """Withdraw links a heuristic retracted (their transactions leave the pair's evidence).

        A pair left without evidence is dropped, and then the union-find is rebuilt from the
        remaining strong links: unions cannot be undone one by one, and because every root is
        the smallest id the rebuild equals the clusters those links would have given from the
        start. Returns how many pairs were dropped.
        """
        drop: set[int] = set()
        for link in links:
            ia, ib = self.index.get(link.a), self.index.get(link.b)
            if ia is None or ib is None:
                continue
            pos = self._link_pos.get((min(ia, ib), max(ia, ib), link.heuristic))
            if pos is None:
                continue
            old = self._links[pos]
            txs = tuple(t for t in old.txs if t not in link.txs)
            if txs:
                self._links[pos] = Link(old.a, old.b, old.heuristic, old.confidence, txs)
            else:
                drop.add(pos)
        if not drop:
            return 0
        self._links = [x for n, x in enumerate(self._links) if n not in drop]
        self._link_pos = {}
        a_ids: list[int] = []
        b_ids: list[int] = []
        for n, x in enumerate(self._links):
            ia, ib = self.index.get(x.a), self.index.get(x.b)
            self._link_pos[(min(ia, ib), max(ia, ib), x.heuristic)] = n  # type: ignore[type-var]
            if x.confidence >= self.min_confidence:
                a_ids.append(ia)  # type: ignore[arg-type]
                b_ids.append(ib)  # type: ignore[arg-type]
        self._adj = None
        self.uf = UnionFind(len(self.index))
        if a_ids:
            self.uf.union_pairs(np.array(a_ids), np.array(b_ids))
        return len(drop)

    # ------------------------------------------------------------------ queries
    def cluster_id(self, address: str) -> int | None:
        i = self.index.get(address)
        return None if i is None else self.uf.find(i)

    def member_ids(self, cluster_id: int) -> np.ndarray:
        return np.flatnonzero(self.uf.roots() == cluster_id)

    def members(self, address: str) -> list[str]:
        """Every address in the cluster of ``address`` (just itself if unknown)."""
        cid = self.cluster_id(address)
        if cid is None:
            return [address]
        return [self.index.address(int(i)) for i in self.member_ids(cid)]

    def clusters(self) -> dict[int, list[str]]:
        """cluster id -> addresses, for every cluster with more than one address."""
        roots = self.uf.roots()
        order = np.argsort(roots, kind="stable")
        out: dict[int, list[str]] = {}
        sorted_roots = roots[order]
        bounds = np.flatnonzero(np.diff(sorted_roots)) + 1
        for group in np.split(order, bounds):
            if group.size > 1:
                out[int(roots[group[0]])] = [self.index.address(int(i)) for i in group]
        return out

    @property
    def links(self) -> list[Link]:
        return list(self._links)

    def _adjacency(self) -> dict[int, list[int]]:
        if self._adj is None:
            adj: dict[int, list[int]] = {}
            for n, link in enumerate(self._links):
                ia, ib = self.index.get(link.a), self.index.get(link.b)
                adj.setdefault(ia, []).append(n)  # type: ignore[arg-type]
                adj.setdefault(ib, []).append(n)  # type: ignore[arg-type]
            self._adj = adj
        return self._adj

    def cluster_links(self, address: str, *, strong_only: bool = True) -> list[Link]:
        """Links with both ends in the cluster of ``address`` (the evidence for the cluster)."""
        cid = self.cluster_id(address)
        if cid is None:
            return []
        adj = self._adjacency()
        seen: set[int] = set()
        out: list[Link] = []
        for i in self.member_ids(cid):
            for n in adj.get(int(i), ()):
                if n in seen:
                    continue
                seen.add(n)
                link = self._links[n]
                if strong_only and link.confidence < self.min_confidence:
                    continue
                out.append(link)
        return out

    def evidence_path(self, a: str, b: str) -> list[Link]:
        """Shortest chain of merging links from ``a`` to ``b`` (empty if not connected)."""
        ia, ib = self.index.get(a), self.index.get(b)
        if ia is None or ib is None or ia == ib or self.uf.find(ia) != self.uf.find(ib):
            return []
        adj = self._adjacency()
        prev: dict[int, tuple[int, int]] = {ia: (-1, -1)}
        queue = deque([ia])
        while queue:
            x = queue.popleft()
            if x == ib:
                break
            for n in adj.get(x, ()):
                link = self._links[n]
                if link.confidence < self.min_confidence:
                    continue
                la, lb = self.index.get(link.a), self.index.get(link.b)
                y = lb if la == x else la
                if y not in prev:
                    prev[y] = (x, n)  # type: ignore[index]
                    queue.append(y)  # type: ignore[arg-type]
        if ib not in prev:
            return []
        path: list[Link] = []
        x = ib
        while x != ia:
            x, n = prev[x]
            path.append(self._links[n])
        return path[::-1]

    # ------------------------------------------------------------------ persistence
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole state as plain numpy arrays (``np.savez`` them, or store them elsewhere)."""
        la = np.array([self.index.get(x.a) for x in self._links], dtype=np.int64)
        lb = np.array([self.index.get(x.b) for x in self._links], dtype=np.int64)
        tx_off = np.zeros(len(self._links) + 1, dtype=np.int64)
        flat: list[str] = []
        for n, link in enumerate(self._links):
            flat.extend(link.txs)
            tx_off[n + 1] = len(flat)
        state = {"chain": self.chain.value, "min_confidence": self.min_confidence}
        if self.eth_deposits is not None:
            d = self.eth_deposits
            state["eth_deposits"] = {
                "deposits": d.deposits,
                "disqualified": sorted(d.disqualified),
                "forwarders": sorted(d.forwarders),
                "open": {
                    k: {
                        "hot": o.hot,
                        "forwards": [[a, str(n), b] for a, n, b in o.forwards],
                        "links": [x.to_json() for x in o.links],
                        "senders": sorted(o.senders),
                    }
                    for k, o in d.open.items()
                },
                "sender_deposits": {k: sorted(v) for k, v in d.sender_deposits.items()},
                "incoming": {
                    k: [[r.asset, str(r.amount), r.block, r.sender, r.tx] for r in q]
                    for k, q in d.incoming.items()
                },
            }
        return {
            "parent": self.uf.to_array(),
            "addresses": np.array(self.index.addresses(), dtype=str),
            "link_a": la,
            "link_b": lb,
            "link_heuristic": np.array(
                [_HEUR_CODES[x.heuristic] for x in self._links], dtype=np.int16
            ),
            "link_confidence": np.array([x.confidence for x in self._links], dtype=np.int16),
            "link_tx_offsets": tx_off,
            "link_txs": np.array(flat, dtype=str),
            "state": np.array(json.dumps(state)),
        }

    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        *,
        hot_wallet: Callable[[str], str | None] | None = None,
        is_attributed: Callable[[str], bool] | None = None,
    ) -> Clustering:
        state = json.loads(str(arrays["state"]))
        c = cls(Chain(state["chain"]), min_confidence=int(state["min_confidence"]))
        for a in arrays["addresses"].tolist():
            c.index.add(a)
        parent = np.asarray(arrays["parent"])
        if parent.shape[0] != len(c.index):
            raise ValueError("parent array and address list differ in length")
        c.uf = UnionFind.from_array(parent)
        txs = arrays["link_txs"].tolist()
        off = arrays["link_tx_offsets"]
        for n, (ia, ib, h, conf) in enumerate(
            zip(
                arrays["link_a"].tolist(),
                arrays["link_b"].tolist(),
                arrays["link_heuristic"].tolist(),
                arrays["link_confidence"].tolist(),
                strict=True,
            )
        ):
            link = Link(
                c.index.address(ia),
                c.index.address(ib),
                _HEUR_NAMES[h],
                int(conf),
                tuple(txs[off[n] : off[n + 1]]),
            )
            c._link_pos[(min(ia, ib), max(ia, ib), link.heuristic)] = n
            c._links.append(link)
        dep = state.get("eth_deposits")
        if dep is not None:
            d = DepositDetector(
                hot_wallet=hot_wallet or (lambda _a: None),
                is_attributed=is_attributed or (lambda _a: False),
            )
            d.deposits = dict(dep["deposits"])
            d.disqualified = set(dep["disqualified"])
            d.forwarders = set(dep.get("forwarders", ()))
            for k, o in dep.get("open", {}).items():
                d.open[k] = _Open(
                    o["hot"],
                    [(a, int(n), int(b)) for a, n, b in o["forwards"]],
                    [
                        Link(x["a"], x["b"], x["heuristic"], int(x["confidence"]), tuple(x["txs"]))
                        for x in o["links"]
                    ],
                    set(o["senders"]),
                )
                d.open_into.setdefault(o["hot"], []).append(k)
            for k, v in dep["sender_deposits"].items():
                d.sender_deposits[k] = set(v)
            for k, rows in dep["incoming"].items():
                q = d.incoming.setdefault(k, deque(maxlen=d.keep_incoming))
                for asset, amount, block, sender, tx in rows:
                    q.append(_Incoming(asset, int(amount), int(block), sender, tx))
            c.eth_deposits = d
        return c

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, **self.to_arrays())

    @classmethod
    def load(cls, path: str | Path, **kw: object) -> Clustering:
        with np.load(path, allow_pickle=False) as data:
            return cls.from_arrays({k: data[k] for k in data.files}, **kw)  # type: ignore[arg-type]


def cluster_transactions(
    clustering: Clustering,
    txs: Iterable[Transaction],
    *,
    attribution: Callable[[str], tuple[str, str] | None] | None = None,
    token_owners: Mapping[str, str] | None = None,
    change: bool = True,
) -> list[Link]:
    """Run the chain's heuristics over the next transactions (in chain order) and merge.

    ``attribution(address) -> (entity, category) | None`` names known addresses: exchange hot
    wallets for the Ethereum deposit heuristic, and outputs that must never be taken for change.
    ``token_owners`` maps Solana token accounts to owner wallets (see
    ``heuristics.sol_accounts.token_account_owners_from_rpc``). Returns the links produced.
    """
    attr = attribution or (lambda _a: None)

    def is_attributed(a: str) -> bool:
        return attr(a) is not None

    def hot_wallet(a: str) -> str | None:
        hit = attr(a)
        return hit[0] if hit is not None and str(hit[1]) == "exchange" else None

    produced: list[Link] = []
    # Links are collected per call and unioned once: per-transaction numba calls dominate
    # otherwise. Freshness for the change heuristic still sees every earlier transaction,
    # because addresses enter the index as each transaction is read.
    if clustering.chain is Chain.BTC:
        index = clustering.index

        def is_fresh(a: str) -> bool:
            return a not in index

        for tx in txs:
            produced += multi_input_links(tx)
            if change:
                produced += change_links(tx, is_fresh=is_fresh, is_attributed=is_attributed)
            for i in tx.inputs:
                if i.address:
                    index.add(i.address)
            for o in tx.outputs:
                if o.address:
                    index.add(o.address)
        clustering.uf.grow(len(index))
    elif clustering.chain is Chain.ETH:
        if clustering.eth_deposits is None:
            clustering.eth_deposits = DepositDetector(
                hot_wallet=hot_wallet, is_attributed=is_attributed
            )
        else:
            clustering.eth_deposits.hot_wallet = hot_wallet
            clustering.eth_deposits.is_attributed = is_attributed
        produced = clustering.eth_deposits.process(txs)
        # Deposit links of earlier batches that later transactions disproved (the "hot wallet"
        # turned out to be a deposit address itself): withdraw them before adding the new ones.
        clustering.remove_links(clustering.eth_deposits.retracted)
    else:
        owners = token_owners or {}
        for tx in txs:
            produced += token_owner_links(tx, owners) + fee_payer_links(tx, owners)
    clustering.add_links(produced)
    return produced
