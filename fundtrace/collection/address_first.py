"""Address-first collection: follow an address's transfers hop by hop through an indexer.

An investigation usually starts from a victim's or a thief's address, not a block range. The
walk fetches each address's history, stores it, and queues the counterparties in the chosen
direction: forward follows where value went (recipients of transactions the address paid
into), backward where it came from (senders of what the address received). Breadth-first, so
``--max-addresses`` keeps the closest hops. The queue is part of the checkpoint, saved with
each address's data, so a rerun continues the walk instead of starting over.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fundtrace.collection.address_sources import AddressSource
from fundtrace.collection.checkpoint import DONE, FAILED, RUNNING, Checkpoint, address_job
from fundtrace.collection.errors import CollectionError, CollectionInterrupted
from fundtrace.collection.store import CollectionStore, StoredCounts
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import Batch, Chain, Transaction

FORWARD = "forward"
BACKWARD = "backward"


def canonical(chain: Chain, address: str) -> str:
    """Ethereum addresses compare lowercase (checksum case is presentation only)."""
    address = address.strip()
    return address.lower() if chain is Chain.ETH else address


def _tx_neighbours(tx: Transaction, address: str, direction: str) -> Iterable[str]:
    if tx.chain.is_utxo:
        if direction == FORWARD and any(i.address == address for i in tx.inputs):
            yield from (o.address for o in tx.outputs if o.address)
        elif direction == BACKWARD and any(o.address == address for o in tx.outputs):
            yield from (i.address for i in tx.inputs if i.address)
        return
    if not tx.success:
        return
    for t in tx.transfers:
        if direction == FORWARD and t.from_address == address and t.to_address:
            yield t.to_address
        elif direction == BACKWARD and t.to_address == address and t.from_address:
            yield t.from_address


def neighbours(batch: Batch, address: str, direction: str) -> list[str]:
    """Counterparties of ``address`` in ``direction``, first-seen order, without itself."""
    if direction not in (FORWARD, BACKWARD):
        raise ValueError(f"direction must be forward or backward, got {direction!r}")
    out: dict[str, None] = {}
    for tx in batch.transactions:
        for other in _tx_neighbours(tx, address, direction):
            other = canonical(batch.chain, other)
            if other != address:
                out[other] = None
    return list(out)


def drop_before(batch: Batch, since: int | None) -> None:
    """Keep transactions at/after ``since`` (unknown times are kept: better too much)."""
    if since is None:
        return
    batch.transactions = [
        t for t in batch.transactions if t.timestamp is None or t.timestamp >= since
    ]


@dataclass
class AddressSummary:
    chain: Chain
    url: str
    direction: str
    depth: int
    addresses: int = 0
    truncated: list[str] = field(default_factory=list)
    left_unvisited: int = 0
    stored: StoredCounts = field(default_factory=StoredCounts)
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def line(self) -> str:
        text = (
            f"collected {self.chain} {self.direction} {self.depth} hop(s) from {self.url}: "
            f"{self.addresses} addresses, {self.stored.transactions} transactions, "
            f"{self.stored.transfers} transfers, {self.stored.outputs} outputs, "
            f"{self.stored.inputs} inputs in {self.elapsed:.2f}s"
        )
        if self.left_unvisited:
            text += f"; {self.left_unvisited} addresses not visited (--max-addresses reached)"
        if self.truncated:
            text += f"; history capped for {len(self.truncated)} address(es)"
        return text


class AddressWalker:
    def __init__(
        self,
        source: AddressSource,
        store: CollectionStore,
        *,
        seeds: list[str],
        depth: int,
        direction: str = FORWARD,
        since: int | None = None,
        max_addresses: int = 100,
        resume: bool = True,
        progress: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if depth < 0:
            raise CollectionError("--depth must be 0 or more")
        if max_addresses < 1:
            raise CollectionError("--max-addresses must be at least 1")
        if direction not in (FORWARD, BACKWARD):
            raise CollectionError(f"--direction must be forward or backward, not {direction!r}")
        self.source = source
        self.store = store
        self.chain = source.chain
        self.seeds = list(dict.fromkeys(canonical(self.chain, s) for s in seeds))
        self.depth = depth
        self.direction = direction
        self.since = since
        self.max_addresses = max_addresses
        self.resume = resume
        self.progress = progress
        self.clock = clock
        key = ",".join(sorted(self.seeds))
        if len(key) > 200:
            key = "sha256=" + hashlib.sha256(key.encode()).hexdigest()
        self.job = address_job(key, direction, depth, since)
        self.on_plan: Callable[[int], None] | None = None

    def run(self) -> AddressSummary:
        started = self.clock()
        cp = self.store.load_checkpoint(self.chain, self.job) if self.resume else None
        if cp is None or "queue" not in cp.state:
            cp = Checkpoint(self.chain, self.job)
            cp.state = {"queue": [[s, 0] for s in self.seeds], "seen": list(self.seeds), "done": 0}
        cp.status, cp.error = RUNNING, None
        state = cp.state
        seen = set(state["seen"])
        summary = AddressSummary(self.chain, self.source.url, self.direction, self.depth)
        if self.on_plan is not None:
            self.on_plan(min(self.max_addresses, state["done"] + len(state["queue"])))
        try:
            while state["queue"] and state["done"] < self.max_addresses:
                address, hops = state["queue"][0]
                history = self.source.history(address, since=self.since)
                batch = history.batch
                drop_before(batch, self.since)
                if history.truncated:
                    summary.truncated.append(address)
                if hops < self.depth:
                    for other in neighbours(batch, address, self.direction):
                        if other not in seen:
                            seen.add(other)
                            state["seen"].append(other)
                            state["queue"].append([other, hops + 1])
                state["queue"].pop(0)
                state["done"] += 1
                summary.stored.add(self.store.store(batch, cp))
                summary.addresses += 1
                summary.warnings.extend(batch.warnings)
                if self.progress is not None:
                    self.progress(1)
        except FundtraceError as exc:
            cp.status, cp.error = FAILED, str(exc)
            self.store.save_checkpoint(cp)
            where = f"{state['done']} addresses stored; rerun the same command to resume"
            raise CollectionInterrupted(exc, where=where) from exc
        summary.left_unvisited = len(state["queue"])
        cp.status = DONE
        self.store.save_checkpoint(cp)
        summary.elapsed = self.clock() - started
        return summary
