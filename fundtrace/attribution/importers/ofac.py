"""OFAC SDN digital-currency addresses: the advanced XML and the per-asset address lists.

OFAC files addresses under "Digital Currency Address - <TICKER>" feature types. ``XBT`` is Bitcoin.
Multi-chain tickers (USDT, USDC) hold Ethereum, TRON and Omni (Bitcoin-format) addresses, so
they are classified by shape; TRON and other chains are counted in ``skipped``. A chain-specific
ticker whose address is not of that chain (a TRON address under XBT, in the real list) is an
invalid address: the file is rejected unless the caller skips invalid addresses.
"""

from __future__ import annotations

import bz2
import csv
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from fundtrace.attribution.importers.common import ImportResult, LabelCollector
from fundtrace.attribution.labels import Category, Label
from fundtrace.core.model import Chain

__all__ = ["OFAC_CONFIDENCE", "OFAC_SOURCE", "mark_delisted", "read_ofac"]

OFAC_SOURCE = "OFAC SDN"
# The designation is authoritative, but address strings are transcribed by hand (the list holds
# a TRON address under XBT), so not 100.
OFAC_CONFIDENCE = 90

_TICKER_CHAIN = {"XBT": Chain.BTC, "ETH": Chain.ETH, "SOL": Chain.SOL}
_MULTI = {"USDT", "USDC"}
_FEATURE_PREFIX = "Digital Currency Address - "
_LATIN_SCRIPT_ID = "215"  # SDN names also come in Persian/Cyrillic/... script; keep Latin
_LIST_NAME = re.compile(r"sanctioned_addresses_([A-Z0-9]+)\.(txt|json)$", re.I)


def _chain_for(ticker: str, address: str) -> Chain | str | None:
    """Chain, or a skip reason string for out-of-scope rows."""
    t = ticker.upper()
    if t in _TICKER_CHAIN:
        return _TICKER_CHAIN[t]
    if t in _MULTI:
        a = address.strip()
        if a.startswith("0x"):
            return Chain.ETH
        if a.startswith("T"):
            return f"{t} on TRON"
        if a[:1] in ("1", "3") or a.lower().startswith("bc1"):
            return Chain.BTC  # Omni layer
        return f"{t} unknown network"
    return f"asset {t}"


def _add(
    col: LabelCollector,
    ticker: str,
    address: str,
    record: int | str,
    entity: str,
    as_of: str | None,
    notes: str,
    case_id: str | None,
    created_by: str | None,
) -> None:
    col.rows += 1
    chain = _chain_for(ticker, address)
    if not isinstance(chain, Chain):
        col.skip(str(chain))
        return
    canon = col.address(chain, address, record=record)
    if canon is None:
        return
    col.add(
        Label(
            chain=chain,
            address=canon,
            entity=entity,
            category=Category.SANCTIONED,
            source=OFAC_SOURCE,
            confidence=OFAC_CONFIDENCE,
            case_id=case_id,
            created_by=created_by,
            notes=notes,
            source_category=f"{_FEATURE_PREFIX}{ticker}",
            as_of=as_of,
        )
    )


def _open(path: Path) -> IO[bytes]:
    return bz2.open(path, "rb") if path.suffix == ".bz2" else path.open("rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_xml(
    path: Path,
    col: LabelCollector,
    case_id: str | None,
    created_by: str | None,
    as_of_override: str | None,
) -> None:
    feature_types: dict[str, str] = {}
    date: dict[str, str] = {}
    as_of = as_of_override
    with _open(path) as fh:
        try:
            for _event, elem in ET.iterparse(fh, events=("end",)):
                tag = _local(elem.tag)
                if tag in ("Year", "Month", "Day") and as_of is None and len(date) < 3:
                    date[tag] = (elem.text or "").strip()
                elif tag == "DateOfIssue" and as_of is None:
                    y, m, d = date.get("Year"), date.get("Month"), date.get("Day")
                    if y and m and d:
                        as_of = f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
                elif tag == "FeatureType":
                    text = (elem.text or "").strip()
                    if text.startswith(_FEATURE_PREFIX):
                        feature_types[elem.get("ID", "")] = text[len(_FEATURE_PREFIX) :]
                elif tag == "DistinctParty":
                    _party(elem, feature_types, col, as_of, case_id, created_by)
                    elem.clear()
                elif tag == "SanctionsEntry":
                    elem.clear()
        except ET.ParseError as exc:
            col.error(f"not well-formed XML: {exc}", record=f"line {exc.position[0]}", field=None)
    if not feature_types:
        col.error(
            "no 'Digital Currency Address' feature types; not an SDN advanced XML",
            record=None,
            field="FeatureType",
        )


