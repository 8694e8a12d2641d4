"""Attribution: labels, label importers, address clustering and entities (pure core).

Entry points for the label store, CLI and tracer:

* importers (``read_csv_labels``, ``read_tagpack``, ``read_ofac``, Ethereum list readers) return
  ``ImportResult`` = ``(labels, errors)``;
* ``Clustering`` + ``cluster_transactions`` build clusters incrementally from canonical
  transactions; state round-trips through ``to_arrays``/``from_arrays``;
* ``EntityResolver.resolve`` gives the entity view; ``make_attribution`` the tracer's lookup.
"""

from fundtrace.attribution.clustering import Clustering, cluster_transactions
from fundtrace.attribution.entities import EntityResolver, EntityView, make_attribution
from fundtrace.attribution.importers import (
    ImportResult,
    read_csv_labels,
    read_eth_label_file,
    read_ofac,
    read_tagpack,
)
from fundtrace.attribution.labels import Category, Label
from fundtrace.attribution.links import Link

__all__ = [
    "Category",
    "Clustering",
    "EntityResolver",
    "EntityView",
    "ImportResult",
    "Label",
    "Link",
    "cluster_transactions",
    "make_attribution",
    "read_csv_labels",
    "read_eth_label_file",
    "read_ofac",
    "read_tagpack",
]
