"""Label importers: each returns an :class:`ImportResult` that unpacks to ``(labels, errors)``."""

from fundtrace.attribution.importers.common import ImportResult, LabelCollector
from fundtrace.attribution.importers.csv_labels import read_csv_labels
from fundtrace.attribution.importers.eth_lists import (
    read_dawsbot_accounts,
    read_eth_label_file,
    read_etherscan_combined,
    read_etherscan_csv,
    read_forta_csv,
    read_mew_darklist,
)
from fundtrace.attribution.importers.ofac import mark_delisted, read_ofac
from fundtrace.attribution.importers.tagpack import load_confidence_levels, read_tagpack

__all__ = [
    "ImportResult",
    "LabelCollector",
    "load_confidence_levels",
    "mark_delisted",
    "read_csv_labels",
    "read_dawsbot_accounts",
    "read_eth_label_file",
    "read_etherscan_combined",
    "read_etherscan_csv",
    "read_forta_csv",
    "read_mew_darklist",
    "read_ofac",
    "read_tagpack",
]
