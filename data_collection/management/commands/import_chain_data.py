"""``fundtrace import``: node / indexer responses and ETL exports into the canonical store.

Each unit of import (a file, or a set of files that must be joined) is parsed completely
before anything is written, then stored in one database transaction: a malformed record
aborts its unit with an error naming file, record and field, and leaves the database as it was.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm

from config.commands import FundtraceCommand
from data_collection.importing import import_paths
from data_collection.storage import StoreStats
from fundtrace.core.model import Chain
from fundtrace.ingest.dispatch import FORMATS

ALL_FORMATS = sorted({f for fs in FORMATS.values() for f in fs})


class Command(FundtraceCommand):
    help = "Import raw node/indexer responses or ETL exports for one chain"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chain", required=True, choices=[c.value for c in Chain])
        parser.add_argument("--format", required=True, choices=ALL_FORMATS, dest="fmt")
        parser.add_argument(
            "--network",
            default="mainnet",
            help="Bitcoin network parameters for address encoding (mainnet, testnet, regtest, "
            "litecoin-regtest)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        chain = Chain(options["chain"])
        paths = options["paths"]
        started = time.perf_counter()
        show = not options["no_progress"] and sys.stderr.isatty()
        with tqdm(total=len(paths), unit="unit", disable=not show, file=sys.stderr) as bar:

            def on_unit(source: str, stats: StoreStats) -> None:
                bar.update(1)
                bar.set_postfix_str(f"{stats.transactions} txs from {source[-40:]}")
                if options["verbosity"] >= 2:
                    self.stdout.write(f"{source}: {stats.transactions} transactions")

            report = import_paths(
                chain, options["fmt"], paths, network=options["network"], on_unit=on_unit
            )
        total = report.stats
        for w in report.warnings:
            self.stderr.write(f"warning: {w}")
        self.stdout.write(
            f"imported {total.transactions} transactions, {total.outputs} outputs, "
            f"{total.inputs} inputs, {total.transfers} transfers, {total.blocks} blocks "
            f"for {chain} in {time.perf_counter() - started:.2f}s"
        )
        if report.skipped:
            self.stdout.write(
                "skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(report.skipped.items()))
            )
        if report.unresolved:
            sample = ", ".join(f"{t}:{v}" for t, v in report.unresolved[:3])
            self.stderr.write(
                f"warning: {len(report.unresolved)} inputs spend outputs that are not stored, so "
                f"their values (and those transactions' fees) are unknown; e.g. {sample}. Import "
                "the funding transactions (or use getblock verbosity 3) to resolve them."
            )
