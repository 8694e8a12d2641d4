"""The project's own CSV label format: ``chain,address,entity,category[,source,confidence]``."""

from __future__ import annotations

import csv
from pathlib import Path

from fundtrace.attribution.importers.common import ImportResult, LabelCollector
from fundtrace.attribution.labels import Label, parse_category
from fundtrace.core.addresses import parse_chain

__all__ = ["DEFAULT_CONFIDENCE", "read_csv_labels"]

REQUIRED = ("chain", "address", "entity", "category")
OPTIONAL = ("source", "confidence")
DEFAULT_CONFIDENCE = 50


def read_csv_labels(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    created_by: str | None = None,
    case_id: str | None = None,
    default_source: str | None = None,
) -> ImportResult:
    """Labels from a CSV file; a missing ``source`` defaults to the file name."""
    path = Path(path)
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    source_default = default_source or path.name
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            col.error("empty file, expected a header", record=1, field=None)
            return col.finish()
        missing = [h for h in REQUIRED if h not in header]
        if missing:
            col.error(f"header lacks {', '.join(missing)}", record=1, field=missing[0])
            return col.finish()
        unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
        if unknown:
            col.error(f"unknown column(s) {', '.join(unknown)}", record=1, field=unknown[0])
            return col.finish()
        pos = {h: i for i, h in enumerate(header)}
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            col.rows += 1
            if len(row) != len(header):
                col.error(f"{len(row)} fields, header has {len(header)}", record=line, field=None)
                continue
            get = {h: row[i].strip() for h, i in pos.items()}
            try:
                chain = parse_chain(get["chain"])
            except ValueError as exc:
                col.error(str(exc), record=line, field="chain")
                continue
            try:
                category = parse_category(get["category"])
            except ValueError as exc:
                col.error(str(exc), record=line, field="category")
                continue
            if not get["entity"]:
                col.error("entity is empty", record=line, field="entity")
                continue
            confidence = DEFAULT_CONFIDENCE
            if get.get("confidence"):
                try:
                    confidence = int(get["confidence"])
                except ValueError:
                    col.error(
                        f"confidence {get['confidence']!r} is not an integer",
                        record=line,
                        field="confidence",
                    )
                    continue
                if not 0 <= confidence <= 100:
                    col.error(
                        f"confidence {confidence} outside 0..100", record=line, field="confidence"
                    )
                    continue
            address = col.address(chain, row[pos["address"]], record=line)
            if address is None:
                continue
            col.add(
                Label(
                    chain=chain,
                    address=address,
                    entity=get["entity"],
                    category=category,
                    source=get.get("source") or source_default,
                    confidence=confidence,
                    case_id=case_id,
                    created_by=created_by,
                )
            )
    return col.finish()
