"""What collection needs from storage, as a protocol the Django layer implements.

Keeping the loop independent of Django lets tests drive it against an in-memory store and
keeps ``fundtrace/`` importable without a configured database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fundtrace.collection.checkpoint import Checkpoint
from fundtrace.core.model import Batch, Chain

Outpoint = tuple[str, int]


@dataclass
class RollbackCounts:
    """What a re-org removed; inputs elsewhere that spent removed outputs are unlinked."""

    blocks: int = 0
    transactions: int = 0
    outputs: int = 0
    inputs: int = 0
    transfers: int = 0
    unlinked_inputs: int = 0

    def add(self, other: RollbackCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class StoredCounts:
    blocks: int = 0
    transactions: int = 0
    transfers: int = 0
    outputs: int = 0
    inputs: int = 0

    def add(self, other: StoredCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class CollectionStore(Protocol):
    def stored_hashes(self, chain: Chain, numbers: Sequence[int]) -> dict[int, str]:
        """Hashes of the stored blocks among ``numbers`` (absent numbers are not stored)."""
        ...

    def stored_blocks_between(self, chain: Chain, low: int, high: int) -> dict[int, str]:
        """number -> hash of every stored block with ``low <= number <= high``."""
        ...

    def lookup_outputs(self, chain: Chain, keys: list[Outpoint]) -> dict[Outpoint, tuple]:
        """Stored outputs (value, address, script_type) for Bitcoin input resolution."""
        ...

    def store(self, batch: Batch, checkpoint: Checkpoint) -> StoredCounts:
        """Store ``batch`` and save ``checkpoint`` in one database transaction."""
        ...

    def rollback_above(self, chain: Chain, number: int) -> RollbackCounts:
        """Delete stored blocks above ``number`` and everything derived from them, atomically."""
        ...

    def load_checkpoint(self, chain: Chain, job: str) -> Checkpoint | None: ...

    def save_checkpoint(self, checkpoint: Checkpoint) -> None: ...
