"""What every label importer shares: all-or-nothing results with located errors.

A label file is imported as a unit. One bad row (unknown category, broken checksum, missing
field) rejects the whole file, because a half-imported sanctions list is worse than none: the
investigator would believe the list is loaded. The caller may instead ask to *skip invalid
addresses*; those rows are then dropped and reported, every other kind of error still rejects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fundtrace.attribution.labels import Label
from fundtrace.core.addresses import InvalidAddress, normalize_address
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Chain

__all__ = ["ImportResult", "LabelCollector"]


@dataclass
class ImportResult:
    """``labels, errors = read_xxx(path)`` unpacks; store ``labels`` (empty when rejected).

    ``errors`` lists every problem with file, record and field. ``rejected`` is True when the
    file must not be stored at all; with ``skip_invalid`` the invalid-address rows appear in
    ``errors`` but the rest of the file is kept. ``skipped`` counts rows that are valid but out of
    scope (another chain's addresses in a multi-asset list), ``warnings`` notes kept-but-odd rows.
    """

    source: str
    labels: list[Label] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rejected: bool = False
    rows: int = 0

    def __iter__(self) -> Iterator[object]:
        yield self.labels
        yield self.errors


class LabelCollector:
    """Accumulates labels of one file, de-duplicating by :attr:`Label.key`."""

    def __init__(self, source: str, *, skip_invalid: bool = False) -> None:
        self.source = source
        self.skip_invalid = skip_invalid
        self._labels: dict[tuple, Label] = {}
        self._errors: list[ParseError] = []
        self._fatal = False
        self.skipped: dict[str, int] = {}
        self.warnings: list[str] = []
        self.rows = 0

    def error(self, message: str, *, record: int | str | None, field: str | None) -> None:
        self._errors.append(ParseError(message, source=self.source, record=record, field=field))
        self._fatal = True

    NOT_JSON = object()

    def read_json(self, path: Path) -> object:
        """The file's JSON document, or :attr:`NOT_JSON` after recording where it broke."""
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            self.error(f"not valid JSON: {exc.msg}", record=f"line {exc.lineno}", field=None)
            return self.NOT_JSON

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def warn(self, message: str, *, record: int | str | None) -> None:
        self.warnings.append(f"{self.source}, record {record}: {message}")

    def address(
        self, chain: Chain, text: object, *, record: int | str | None, field: str = "address"
    ) -> str | None:
        """Canonical address, or None after recording the problem (fatal unless skip_invalid)."""
        if not isinstance(text, str):
            what = "missing" if text is None else f"not a string ({type(text).__name__})"
            self.error(f"address is {what}", record=record, field=field)
            return None
        try:
            canon = normalize_address(chain, text)
        except InvalidAddress as exc:
            self._errors.append(
                ParseError(
                    exc.reason + f" ({text!r})", source=self.source, record=record, field=field
                )
            )
            if not self.skip_invalid:
                self._fatal = True
            return None
        if text != text.strip():
            self.warn(f"surrounding whitespace trimmed from {text!r}", record=record)
        return canon

    def add(self, label: Label) -> None:
        old = self._labels.get(label.key)
        if old is None or label.confidence > old.confidence:
            self._labels[label.key] = label

    def finish(self) -> ImportResult:
        res = ImportResult(
            source=self.source,
            errors=list(self._errors),
            skipped=dict(self.skipped),
            warnings=list(self.warnings),
            rejected=self._fatal,
            rows=self.rows,
        )
        if not self._fatal:
            res.labels = list(self._labels.values())
        return res
