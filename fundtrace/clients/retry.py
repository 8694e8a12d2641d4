"""When and how long to wait before retrying a failed request.

Exponential backoff with *full jitter* (a uniformly random wait between 0 and the exponential
cap) spreads retries from many workers instead of having them hit a recovering node in step.
A server's ``Retry-After`` wins over the computed wait: the provider knows its quota window.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


@dataclass
class RetryPolicy:
    """Retry limits; ``rng`` / ``sleep`` / ``wall_clock`` are injectable for deterministic tests."""

    max_retries: int = 5
    """Retries after the first attempt (so at most ``max_retries + 1`` requests)."""
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_malformed_retries: int = 2
    """Bad JSON is usually a truncated proxy response; retry a little, then report it."""
    max_retry_after: float = 120.0
    """A Retry-After longer than this is clamped: a collection should not silently stall."""
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time

    def backoff(self, retry_number: int) -> float:
        """Full-jitter wait before retry ``retry_number`` (0 = the first retry)."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2**retry_number))
        return self.rng.uniform(0.0, ceiling)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return self.backoff(retry_number)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        return max(0.0, when.timestamp() - now)
    if seconds != seconds or seconds < 0:  # NaN or negative: ignore the header
        return None
    return seconds
