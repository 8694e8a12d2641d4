"""What the case pages show, computed from stored runs with integer arithmetic only.

Percentages of the source amount are rounded half up from exact integers, so a table of
endpoint amounts never drifts from the amounts the API returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from fundtrace.core.amounts import format_units
from transaction_tracking.models import AuditEntry, Case, TraceRun

ASSET_UNITS = {"btc": "BTC", "eth": "ETH", "sol": "SOL"}
KIND_ROWS = (("holding", "still held"), ("fee", "fees"), ("limit", "stopped at limit"))


def units(amount: int | str | None, decimals: int | None) -> str:
    """Base units as an exact decimal string ("13172688380", 8 -> "131.7268838")."""
    if amount is None or amount == "":
        return "—"
    return format_units(int(amount), decimals)


def percent(part: int, whole: int, places: int = 2) -> str:
    """part / whole in percent, rounded half up, computed on integers."""
    if whole <= 0:
        return "—"
    scale = 10**places
    q = (2 * part * 100 * scale + whole) // (2 * whole)
    whole_pct, frac = divmod(q, scale)
    return f"{whole_pct}.{str(frac).rjust(places, '0')}" if places else str(whole_pct)


def unit_name(chain: str, asset: str) -> str:
    """A short unit for display: the native coin's ticker, or the token's id (shortened)."""
    if not asset or asset == "native":
        return ASSET_UNITS.get(chain, "")
    return asset if len(asset) <= 12 else f"{asset[:6]}…{asset[-4:]}"


@dataclass
class Cell:
    amount: int
    text: str
    pct: str


@dataclass
class Row:
    label: str
    category: str
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class TraceGroup:
    """Runs of one trace (same chain, asset and sources) under the different models."""

    chain: str
    name: str
    asset: str
    decimals: int | None
    source_amount: int | None
    models: list[str] = field(default_factory=list)
    runs: dict[str, TraceRun] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def source_text(self) -> str:
        return units(self.source_amount, self.decimals)

    @property
    def table(self) -> list[tuple[Row, list[Cell | None]]]:
        """Rows with their cells in column (model) order, for templates."""
        return [(row, [row.cells.get(m) for m in self.models]) for row in self.rows]

    def put(self, row_label: str, category: str, model: str, amount: int, source: int) -> None:
        row = next((r for r in self.rows if r.label == row_label), None)
        if row is None:
            row = Row(row_label, category)
            self.rows.append(row)
        row.cells[model] = Cell(amount, units(amount, self.decimals), percent(amount, source))

    @property
    def run_list(self) -> list[tuple[str, TraceRun]]:
        return [(m, self.runs[m]) for m in self.models]


def _group_key(run: TraceRun) -> tuple[str, str, tuple[str, ...]]:
    params = run.parameters or {}
    sources = tuple(sorted(str(s) for s in params.get("sources", [])))
    return run.chain, run.asset or params.get("asset") or "native", sources


def where_funds_went(runs: Iterable[TraceRun]) -> list[TraceGroup]:
    """Per traced asset and model: amount by entity (labeled), still held, fees, limit."""
    groups: dict[tuple[str, str, tuple[str, ...]], TraceGroup] = {}
    for run in runs:
        key = _group_key(run)
        doc = run.result or {}
        group = groups.get(key)
        if group is None:
            name = (run.parameters or {}).get("name") or f"trace of {len(key[2])} source(s)"
            group = groups[key] = TraceGroup(
                run.chain, str(name), key[1], doc.get("decimals"), None
            )
        label = run.model if run.model not in group.runs else f"{run.model} (run {run.pk})"
        group.models.append(label)
        group.runs[label] = run
        if run.status != TraceRun.Status.DONE:
            group.problems.append(f"run {run.pk} ({run.model}): {run.status} {run.error}".strip())
            continue
        if group.decimals is None:
            group.decimals = doc.get("decimals")
        source = int(doc.get("source_amount") or 0)
        if group.source_amount is None:
            group.source_amount = source
        categories = {
            str(e.get("entity") or e.get("category") or "labeled (unnamed)"): e.get("category")
            for e in doc.get("endpoints", [])
            if e.get("kind") == "labeled"
        }
        by_entity = doc.get("summary", {}).get("by_entity", {})
        for entity, amount in sorted(by_entity.items()):
            group.put(entity, str(categories.get(entity) or ""), label, int(amount), source)
        summary = doc.get("summary", {})
        for kind, row_label in KIND_ROWS:
            value = int(summary.get(kind) or 0)
            if value or kind == "holding":
                group.put(row_label, "", label, value, source)
    out = list(groups.values())
    for g in out:
        g.rows.sort(key=lambda r: (r.label in {x for _, x in KIND_ROWS}, r.label.lower()))
    return out


def case_audit(case: Case, limit: int = 20) -> QuerySet[AuditEntry]:
    """The latest audit entries about this case (the case itself, or rows recording it)."""
    return AuditEntry.objects.filter(
        Q(object_type="Case", object_id=str(case.pk)) | Q(changes__case=case.pk)
    ).order_by("-seq")[:limit]


def describe_changes(entry: AuditEntry) -> str:
    """One line of an audit entry's content, for a table cell."""
    changes: Any = entry.changes or {}
    if not isinstance(changes, dict):
        return str(changes)[:120]
    parts = []
    for key in ("title", "status", "flows", "endpoints", "sha256", "error"):
        if changes.get(key) not in (None, ""):
            parts.append(f"{key}: {changes[key]}")
    if "changed" in changes and isinstance(changes["changed"], dict):
        parts.append("changed: " + ", ".join(sorted(changes["changed"])))
    return "; ".join(parts)[:160]
