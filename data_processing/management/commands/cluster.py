"""``fundtrace cluster --chain C``: build or extend address clusters from stored data."""

from __future__ import annotations

import time
from typing import Any

from config.commands import FundtraceCommand
from data_processing.attribution_store import run_clustering
from fundtrace.core.model import Chain


class Command(FundtraceCommand):
    help = "Cluster addresses with the chain's heuristics (incremental: only new transactions)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chain", required=True, choices=[c.value for c in Chain])
        parser.add_argument(
            "--rebuild", action="store_true", help="start over instead of extending"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        run = run_clustering(Chain(options["chain"]), rebuild=options["rebuild"])
        self.stdout.write(
            f"{run.chain}: read {run.transactions} new transactions, {run.links} links; "
            f"{run.addresses} addresses and {run.total_links} links in the clustering "
            f"({time.perf_counter() - started:.2f}s)"
        )
