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
from data_collection.storage import StoreStats, lookup_outputs, store_batch
from fundtrace.core.model import Batch, Chain
from fundtrace.ingest.dispatch import FORMATS, parse_inputs

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
        total = StoreStats()
        unresolved: list[tuple[str, int]] = []
        skipped: dict[str, int] = {}
        show = not options["no_progress"] and sys.stderr.isatty()
        with tqdm(total=len(paths), unit="file", disable=not show, file=sys.stderr) as bar:
            for source, batch in parse_inputs(
                chain, options["fmt"], paths, network=options["network"]
            ):
                gap = _resolve_inputs(batch)
                unresolved += gap
                stats = store_batch(batch)
                total.add(stats)
                for reason, n in batch.skipped.items():
                    skipped[reason] = skipped.get(reason, 0) + n
                for w in batch.warnings:
                    self.stderr.write(f"warning: {w}")
                bar.set_postfix_str(f"{total.transactions} txs")
                bar.update(1)
                if options["verbosity"] >= 2:
                    self.stdout.write(f"{source}: {stats.transactions} transactions")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"imported {total.transactions} transactions, {total.outputs} outputs, "
            f"{total.inputs} inputs, {total.transfers} transfers, {total.blocks} blocks "
            f"for {chain} in {elapsed:.2f}s"
        )
        if skipped:
            self.stdout.write(
                "skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
            )
        if unresolved:
            sample = ", ".join(f"{t}:{v}" for t, v in unresolved[:3])
            self.stderr.write(
                f"warning: {len(unresolved)} inputs spend outputs that are not stored, so their "
                f"values (and those transactions' fees) are unknown; e.g. {sample}. Import the "
                "funding transactions (or use getblock verbosity 3) to resolve them."
            )


def _resolve_inputs(batch: Batch) -> list[tuple[str, int]]:
    """Bitcoin: fill input values from the batch itself, then from stored outputs."""
    if batch.chain is not Chain.BTC:
        return []
    from fundtrace.chains.btc.resolve import resolve_input_values

    return resolve_input_values(batch, lambda keys: lookup_outputs(Chain.BTC, list(keys)))
