"""Block-range collection: fetch a few blocks, check they extend the stored chain, store them
with the checkpoint in one transaction, repeat.

Storing the checkpoint in the same database transaction as the blocks is what makes resuming
exact: after a crash either both the blocks and the new checkpoint are there or neither is,
so a rerun starts at the first missing block (no gap) and stores nothing twice (storage is
idempotent anyway, keyed by chain + hash + index).

Re-orgs are detected two ways before anything is stored: a fetched block whose parent hash
differs from the stored block it builds on, or a fetched block whose hash differs from the
block stored at its height. Either way the stored chain is rolled back to the fork point (one
transaction, checkpoints pulled back with it) and collection continues from there. On resume
the stored blocks within the finality depth below the checkpoint are re-checked first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fundtrace.collection.checkpoint import DONE, FAILED, RUNNING, Checkpoint, range_job
from fundtrace.collection.errors import CollectionError, CollectionInterrupted
from fundtrace.collection.fetched import BlockFetcher, FetchedRange
from fundtrace.collection.reorg import (
    FINALITY_DEPTH,
    MAX_REORG_DEPTH,
    find_fork_point,
    stale_above,
)
from fundtrace.collection.store import CollectionStore, RollbackCounts, StoredCounts
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import Chain

DEFAULT_BATCH_BLOCKS = {Chain.BTC: 2, Chain.ETH: 10, Chain.SOL: 4}
"""Blocks per stored batch: small enough that an interruption loses little work, large enough
that JSON-RPC batching and set-based storage pay off."""
REFETCH_ATTEMPTS = 3
SKIPPED_KEPT = 10_000
"""Skipped slots listed in the checkpoint (the count is always exact)."""


@dataclass
class RangeSummary:
    chain: Chain
    url: str
    start: int
    end: int
    first: int
    """Where this run started (the checkpoint's block when resuming)."""
    blocks: int = 0
    batches: int = 0
    stored: StoredCounts = field(default_factory=StoredCounts)
    skipped_slots: int = 0
    reorgs: int = 0
    rolled_back: RollbackCounts = field(default_factory=RollbackCounts)
    unresolved_inputs: int = 0
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def movements(self) -> int:
        """Transfers (account chains) or outputs + inputs (Bitcoin): what a trace walks."""
        return self.stored.transfers + self.stored.outputs + self.stored.inputs

    def line(self) -> str:
        rate = self.blocks / self.elapsed if self.elapsed > 0 else 0.0
        moves = self.movements / self.elapsed if self.elapsed > 0 else 0.0
        unit = "slots" if self.chain is Chain.SOL else "blocks"
        what = (
            f"{self.stored.outputs} outputs, {self.stored.inputs} inputs"
            if self.chain is Chain.BTC
            else f"{self.stored.transfers} transfers"
        )
        text = (
            f"collected {self.chain} {unit} {self.first}..{self.end} from {self.url}: "
            f"{self.blocks} {unit} in {self.batches} batches, {self.stored.transactions} "
            f"transactions, {what}"
        )
        if self.skipped_slots:
            text += f", {self.skipped_slots} skipped slots"
        if self.reorgs:
            text += (
                f"; {self.reorgs} re-org(s) rolled back {self.rolled_back.blocks} blocks, "
                f"{self.rolled_back.transactions} transactions"
            )
        if self.unresolved_inputs:
            text += f"; {self.unresolved_inputs} inputs with unknown value"
        return text + f" in {self.elapsed:.2f}s ({rate:.1f} {unit}/s, {moves:.0f} movements/s)"


def _linked(fetched: FetchedRange) -> bool:
    """Consecutive fetched blocks name each other: the node did not re-org mid-fetch."""
    by_number = {h.number: h for h in fetched.headers}
    for h in fetched.headers:
        parent = by_number.get(h.parent_number) if h.parent_number is not None else None
        if parent is not None and parent.hash != h.parent_hash:
            return False
    return True


class RangeCollector:
    """Collect ``start..end`` (inclusive; ``end`` None = the tip when the run starts)."""

    def __init__(
        self,
        fetcher: BlockFetcher,
        store: CollectionStore,
        *,
        start: int,
        end: int | None = None,
        batch_blocks: int | None = None,
        finality_depth: int | None = None,
        resume: bool = True,
        max_reorg_depth: int = MAX_REORG_DEPTH,
        progress: Callable[[int], None] | None = None,
        after_batch: Callable[[FetchedRange], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if start < 0 or (end is not None and end < start):
            raise CollectionError(f"invalid block range {start}..{end}")
        self.fetcher = fetcher
        self.store = store
        self.chain = fetcher.chain
        self.start = start
        self.end = end
        self.batch_blocks = max(1, batch_blocks or DEFAULT_BATCH_BLOCKS[self.chain])
        self.finality_depth = (
            FINALITY_DEPTH[self.chain.value] if finality_depth is None else finality_depth
        )
        self.resume = resume
        self.max_reorg_depth = max_reorg_depth
        self.progress = progress
        self.after_batch = after_batch
        self.clock = clock
        self.job = range_job(start, end)
        self.on_plan: Callable[[int, int], None] | None = None
        """Called once with (first, end) when the work is known (the progress bar's total)."""

    def _rollback(self, fork: int, cp: Checkpoint, summary: RangeSummary) -> int:
        summary.reorgs += 1
        summary.rolled_back.add(self.store.rollback_above(self.chain, fork))
        cp.next_block = fork + 1
        summary.warnings.append(
            f"re-org: stored {self.chain} blocks above {fork} differed from {self.fetcher.url}; "
            "rolled back and re-collected"
        )
        return fork + 1

    def _fork_before(self, fetched: FetchedRange) -> int | None:
        """The fork point if ``fetched`` does not extend the stored chain, else None."""
        if not fetched.headers:
            return None
        numbers = [h.number for h in fetched.headers]
        first = fetched.headers[0]
        if first.parent_number is not None:
            numbers.append(first.parent_number)
        stored = self.store.stored_hashes(self.chain, numbers)
        for h in fetched.headers:
            if h.number in stored and stored[h.number] != h.hash:
                return find_fork_point(
                    self.fetcher, self.store, h.number - 1, max_depth=self.max_reorg_depth
                )
        parent = stored.get(first.parent_number) if first.parent_number is not None else None
        if parent is not None and parent != first.parent_hash:
            return find_fork_point(
                self.fetcher,
                self.store,
                first.parent_number,  # type: ignore[arg-type]
                max_depth=self.max_reorg_depth,
            )
        return None

    def _fetch(self, low: int, high: int) -> FetchedRange:
        for _ in range(REFETCH_ATTEMPTS):
            fetched = self.fetcher.fetch(low, high)
            if _linked(fetched):
                return fetched
        raise CollectionError(
            f"{self.fetcher.url}: blocks {low}..{high} kept changing while being fetched "
            f"({REFETCH_ATTEMPTS} attempts); the node is re-organising, try again later"
        )

    def _resolve(self, fetched: FetchedRange) -> None:
        if self.chain is not Chain.BTC:
            return
        from fundtrace.chains.btc.resolve import resolve_input_values

        missing = resolve_input_values(
            fetched.batch, lambda keys: self.store.lookup_outputs(self.chain, keys)
        )
        fetched.unresolved_inputs = len(missing)

    def run(self) -> RangeSummary:
        started = self.clock()
        cp = self.store.load_checkpoint(self.chain, self.job) if self.resume else None
        if cp is None:
            cp = Checkpoint(self.chain, self.job, next_block=self.start)
        cp.status, cp.error = RUNNING, None
        if cp.next_block is None:
            cp.next_block = self.start
        tip = self.fetcher.tip()
        end = tip if self.end is None else self.end
        if end > tip:
            raise CollectionError(
                f"block {end} is above the tip {tip} of {self.fetcher.url}; "
                "lower --to-block or wait for the node to sync"
            )
        summary = RangeSummary(self.chain, self.fetcher.url, self.start, end, cp.next_block)
        nxt = cp.next_block
        try:
            if nxt > self.start:
                fork = stale_above(
                    self.fetcher, self.store, max(0, nxt - self.finality_depth), nxt - 1
                )
                if fork is not None:
                    nxt = self._rollback(fork, cp, summary)
                    summary.first = min(summary.first, nxt)
            if self.on_plan is not None:
                self.on_plan(nxt, end)
            while nxt <= end:
                high = min(nxt + self.batch_blocks - 1, end)
                fetched = self._fetch(nxt, high)
                fork = self._fork_before(fetched)
                if fork is not None:
                    nxt = self._rollback(fork, cp, summary)
                    summary.first = min(summary.first, nxt)
                    self.store.save_checkpoint(cp)
                    continue
                self._resolve(fetched)
                cp.next_block = high + 1
                if fetched.headers:
                    cp.last_hash = fetched.headers[-1].hash
                if fetched.skipped:
                    kept = cp.state.get("skipped_slots", [])
                    cp.state["skipped_slots"] = (kept + fetched.skipped)[-SKIPPED_KEPT:]
                    cp.state["skipped_count"] = cp.state.get("skipped_count", 0) + len(
                        fetched.skipped
                    )
                summary.stored.add(self.store.store(fetched.batch, cp))
                summary.blocks += high - nxt + 1
                summary.batches += 1
                summary.skipped_slots += len(fetched.skipped)
                summary.unresolved_inputs += fetched.unresolved_inputs
                summary.warnings.extend(fetched.batch.warnings)
                if self.progress is not None:
                    self.progress(high - nxt + 1)
                nxt = high + 1
                if self.after_batch is not None:
                    self.after_batch(fetched)
        except FundtraceError as exc:
            cp.status, cp.error = FAILED, str(exc)
            self.store.save_checkpoint(cp)
            done = (
                f"{self.chain} blocks {summary.first}..{nxt - 1} are stored"
                if nxt > summary.first
                else "no new blocks stored"
            )
            where = f"{done}; rerun the same command to resume from {nxt}"
            raise CollectionInterrupted(exc, where=where) from exc
        cp.status = DONE
        self.store.save_checkpoint(cp)
        summary.elapsed = self.clock() - started
        return summary
