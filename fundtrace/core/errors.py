"""Errors that carry *where* bad input was, so a user can fix the file rather than guess."""

from __future__ import annotations


class FundtraceError(Exception):
    """Base of every error the CLI turns into a one-line message and exit code 1."""


class ParseError(FundtraceError, ValueError):
    """A source record could not be mapped to the canonical model.

    ``source`` is the file (or URL / RPC method), ``record`` the line number, array position or
    record id, ``field`` the JSON/CSV field that was wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        record: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.record = record
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(str(self.source))
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        where = ", ".join(parts)
        return f"{where}: {self.message}" if where else self.message

    def located(self, *, source: str | None = None, record: int | str | None = None) -> ParseError:
        """Fill in location details known only to an outer layer (the importer knows the file)."""
        return ParseError(
            self.message,
            source=self.source if self.source is not None else source,
            record=self.record if self.record is not None else record,
            field=self.field,
        )
