"""The import pipeline shared by ``fundtrace import``, the demo and the API: parse, resolve,
store — one atomic batch per unit of import."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from data_collection.storage import StoreStats, lookup_outputs, store_batches
from fundtrace.chains.btc.resolve import outputs_created, resolve_input_values
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


def resolve_inputs(
    batch: Batch, pending: dict[tuple[str, int], tuple] | None = None
) -> list[tuple[str, int]]:
    """Bitcoin: fill input values from the batch itself, then from outputs of a batch on its
    way to the database (``pending``), then from stored outputs."""
    if batch.chain is not Chain.BTC:
        return []

    def lookup(keys: list[tuple[str, int]]) -> dict[tuple[str, int], tuple]:
        found = {k: pending[k] for k in keys if k in pending} if pending else {}
        rest = [k for k in keys if k not in found]
        if rest:
            found.update(lookup_outputs(Chain.BTC, rest))
        return found

    return resolve_input_values(batch, lookup)


def import_paths(
    chain: Chain,
    fmt: str,
    paths: Sequence[str | Path],
    *,
    network: str = "mainnet",
    on_unit: Callable[[str, StoreStats], None] | None = None,
) -> ImportReport:
    """Parse and store each unit of import, one database transaction per unit.

    Units go through ``store_batches``, so on PostgreSQL the next unit is parsed and encoded
    while the database writes the current one. The guarantees are those of a plain loop: a unit
    that fails to parse or store raises only after every unit before it is stored, and nothing
    after it is stored. A Bitcoin unit is parsed before the one ahead of it is committed, so its
    inputs are resolved against that unit's outputs in memory as well as against the database.
    """
    report = ImportReport(chain)
    sources: list[str] = []
    failure: list[BaseException] = []

    def units() -> Iterator[Batch]:
        pending: dict[tuple[str, int], tuple] = {}
        try:
            for source, batch in parse_inputs(chain, fmt, paths, network=network):
                report.unresolved += resolve_inputs(batch, pending)
                if chain is Chain.BTC:
                    pending = outputs_created(batch)  # earlier units are stored by now
                sources.append(source)
                yield batch
        except Exception as exc:  # raised once the units before it are stored
            failure.append(exc)

    def stored(batch: Batch, stats: StoreStats) -> None:
        report.stats.add(stats)
        report.units += 1
        for reason, n in batch.skipped.items():
            report.skipped[reason] = report.skipped.get(reason, 0) + n
        report.warnings += batch.warnings
        if on_unit is not None:
            on_unit(sources[report.units - 1], stats)

    store_batches(units(), on_stored=stored)
    if failure:
        raise failure[0]
    return report
