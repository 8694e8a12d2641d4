"""Where a collection job stands, persisted after every stored batch so a rerun resumes.

A job is identified by (chain, key): the key names what was asked (``blocks:100-200``,
``address:forward:2:<addr>``) so two different requests never share progress, while rerunning
the same command finds its own checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fundtrace.core.model import Chain

RUNNING = "running"
DONE = "done"
FAILED = "failed"


@dataclass(slots=True)
class Checkpoint:
    chain: Chain
    job: str
    next_block: int | None = None
    """Range jobs: the first block not yet stored (everything below it, from the start, is)."""
    last_hash: str | None = None
    """Hash of the last stored block, for a quick re-org check on resume."""
    status: str = RUNNING
    error: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    """Job-specific progress: skipped slots, counters, the address-first queue."""


def range_job(start: int, end: int | None) -> str:
    return f"blocks:{start}-{'tip' if end is None else end}"


def address_job(address: str, direction: str, depth: int, since: int | None) -> str:
    tail = f":since={since}" if since is not None else ""
    return f"address:{direction}:{depth}{tail}:{address}"
