"""Pieces every chain generator shares: shard writers, label rows, the per-chain result record.

Large scenarios (up to ~10M transfers) are streamed: each chain writes shards of bounded size
(one JSON-lines file or one ethereum-etl directory per shard), so neither the generator nor an
importer reading one shard at a time ever holds the whole data set. Only the incident (the
thief's transactions, a few thousand at most) is kept in memory, because the ground truth is
computed from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from fundtrace.core.model import Chain, Transaction

LABEL_SOURCE = "fundtrace-scenario"
SHARD_RECORDS = 20_000  # transactions per shard: keeps one parsed batch in the tens of MB


@dataclass(frozen=True, slots=True)
class LabelRow:
    chain: Chain
    address: str
    entity: str
    category: str
    confidence: int = 90

    def csv_row(self) -> list[str]:
        return [
            self.chain.value,
            self.address,
            self.entity,
            self.category,
            LABEL_SOURCE,
            str(self.confidence),
        ]


@dataclass(slots=True)
class TraceSpec:
    """One question the ground truth answers: where did the value of these sources go."""

    name: str
    asset: str
    symbol: str
    decimals: int
    sources: list[str]


@dataclass(slots=True)
class ChainOutput:
    chain: Chain
    fmt: str
    paths: list[str]  # relative to the scenario directory, in import order
    labels: list[LabelRow] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # chain-specific ground-truth facts
    traces: list[TraceSpec] = field(default_factory=list)
    incident: list[Transaction] = field(default_factory=list)  # chain order
    counts: dict[str, int] = field(default_factory=dict)


class JsonlShards:
    """JSON-lines files ``<prefix>-00000.jsonl``... rotating after ``limit`` transactions."""

    def __init__(self, directory: Path, prefix: str, limit: int | None = None) -> None:
        self.directory = directory
        self.prefix = prefix
        self.limit = SHARD_RECORDS if limit is None else limit
        self.paths: list[Path] = []
        self._fh: TextIO | None = None
        self._n = 0
        directory.mkdir(parents=True, exist_ok=True)

    def rotate_if_full(self) -> None:
        """Start a new shard if the current one is full (call at a block boundary)."""
        if self._fh is None or self._n >= self.limit:
            self._open()

    def _open(self) -> None:
        if self._fh is not None:
            self._fh.close()
        path = self.directory / f"{self.prefix}-{len(self.paths):05d}.jsonl"
        self.paths.append(path)
        self._fh = path.open("w", encoding="utf-8")
        self._n = 0

    def write(self, obj: Any, *, count: bool = True) -> None:
        if self._fh is None:
            self._open()
        assert self._fh is not None
        self._fh.write(json.dumps(obj, separators=(",", ":")))
        self._fh.write("\n")
        if count:
            self._n += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def spread(total: int, n: int, rng: Any, *, spread_pct: int = 60) -> list[int]:
    """``total`` split into ``n`` positive uneven parts that sum exactly to ``total``."""
    weights = [100 - spread_pct // 2 + rng.randrange(spread_pct + 1) for _ in range(n)]
    s = sum(weights)
    parts = [total * w // s for w in weights]
    parts[-1] += total - sum(parts)
    return parts
