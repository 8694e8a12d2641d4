"""What a block fetcher returns, and the protocol every chain's fetcher follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fundtrace.core.model import Batch, Chain


@dataclass(frozen=True, slots=True)
class Header:
    """Just enough of a block to check that consecutive blocks link up."""

    number: int
    hash: str
    parent_hash: str | None
    parent_number: int | None
    """The block the parent hash refers to: N-1, or on Solana the previous produced slot."""


@dataclass(slots=True)
class FetchedRange:
    """Blocks ``low..high`` parsed into one batch (stored atomically with the checkpoint)."""

    low: int
    high: int
    batch: Batch
    headers: list[Header] = field(default_factory=list)
    """In ascending order; skipped slots have no header."""
    skipped: list[int] = field(default_factory=list)
    """Solana slots in the range where no block was produced."""
    unresolved_inputs: int = 0
    """Bitcoin inputs whose spent output is neither in the range nor stored (value unknown)."""


class BlockFetcher(Protocol):
    chain: Chain

    @property
    def url(self) -> str:
        """The redacted endpoint, for messages."""
        ...

    def tip(self) -> int:
        """The highest block (slot) the endpoint serves."""
        ...

    def block_hash(self, number: int) -> str | None:
        """The endpoint's current hash at ``number`` (None for a skipped slot)."""
        ...

    def fetch(self, low: int, high: int) -> FetchedRange: ...

    def close(self) -> None: ...
