"""Collection failures that the CLI reports as one line (exit 1), progress kept."""

from __future__ import annotations

from fundtrace.core.errors import FundtraceError


class CollectionError(FundtraceError):
    """A collection run could not continue (node lacks a block, re-org deeper than allowed...)."""


class CollectionInterrupted(CollectionError):
    """The endpoint failed mid-run; everything before ``next_block`` is stored and checkpointed.

    The message keeps the client's one-line error (redacted URL, last request) and adds where
    to resume, so an investigator knows the run is not lost.
    """

    def __init__(self, cause: Exception, *, where: str) -> None:
        self.cause = cause
        super().__init__(f"{cause} [{where}]")
