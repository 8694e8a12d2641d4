"""GraphSense TagPack YAML: pack header fields are defaults that each tag may override.

Real packs use ``currency`` for the network (no pack sets ``network``), give ``confidence`` as a
named level (``web_crawl``, ``authority_data``...) defined in the tagpack tool's confidence table,
and carry concepts beyond our vocabulary. Unknown concepts become OTHER with a warning rather than
an error: the tag is still true, we just cannot act on its category.
"""

from __future__ import annotations

import csv
import datetime as _dt
from collections.abc import Mapping
from pathlib import Path

import yaml

from fundtrace.attribution.importers.common import ImportResult, LabelCollector
from fundtrace.attribution.labels import (
    GRAPHSENSE_OTHER,
    Category,
    Label,
    map_graphsense_concept,
)
from fundtrace.core.model import Chain

__all__ = ["DEFAULT_CONFIDENCE_LEVELS", "load_confidence_levels", "read_tagpack"]

# tagpack-tool db/confidence.csv (commit a14a159): id -> level.
DEFAULT_CONFIDENCE_LEVELS: dict[str, int] = {
    "override": 100,
    "ownership": 100,
    "ledger_immanent": 100,
    "manual_transaction": 90,
    "service_api": 70,
    "forensic_investigation": 70,
    "authority_data": 60,
    "trusted_provider": 50,
    "service_data": 50,
    "forensic": 50,
    "untrusted_transaction": 40,
    "web_crawl": 20,
    "heuristic": 10,
    "unknown": 5,
}
DEFAULT_CONFIDENCE = 50  # packs that state none (ofac.yaml, etherscamdb, miners_additional)

INHERITED = (
    "currency", "network", "label", "category", "abuse", "source", "confidence", "actor",
    "lastmod", "is_cluster_definer",
)  # fmt: skip

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster on big packs

_CHAINS = {"btc": Chain.BTC, "eth": Chain.ETH, "sol": Chain.SOL}


def load_confidence_levels(path: str | Path) -> dict[str, int]:
    """Named levels from a ``confidence.yaml`` (id -> {level}) or the tool's ``confidence.csv``."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return {r["id"].strip(): int(r["level"]) for r in csv.DictReader(fh)}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, int] = {}
    items = data.items() if isinstance(data, dict) else ((d.get("id"), d) for d in data)
    for key, val in items:
        level = val.get("level") if isinstance(val, dict) else val
        out[str(key)] = int(level)
    return out


def _find_confidence_file(pack: Path) -> Path | None:
    for d in list(pack.resolve().parents)[:4]:
        for name in ("confidence.yaml", "confidence.yml"):
            if (d / name).is_file():
                return d / name
    return None


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v).strip()


def read_tagpack(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    confidence_levels: Mapping[str, int] | None = None,
    created_by: str | None = None,
    case_id: str | None = None,
) -> ImportResult:
    """Labels for the BTC/ETH/SOL tags of one pack; other currencies are counted in ``skipped``."""
    path = Path(path)
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    if confidence_levels is None:
        found = _find_confidence_file(path)
        confidence_levels = load_confidence_levels(found) if found else DEFAULT_CONFIDENCE_LEVELS
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        col.error(f"not valid YAML: {exc}", record=mark.line + 1 if mark else None, field=None)
        return col.finish()
    if not isinstance(doc, dict) or not isinstance(doc.get("tags"), list):
        col.error("a TagPack is a mapping with a 'tags' list", record=None, field="tags")
        return col.finish()
    header = {k: doc.get(k) for k in INHERITED if k in doc}
    pack_creator = _text(doc.get("creator"))
    for i, tag in enumerate(doc["tags"]):
        rec = f"tags[{i}]"
        col.rows += 1
        if not isinstance(tag, dict):
            col.error("tag is not a mapping", record=rec, field=None)
            continue
        eff = {**header, **{k: v for k, v in tag.items() if v is not None}}
        net = _text(eff.get("network")) or _text(eff.get("currency"))
        if not net:
            col.error("no currency/network in tag or header", record=rec, field="currency")
            continue
        chain = _CHAINS.get(net.lower())
        if chain is None:
            col.skip(f"currency {net.upper()}")
            continue
        raw_addr = tag.get("address")
        if isinstance(raw_addr, int) and not isinstance(raw_addr, bool):
            col.error(
                "address parsed as a number; quote it in the YAML", record=rec, field="address"
            )
            continue
        label_text = _text(eff.get("label"))
        if not label_text:
            col.error("no label in tag or header", record=rec, field="label")
            continue
        conf_raw = eff.get("confidence")
        if conf_raw is None:
            confidence = DEFAULT_CONFIDENCE
        elif isinstance(conf_raw, int) and not isinstance(conf_raw, bool):
            confidence = conf_raw
        elif str(conf_raw).strip() in confidence_levels:
            confidence = confidence_levels[str(conf_raw).strip()]
        else:
            col.error(f"unknown confidence level {conf_raw!r}", record=rec, field="confidence")
            continue
        if not 0 <= confidence <= 100:
            col.error(f"confidence {confidence} outside 0..100", record=rec, field="confidence")
            continue
        abuse = _text(eff.get("abuse"))
        category_raw = _text(eff.get("category"))
        category = map_graphsense_concept(abuse) or map_graphsense_concept(category_raw)
        source_term = abuse or category_raw
        if category is None:
            if source_term and source_term not in GRAPHSENSE_OTHER:
                col.warn(f"concept {source_term!r} has no mapping; category other", record=rec)
            category = Category.OTHER
        address = col.address(chain, raw_addr, record=rec)
        if address is None:
            continue
        actor = _text(eff.get("actor"))
        col.add(
            Label(
                chain=chain,
                address=address,
                entity=label_text,
                category=category,
                source=_text(eff.get("source")) or path.name,
                confidence=confidence,
                case_id=case_id,
                created_by=created_by or pack_creator,
                notes=f"actor={actor}" if actor else "",
                source_category=source_term,
                as_of=_text(eff.get("lastmod")),
            )
        )
    return col.finish()
