"""The label store: importing label files into the database and reading labels back.

Imports are all-or-nothing per file (the importers reject a file with a bad row) and
idempotent (the natural key includes the source and scope). Reads honour visibility: shared
labels for everyone, case-private labels only for that case's members.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from django.db import transaction
from django.db.models import Q

from data_processing.models import AddressLabel
from fundtrace.attribution.importers.common import ImportResult
from fundtrace.attribution.labels import Category, Label
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import Chain

FORMATS = ("csv", "tagpack", "ofac", "etherscan")

# When one address carries several labels, the one tracing names first: highest confidence,
# then the category an investigator can act on (a freeze request goes to an exchange).
CATEGORY_PRIORITY = [
    Category.EXCHANGE,
    Category.BRIDGE,
    Category.MIXER,
    Category.SANCTIONED,
    Category.HACKER,
    Category.SCAM,
    Category.DEFI,
    Category.SERVICE,
    Category.VICTIM,
    Category.OTHER,
]


class LabelImportError(FundtraceError):
    """A label file was rejected; nothing of it was stored."""


def read_label_file(
    path: str | Path, fmt: str, *, skip_invalid: bool = False, case_id: str | None = None
) -> ImportResult:
    from fundtrace.attribution.importers.csv_labels import read_csv_labels
    from fundtrace.attribution.importers.eth_lists import read_eth_label_file
    from fundtrace.attribution.importers.ofac import read_ofac
    from fundtrace.attribution.importers.tagpack import read_tagpack

    if fmt == "csv":
        return read_csv_labels(path, skip_invalid=skip_invalid, case_id=case_id)
    if fmt == "tagpack":
        return read_tagpack(path, skip_invalid=skip_invalid, case_id=case_id)
    if fmt == "ofac":
        return read_ofac(path, skip_invalid=skip_invalid, case_id=case_id)
    if fmt == "etherscan":
        return read_eth_label_file(path, skip_invalid=skip_invalid)
    raise LabelImportError(f"unknown label format {fmt!r} (expected one of {', '.join(FORMATS)})")


def _row(label: Label, created_by_id: int | None) -> AddressLabel:
    case_id = int(label.case_id) if label.case_id else None
    return AddressLabel(
        chain=label.chain.value,
        address=label.address,
        entity=label.entity[:200],
        category=label.category.value,
        source=label.source[:300],
        source_category=label.source_category,
        confidence=label.confidence,
        scope=f"case:{case_id}" if case_id else "shared",
        case_id=case_id,
        valid=label.valid,
        notes=label.notes,
        as_of=label.as_of,
        created_by_id=created_by_id,
    )


def store_labels(labels: Iterable[Label], *, created_by_id: int | None = None) -> int:
    """Upsert labels by natural key; returns how many rows were written."""
    rows = [_row(lbl, created_by_id) for lbl in labels]
    with transaction.atomic():
        for i in range(0, len(rows), 2000):
            AddressLabel.objects.bulk_create(
                rows[i : i + 2000],
                update_conflicts=True,
                unique_fields=["chain", "address", "entity", "category", "source", "scope"],
                update_fields=["source_category", "confidence", "valid", "notes", "as_of"],
            )
    return len(rows)


def visible_labels(chain: Chain, address: str, *, case_ids: Iterable[int] | None = None):
    """Labels of an address: shared ones, plus private ones of the given cases (None = all)."""
    qs = AddressLabel.objects.filter(chain=chain.value, address=address)
    if case_ids is not None:
        qs = qs.filter(Q(case__isnull=True) | Q(case_id__in=list(case_ids)))
    return qs.order_by("-valid", "-confidence", "entity", "source")


def label_json(label: AddressLabel) -> dict:
    return {
        "entity": label.entity,
        "category": label.category,
        "source": label.source,
        "confidence": label.confidence,
    }


def best_label(labels: Iterable[AddressLabel]) -> AddressLabel | None:
    ranked = sorted(
        (lbl for lbl in labels if lbl.valid),
        key=lambda lbl: (-lbl.confidence, CATEGORY_PRIORITY.index(Category(lbl.category))),
    )
    return ranked[0] if ranked else None


def label_attribution(
    chain: Chain, *, case_ids: Iterable[int] | None = None
) -> Callable[[str], tuple[str, str] | None]:
    """address -> (entity, category) from directly labeled addresses (clusters add more)."""
    qs = AddressLabel.objects.filter(chain=chain.value, valid=True)
    if case_ids is not None:
        qs = qs.filter(Q(case__isnull=True) | Q(case_id__in=list(case_ids)))
    by_address: dict[str, list[AddressLabel]] = {}
    for lbl in qs.only("address", "entity", "category", "confidence", "valid"):
        by_address.setdefault(lbl.address, []).append(lbl)
    best = {a: best_label(v) for a, v in by_address.items()}
    table = {a: (b.entity, b.category) for a, b in best.items() if b is not None}
    return table.get
