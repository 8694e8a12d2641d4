"""Clusters and entities over stored data: the Django side of ``fundtrace.attribution``.

The clustering of a chain is kept whole (``ClusteringState``) and extended incrementally with
the transactions stored since the last run, so re-running ``fundtrace cluster`` is cheap and
gives the same clusters as one run over everything.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Q

from data_collection.loaders import iter_transactions
from data_processing.label_store import label_attribution
from data_processing.models import AddressLabel, ClusteringState
from fundtrace.attribution.clustering import Clustering, cluster_transactions
from fundtrace.attribution.entities import EntityResolver, make_attribution
from fundtrace.attribution.labels import Label
from fundtrace.core.model import Chain


@dataclass
class ClusterRun:
    chain: Chain
    transactions: int
    links: int
    addresses: int
    total_links: int


def to_core_label(row: AddressLabel) -> Label:
    return Label(
        chain=Chain(row.chain),
        address=row.address,
        entity=row.entity,
        category=row.category,
        source=row.source,
        confidence=row.confidence,
        case_id=str(row.case_id) if row.case_id else None,
        valid=row.valid,
        notes=row.notes,
        source_category=row.source_category,
        as_of=row.as_of,
    )


def core_labels(chain: Chain, *, case_ids: Iterable[int] | None = None) -> list[Label]:
    qs = AddressLabel.objects.filter(chain=chain.value)
    if case_ids is not None:
        qs = qs.filter(Q(case__isnull=True) | Q(case_id__in=list(case_ids)))
    return [to_core_label(r) for r in qs]


def load_clustering(chain: Chain) -> tuple[Clustering | None, int]:
    state = ClusteringState.objects.filter(chain=chain.value).first()
    if state is None:
        return None, 0
    attr = label_attribution(chain)
    with np.load(io.BytesIO(bytes(state.state)), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    hot = _hot_wallet(attr)
    clustering = Clustering.from_arrays(
        arrays, hot_wallet=hot, is_attributed=lambda a: attr(a) is not None
    )
    return clustering, state.last_transaction_id


def _hot_wallet(attr: Callable[[str], tuple[str, str] | None]) -> Callable[[str], str | None]:
    def hot(address: str) -> str | None:
        hit = attr(address)
        return hit[0] if hit is not None and hit[1] == "exchange" else None

    return hot


def run_clustering(chain: Chain, *, rebuild: bool = False) -> ClusterRun:
    """Extend (or rebuild) the chain's clustering with transactions stored since last time."""
    clustering, last_id = (None, 0) if rebuild else load_clustering(chain)
    if clustering is None:
        clustering = Clustering(chain)
    attr = label_attribution(chain)
    n_tx = 0
    n_links = 0
    batch = []
    for row_id, tx in iter_transactions(chain, after_id=last_id):
        batch.append(tx)
        last_id = max(last_id, row_id)
        if len(batch) >= 5000:
            n_links += len(cluster_transactions(clustering, batch, attribution=attr))
            n_tx += len(batch)
            batch = []
    if batch:
        n_links += len(cluster_transactions(clustering, batch, attribution=attr))
        n_tx += len(batch)
    arrays = clustering.to_arrays()
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with transaction.atomic():
        ClusteringState.objects.update_or_create(
            chain=chain.value,
            defaults={
                "last_transaction_id": last_id,
                "state": buf.getvalue(),
                "addresses": int(arrays["addresses"].shape[0]),
                "links": int(arrays["link_a"].shape[0]),
            },
        )
    return ClusterRun(
        chain, n_tx, n_links, int(arrays["addresses"].shape[0]), int(arrays["link_a"].shape[0])
    )


def entity_view(
    chain: Chain, address: str, *, limit: int = 100, case_ids: Iterable[int] | None = None
) -> dict:
    """Cluster, labels (direct and inherited, with evidence) of an address.

    ``case_ids`` limits case-private labels to those cases (None = all, for the CLI and admins),
    so an API user never learns another case's private attribution through a shared cluster.
    """
    clustering, _ = load_clustering(chain)
    resolver = EntityResolver(clustering, core_labels(chain, case_ids=case_ids), chain=chain)
    return resolver.resolve(address, limit=limit).to_json()


def trace_attribution(
    chain: Chain, *, case_ids: Iterable[int] | None = None
) -> Callable[[str], tuple[str, str] | None]:
    """Labels plus what clustering inherits from them: where a trace stops and whom it names."""
    clustering, _ = load_clustering(chain)
    return make_attribution(core_labels(chain, case_ids=case_ids), clustering)
