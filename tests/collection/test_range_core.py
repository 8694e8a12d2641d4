"""The range loop on a simulated chain (pure core, in-memory store): re-org detection by
parent hash and by changed hash at a stored height, skipped slots, bad ranges."""

from __future__ import annotations

import pytest

from fundtrace.collection.block_range import RangeCollector
from fundtrace.collection.checkpoint import Checkpoint
from fundtrace.collection.errors import CollectionError
from fundtrace.collection.fetched import FetchedRange, Header
from fundtrace.collection.store import RollbackCounts, StoredCounts
from fundtrace.core.model import Batch, Block, Chain


class FakeChain:
    """Blocks named by branch: hash ``{branch}{n}``; ``fork(at, branch)`` replaces n >= at."""

    chain = Chain.ETH
    url = "http://127.0.0.1:1"

    def __init__(self, height: int, skipped: set[int] = frozenset()) -> None:
        self.branch = {n: "a" for n in range(height + 1)}
        self.skipped = set(skipped)

    def fork(self, at: int, branch: str, height: int) -> None:
        for n in range(at, height + 1):
            self.branch[n] = branch

    def hash(self, n: int) -> str:
        return f"{self.branch[n]}{n}"

    def tip(self) -> int:
        return max(self.branch)

    def block_hash(self, n: int) -> str | None:
        return None if n in self.skipped else self.hash(n)

    def close(self) -> None:
        pass

    def fetch(self, low: int, high: int) -> FetchedRange:
        out = FetchedRange(low, high, Batch(self.chain))
        for n in range(low, high + 1):
            if n in self.skipped:
                out.skipped.append(n)
                continue
            parent = max((p for p in range(n) if p not in self.skipped), default=None)
            ph = self.hash(parent) if parent is not None else None
            out.headers.append(Header(n, self.hash(n), ph, parent))
            out.batch.blocks.append(Block(self.chain, n, self.hash(n), n, ph))
        return out


class MemoryStore:
    def __init__(self) -> None:
        self.blocks: dict[int, str] = {}
        self.cps: dict[str, Checkpoint] = {}
        self.rollbacks: list[int] = []

    def stored_hashes(self, chain, numbers):
        return {n: self.blocks[n] for n in numbers if n in self.blocks}

    def stored_blocks_between(self, chain, low, high):
        return {n: x for n, x in self.blocks.items() if low <= n <= high}

    def lookup_outputs(self, chain, keys):
        return {}

    def store(self, batch, cp):
        for b in batch.blocks:
            self.blocks[b.number] = b.hash
        self.save_checkpoint(cp)
        return StoredCounts(blocks=len(batch.blocks))

    def rollback_above(self, chain, number):
        gone = [n for n in self.blocks if n > number]
        for n in gone:
            del self.blocks[n]
        for cp in self.cps.values():
            if cp.next_block is not None and cp.next_block > number + 1:
                cp.next_block = number + 1
        self.rollbacks.append(number)
        return RollbackCounts(blocks=len(gone))

    def load_checkpoint(self, chain, job):
        return self.cps.get(job)

    def save_checkpoint(self, cp):
        self.cps[cp.job] = cp


def test_changed_parent_mid_range_rolls_back_to_the_fork_point():
    chain, store = FakeChain(20), MemoryStore()
    RangeCollector(chain, store, start=0, end=10, batch_blocks=3).run()
    chain.fork(8, "b", 20)  # blocks 8.. replaced
    summary = RangeCollector(chain, store, start=11, end=20, batch_blocks=3).run()
    assert store.rollbacks == [7]
    assert summary.reorgs == 1 and summary.rolled_back.blocks == 3
    assert store.blocks == {n: chain.hash(n) for n in range(21)}
    assert summary.first == 8  # re-collected below its own start to repair the chain


def test_finished_job_rerun_rechecks_finality_window():
    chain, store = FakeChain(30), MemoryStore()
    RangeCollector(chain, store, start=0, end=30, batch_blocks=4, finality_depth=6).run()
    chain.fork(27, "c", 30)
    summary = RangeCollector(chain, store, start=0, end=30, finality_depth=6).run()
    assert store.rollbacks == [26] and summary.blocks == 4
    assert store.blocks == {n: chain.hash(n) for n in range(31)}


def test_skipped_slots_are_recorded_not_failed():
    chain, store = FakeChain(12, skipped={3, 4, 9}), MemoryStore()
    chain.chain = Chain.SOL
    summary = RangeCollector(chain, store, start=0, end=12, batch_blocks=5).run()
    assert summary.skipped_slots == 3
    cp = store.cps["blocks:0-12"]
    assert cp.state["skipped_slots"] == [3, 4, 9] and cp.state["skipped_count"] == 3
    assert sorted(store.blocks) == [n for n in range(13) if n not in {3, 4, 9}]


def test_range_above_the_tip_is_refused():
    with pytest.raises(CollectionError, match="above the tip 5"):
        RangeCollector(FakeChain(5), MemoryStore(), start=0, end=9).run()
