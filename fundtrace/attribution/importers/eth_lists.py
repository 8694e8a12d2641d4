"""Readers for the public Ethereum label lists (Etherscan label-cloud scrapes and their copies).

Formats (see shared/labels/PROVENANCE.md section 4):

* Etherscan per-label CSV (brianleect ``accounts/<slug>.csv`` and ``legacy-*/data/<slug>.csv``):
  ``,Address,Name Tag,Balance,Txn Count``; the slug is the file name.
* ``combinedAllLabels.json``: ``{address: {"name", "labels": [slugs]}}``; keys come in both EIP-55
  and lower case, so the same address appears twice. One label per *mapped* slug is produced, so
  an address tagged ``ofac-sanctions-lists`` and ``tornado-cash`` gets sanctioned *and* mixer.
* dawsbot ``<slug>/accounts.json``: ``[{"address", "nameTag"}]``; the slug is the directory.
* Forta ``etherscan_malicious_labels.csv``, ``phishing_scams.csv`` and
  ``malicious_smart_contracts.csv``.
* MEW ``addresses-darklist.json``: ``[{"address", "comment", "date"}]`` (scam reports).

Etherscan data is a scrape of a trusted provider, hence confidence 50 (GraphSense
``trusted_provider``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from fundtrace.attribution.importers.common import ImportResult, LabelCollector
from fundtrace.attribution.labels import (
    ETHERSCAN_EXCHANGE_NAMES,
    Category,
    Label,
    map_etherscan_slug,
)
from fundtrace.core.model import Chain

__all__ = [
    "ETHERSCAN_CONFIDENCE",
    "read_dawsbot_accounts",
    "read_eth_label_file",
    "read_etherscan_combined",
    "read_etherscan_csv",
    "read_forta_csv",
    "read_mew_darklist",
]

ETHERSCAN_CONFIDENCE = 50


def _entity(slug: str, name: str) -> str:
    """Exchange slugs name the operator better than a numbered tag ('Binance 14')."""
    exch = ETHERSCAN_EXCHANGE_NAMES.get(slug)
    if exch:
        return exch
    return name or f"Etherscan {slug}"


def _label(addr: str, slug: str, name: str, category: Category, source: str, **kw) -> Label:
    return Label(
        chain=Chain.ETH,
        address=addr,
        entity=_entity(slug, name),
        category=category,
        source=source,
        confidence=kw.pop("confidence", ETHERSCAN_CONFIDENCE),
        notes=f"name={name}" if name and name != _entity(slug, name) else "",
        source_category=slug,
        **kw,
    )


def read_etherscan_csv(
    path: str | Path,
    *,
    slug: str | None = None,
    skip_invalid: bool = False,
    case_id: str | None = None,
    created_by: str | None = None,
) -> ImportResult:
    path = Path(path)
    slug = (slug or path.stem).lower()
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    category = map_etherscan_slug(slug)
    if category is None:
        col.error(f"label {slug!r} has no category mapping; pass slug=", record=None, field="slug")
        return col.finish()
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "Address" not in reader.fieldnames:
            col.error("header lacks 'Address'", record=1, field="Address")
            return col.finish()
        for row in reader:
            col.rows += 1
            addr = col.address(
                Chain.ETH, row.get("Address"), record=reader.line_num, field="Address"
            )
            if addr is None:
                continue
            name = (row.get("Name Tag") or "").strip()
            col.add(
                _label(
                    addr,
                    slug,
                    name,
                    category,
                    f"etherscan:{slug}",
                    case_id=case_id,
                    created_by=created_by,
                )
            )
    return col.finish()


def read_etherscan_combined(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    include_unmapped: bool = False,
    case_id: str | None = None,
    created_by: str | None = None,
) -> ImportResult:
    """``include_unmapped`` also keeps named entries whose slugs all lack a mapping (as OTHER)."""
    path = Path(path)
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    data = col.read_json(path)
    if data is col.NOT_JSON:
        return col.finish()
    if not isinstance(data, dict):
        col.error("expected an object keyed by address", record=None, field=None)
        return col.finish()
    for key, val in data.items():
        col.rows += 1
        if not isinstance(val, dict) or not isinstance(val.get("labels", []), list):
            col.error("value is not {name, labels}", record=key, field="labels")
            continue
        addr = col.address(Chain.ETH, key, record=key, field="key")
        if addr is None:
            continue
        name = str(val.get("name") or "").strip()
        mapped = [(s, map_etherscan_slug(s)) for s in val.get("labels", [])]
        mapped = [(s, c) for s, c in mapped if c is not None]
        if not mapped:
            if include_unmapped and name:
                col.add(
                    _label(
                        addr,
                        "",
                        name,
                        Category.OTHER,
                        "etherscan:combined",
                        case_id=case_id,
                        created_by=created_by,
                    )
                )
            else:
                col.skip("no mapped label")
            continue
        seen: set[Category] = set()
        for slug, cat in mapped:
            if cat in seen:
                continue
            seen.add(cat)
            col.add(
                _label(
                    addr,
                    slug,
                    name,
                    cat,
                    "etherscan:combined",
                    case_id=case_id,
                    created_by=created_by,
                )
            )
    return col.finish()


def read_dawsbot_accounts(
    path: str | Path,
    *,
    slug: str | None = None,
    skip_invalid: bool = False,
    case_id: str | None = None,
    created_by: str | None = None,
) -> ImportResult:
    path = Path(path)
    slug = (slug or path.parent.name).lower()
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    category = map_etherscan_slug(slug)
    if category is None:
        col.error(f"label {slug!r} has no category mapping; pass slug=", record=None, field="slug")
        return col.finish()
    items = col.read_json(path)
    if items is col.NOT_JSON:
        return col.finish()
    for i, item in enumerate(items if isinstance(items, list) else []):
        col.rows += 1
        if not isinstance(item, dict):
            col.error("entry is not an object", record=f"[{i}]", field=None)
            continue
        addr = col.address(Chain.ETH, item.get("address"), record=f"[{i}]")
        if addr is None:
            continue
        name = str(item.get("nameTag") or "").strip()
        col.add(
            _label(
                addr,
                slug,
                name,
                category,
                f"etherscan:{slug}",
                case_id=case_id,
                created_by=created_by,
            )
        )
    return col.finish()


_FORTA_SHAPES = {
    "banned_address": ("banned_address", "wallet_tag", "data_source"),
    "address": ("address", "etherscan_tag", "etherscan_labels"),
    "contract_address": ("contract_address", "contract_tag", "contract_creator_etherscan_label"),
}


def read_forta_csv(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    case_id: str | None = None,
    created_by: str | None = None,
) -> ImportResult:
    """Forta's copies of Etherscan's phish-hack/heist/exploit lists (chain id 1)."""
    path = Path(path)
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        shape = next((_FORTA_SHAPES[f] for f in fields if f in _FORTA_SHAPES), None)
        if shape is None:
            col.error("not a Forta label CSV", record=1, field=None)
            return col.finish()
        addr_f, name_f, slug_f = shape
        for row in reader:
            col.rows += 1
            line = reader.line_num
            slug = (row.get(slug_f) or "").strip()
            if addr_f == "contract_address" and not slug:
                slug = "phish-hack"  # malicious contracts without a creator label
            category = map_etherscan_slug(slug)
            if category is None:
                col.error(f"unknown label {slug!r}", record=line, field=slug_f)
                continue
            addr = col.address(Chain.ETH, row.get(addr_f), record=line, field=addr_f)
            if addr is None:
                continue
            name = (row.get(name_f) or "").strip()
            col.add(
                _label(
                    addr,
                    slug,
                    name,
                    category,
                    "forta:labelled-datasets",
                    case_id=case_id,
                    created_by=created_by,
                )
            )
    return col.finish()


def read_mew_darklist(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    case_id: str | None = None,
    created_by: str | None = None,
) -> ImportResult:
    path = Path(path)
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    items = col.read_json(path)
    if items is col.NOT_JSON:
        return col.finish()
    for i, item in enumerate(items if isinstance(items, list) else []):
        col.rows += 1
        if not isinstance(item, dict):
            col.error("entry is not an object", record=f"[{i}]", field=None)
            continue
        addr = col.address(Chain.ETH, item.get("address"), record=f"[{i}]")
        if addr is None:
            continue
        comment = str(item.get("comment") or "").strip()
        col.add(
            Label(
                chain=Chain.ETH,
                address=addr,
                entity=comment or "MEW darklist",
                category=Category.SCAM,
                source="mew:addresses-darklist",
                confidence=20,  # community reports, 2017-2018, unverified
                case_id=case_id,
                created_by=created_by,
                source_category="darklist",
                as_of=str(item.get("date") or "") or None,
            )
        )
    return col.finish()


def read_eth_label_file(path: str | Path, *, skip_invalid: bool = False) -> ImportResult:
    """Pick the reader by the file's shape (name and header), for bulk loading a directory."""
    path = Path(path)
    if path.name == "combinedAllLabels.json":
        return read_etherscan_combined(path, skip_invalid=skip_invalid)
    if path.name == "accounts.json":
        return read_dawsbot_accounts(path, skip_invalid=skip_invalid)
    if path.name == "addresses-darklist.json":
        return read_mew_darklist(path, skip_invalid=skip_invalid)
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig") as fh:
            first = fh.readline()
        if "Address" in first and "Name Tag" in first:
            return read_etherscan_csv(path, skip_invalid=skip_invalid)
        return read_forta_csv(path, skip_invalid=skip_invalid)
    col = LabelCollector(str(path))
    col.error("unrecognised Ethereum label file", record=None, field=None)
    return col.finish()
