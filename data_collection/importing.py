"""The import pipeline shared by ``fundtrace import``, the demo and the API: parse, resolve,
store — one atomic batch per unit of import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from data_collection.storage import StoreStats, lookup_outputs, store_batch
from fundtrace.core.model import Batch, Chain
from fundtrace.ingest.dispatch import parse_inputs


@dataclass
class ImportReport:
    chain: Chain
    stats: StoreStats = field(default_factory=StoreStats)
    unresolved: list[tuple[str, int]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    units: int = 0


def resolve_inputs(batch: Batch) -> list[tuple[str, int]]:
    """Bitcoin: fill input values from the batch itself, then from stored outputs."""
    if batch.chain is not Chain.BTC:
        return []
    from fundtrace.chains.btc.resolve import resolve_input_values

    return resolve_input_values(batch, lambda keys: lookup_outputs(Chain.BTC, list(keys)))


def import_paths(
    chain: Chain,
    fmt: str,
    paths: Sequence[str | Path],
    *,
    network: str = "mainnet",
    on_unit: Callable[[str, StoreStats], None] | None = None,
) -> ImportReport:
    report = ImportReport(chain)
    for source, batch in parse_inputs(chain, fmt, paths, network=network):
        report.unresolved += resolve_inputs(batch)
        stats = store_batch(batch)
        report.stats.add(stats)
        report.units += 1
        for reason, n in batch.skipped.items():
            report.skipped[reason] = report.skipped.get(reason, 0) + n
        report.warnings += batch.warnings
        if on_unit is not None:
            on_unit(source, stats)
    return report
