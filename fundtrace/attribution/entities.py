"""Entities: a cluster inherits the labels of its addresses, with the evidence chain.

"1Abc is Binance" is only as good as the reason: either a label on 1Abc itself, or a label on
an address that clustering links to 1Abc, in which case the links (heuristic + transactions) are
the reason and are shown. Labels that contradict each other inside one cluster (two different
exchanges; an exchange and a hacker) are reported as conflicts and never resolved silently:
usually one heuristic link is wrong, and the investigator must see which.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fundtrace.attribution.clustering import Clustering
from fundtrace.attribution.labels import (
    OPERATOR_CATEGORIES,
    PERPETRATOR_CATEGORIES,
    Category,
    Label,
    entity_key,
)
from fundtrace.attribution.links import Link
from fundtrace.core.addresses import InvalidAddress, normalize_address
from fundtrace.core.model import Chain

__all__ = [
    "CATEGORY_PRIORITY",
    "EntityResolver",
    "EntityView",
    "find_conflicts",
    "make_attribution",
]

# Which label names an endpoint when an address has several (after confidence).
CATEGORY_PRIORITY = [
    Category.SANCTIONED,
    Category.HACKER,
    Category.EXCHANGE,
    Category.MIXER,
    Category.BRIDGE,
    Category.SCAM,
    Category.SERVICE,
    Category.DEFI,
    Category.VICTIM,
    Category.OTHER,
]
_RANK = {c: i for i, c in enumerate(CATEGORY_PRIORITY)}


def _best(labels: Iterable[Label]) -> Label | None:
    return min(labels, key=lambda x: (-x.confidence, _RANK[x.category], x.entity), default=None)


def find_conflicts(labels: Iterable[Label]) -> list[dict[str, object]]:
    """Contradictions among valid labels of one cluster (or one address).

    * ``multiple_operators``: different operators (exchange/mixer/bridge/defi/service) by
      entity name, e.g. two exchanges;
    * ``operator_and_perpetrator``: an operator and a hacker/scam label (e.g. "Bter.com" and
      "Bter hack" on one address: a hacked exchange, or a heuristic merged a thief with it).
    Sanctioned next to an operator is not a conflict (a sanctioned exchange is both).
    """
    valid = [x for x in labels if x.valid]
    ops: dict[str, list[Label]] = defaultdict(list)
    for x in valid:
        if x.category in OPERATOR_CATEGORIES:
            ops[entity_key(x.entity)].append(x)
    perps = [x for x in valid if x.category in PERPETRATOR_CATEGORIES]
    out: list[dict[str, object]] = []
    if len(ops) > 1:
        out.append(
            {
                "kind": "multiple_operators",
                "entities": sorted({g[0].entity for g in ops.values()}),
                "labels": [_label_ref(g[0]) for g in ops.values()],
            }
        )
    if ops and perps:
        firsts = [g[0] for g in ops.values()]
        out.append(
            {
                "kind": "operator_and_perpetrator",
                "entities": sorted({x.entity for x in firsts + perps}),
                "labels": [_label_ref(x) for x in firsts + perps],
            }
        )
    return out


def _label_ref(x: Label) -> dict[str, object]:
    return {
        "address": x.address,
        "entity": x.entity,
        "category": x.category.value,
        "source": x.source,
    }


@dataclass
class EntityView:
    """What ``fundtrace entity`` shows; :meth:`to_json` is the documented JSON shape."""

    address: str
    cluster_id: int | None
    size: int
    addresses: list[str]
    labels: list[dict[str, object]]
    links: list[Link]
    conflicts: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "address": self.address,
            "cluster_id": self.cluster_id,
            "size": self.size,
            "addresses": list(self.addresses),
            "labels": list(self.labels),
            "links": [x.to_json() for x in self.links],
            "conflicts": list(self.conflicts),
        }


class EntityResolver:
    """Join labels with a clustering of one chain; cheap to build, query with :meth:`resolve`."""

    def __init__(
        self, clustering: Clustering | None, labels: Iterable[Label], *, chain: Chain | None = None
    ) -> None:
        self.clustering = clustering
        self.chain = clustering.chain if clustering is not None else chain
        self._by_address: dict[str, list[Label]] = defaultdict(list)
        for x in labels:
            if self.chain is None or x.chain == self.chain:
                self._by_address[x.address].append(x)

    def _norm(self, address: str) -> str:
        if self.chain is None:
            return address.strip()
        try:
            return normalize_address(self.chain, address)
        except InvalidAddress:
            return address.strip()

    def labels_for(self, address: str) -> list[Label]:
        return list(self._by_address.get(self._norm(address), ()))

    def resolve(self, address: str, *, limit: int = 100) -> EntityView:
        addr = self._norm(address)
        c = self.clustering
        cid = c.cluster_id(addr) if c is not None else None
        members = c.members(addr) if c is not None and cid is not None else [addr]
        labeled = [m for m in members if m in self._by_address]
        labels_out: list[dict[str, object]] = []
        all_labels: list[Label] = []
        evidence: list[Link] = []
        for m in labeled:
            path = c.evidence_path(addr, m) if c is not None and m != addr else []
            for p in path:
                if p not in evidence:
                    evidence.append(p)
            for x in self._by_address[m]:
                all_labels.append(x)
                d = x.to_json()
                d["inherited"] = m != addr
                d["evidence"] = [p.to_json() for p in path]
                labels_out.append(d)
        labels_out.sort(key=lambda d: (bool(d["inherited"]), -int(d["confidence"])))  # type: ignore[call-overload]
        ordered = [addr, *[m for m in labeled if m != addr]]
        ordered += [m for m in members if m not in set(ordered)]
        links = list(evidence)
        if c is not None and cid is not None:
            for x in c.cluster_links(addr):
                if len(links) >= limit:
                    break
                if x not in links:
                    links.append(x)
        return EntityView(
            address=addr,
            cluster_id=cid,
            size=len(members),
            addresses=ordered[:limit],
            labels=labels_out,
            links=links[:limit],
            conflicts=find_conflicts(all_labels),
        )


def make_attribution(
    labels: Iterable[Label],
    clusters: Clustering | None = None,
    *,
    min_confidence: int = 0,
) -> Callable[[str], tuple[str, str] | None]:
    """``attribution(address) -> (entity, category) | None`` for the tracing engine.

    A direct label wins; otherwise the cluster's best label is inherited. When the cluster's
    labels conflict, the entity reads "A / B (conflicting labels)" so a trace stops and says so
    rather than naming one side. Invalid (e.g. delisted) labels are ignored. The clustering is
    snapshotted: rebuild the callable after clustering more transactions.
    """
    chain = clusters.chain if clusters is not None else None
    direct: dict[str, list[Label]] = defaultdict(list)
    for x in labels:
        if x.valid and x.confidence >= min_confidence and (chain is None or x.chain == chain):
            direct[x.address].append(x)
    best_direct = {a: _best(xs) for a, xs in direct.items()}
    by_root: dict[int, list[Label]] = defaultdict(list)
    roots = None
    if clusters is not None:
        roots = clusters.uf.roots()
        for a, xs in direct.items():
            i = clusters.index.get(a)
            if i is not None:
                by_root[int(roots[i])].extend(xs)
    inherited: dict[int, tuple[str, str]] = {}
    for root, xs in by_root.items():
        best = _best(xs)
        if best is None:
            continue
        conflicts = find_conflicts(xs)
        if conflicts:
            names = sorted({str(e) for cf in conflicts for e in cf["entities"]})  # type: ignore[attr-defined]
            inherited[root] = (" / ".join(names) + " (conflicting labels)", best.category.value)
        else:
            inherited[root] = (best.entity, best.category.value)

    def attribution(address: str) -> tuple[str, str] | None:
        a = address.strip()
        if chain is not None:
            # No imported label has an invalid address; a raw lookup is harmless.
            with contextlib.suppress(InvalidAddress):
                a = normalize_address(chain, a)
        elif a.startswith("0x"):
            a = a.lower()
        hit = best_direct.get(a)
        if hit is not None:
            return (hit.entity, hit.category.value)
        if clusters is None or roots is None:
            return None
        i = clusters.index.get(a)
        if i is None or i >= roots.shape[0]:
            return None
        return inherited.get(int(roots[i]))

    return attribution