def _party(
    elem: ET.Element,
    feature_types: dict[str, str],
    col: LabelCollector,
    as_of: str | None,
    case_id: str | None,
    created_by: str | None,
) -> None:
    fixed = elem.get("FixedRef", "?")
    name = None
    for alias in elem.iter():
        if _local(alias.tag) == "Alias" and alias.get("Primary") == "true":
            parts = [
                (p.get("ScriptID"), (p.text or "").strip())
                for p in alias.iter()
                if _local(p.tag) == "NamePartValue" and p.text
            ]
            latin = [t for sid, t in parts if sid == _LATIN_SCRIPT_ID]
            name = " ".join(latin or [t for _sid, t in parts]) or None
            break
    for feat in elem.iter():
        if _local(feat.tag) != "Feature":
            continue
        ticker = feature_types.get(feat.get("FeatureTypeID", ""))
        if ticker is None:
            continue
        for detail in feat.iter():
            if _local(detail.tag) == "VersionDetail" and detail.text:
                _add(
                    col,
                    ticker,
                    detail.text,
                    f"DistinctParty {fixed} Feature {feat.get('ID')}",
                    name or f"SDN party {fixed}",
                    as_of,
                    f"sdn_fixed_ref={fixed}",
                    case_id,
                    created_by,
                )


def read_ofac(
    path: str | Path,
    *,
    asset: str | None = None,
    as_of: str | None = None,
    skip_invalid: bool = False,
    created_by: str | None = None,
    case_id: str | None = None,
) -> ImportResult:
    """Sanctioned-address labels from the SDN advanced XML (``.xml``/``.xml.bz2``), a per-asset
    list (``sanctioned_addresses_<TICKER>.txt``/``.json``; ``asset`` overrides the ticker taken
    from the name) or the ultrasoundmoney ``address,name`` CSV of Ethereum SDN addresses.
    """
    path = Path(path)
    col = LabelCollector(str(path), skip_invalid=skip_invalid)
    name = path.name.lower()
    if name.endswith((".xml", ".xml.bz2")):
        _read_xml(path, col, case_id, created_by, as_of)
        return col.finish()
    if name.endswith(".csv"):
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "address" not in reader.fieldnames:
                col.error("CSV header lacks 'address'", record=1, field="address")
                return col.finish()
            for row in reader:
                addr = row.get("address") or ""
                ticker = asset or ("ETH" if addr.strip().startswith("0x") else "?")
                _add(
                    col,
                    ticker,
                    addr,
                    reader.line_num,
                    (row.get("name") or "").strip() or "OFAC SDN",
                    as_of,
                    "",
                    case_id,
                    created_by,
                )
        return col.finish()
    m = _LIST_NAME.search(path.name)
    ticker = (asset or (m.group(1) if m else "")).upper()
    if not ticker:
        col.error(
            "cannot tell the asset: pass asset= or use sanctioned_addresses_<TICKER>.txt",
            record=None,
            field="asset",
        )
        return col.finish()
    entity = f"OFAC SDN ({ticker} list)"
    if name.endswith(".json"):
        items = col.read_json(path)
        if items is col.NOT_JSON:
            return col.finish()
        if not isinstance(items, list):
            col.error("expected a JSON array of address strings", record=None, field=None)
            return col.finish()
        for i, addr in enumerate(items):
            if not isinstance(addr, str):
                col.error("not a string", record=f"[{i}]", field="address")
                continue
            _add(col, ticker, addr, f"[{i}]", entity, as_of, "", case_id, created_by)
        return col.finish()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            _add(col, ticker, line.rstrip("\r\n"), lineno, entity, as_of, "", case_id, created_by)
    return col.finish()


def mark_delisted(
    previous: Iterable[Label], current: Iterable[Label], *, as_of: str
) -> list[Label]:
    """Labels of an older list whose address is absent from the newer one, marked not valid.

    OFAC delists (Tornado Cash, 2025): the old label must not keep stopping traces of new
    transactions, but must stay on record for what was known when older ones happened.
    """
    now = {(x.chain, x.address) for x in current}
    return [
        x.with_(
            valid=False,
            notes=(x.notes + "; " if x.notes else "") + f"delisted: absent "
            f"from the list of {as_of}",
        )
        for x in previous
        if (x.chain, x.address) not in now
    ]
