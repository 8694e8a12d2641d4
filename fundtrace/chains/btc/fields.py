"""Typed field access for untrusted JSON records, failing with a ``ParseError`` that says where.

An investigator who feeds a node dump or an export into the importer must be told which file,
which record and which field is wrong (``tx[3].vin[0].prevout.value``), not handed a
``KeyError``. Every adapter reads its input only through these helpers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fundtrace.core.amounts import btc_to_sat
from fundtrace.core.errors import ParseError

_HASH_RE = re.compile(r"[0-9a-fA-F]{64}")
_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})*")


FieldPath = str | tuple | None
"""A field location: a string, or nested (parent, key, ...) tuples rendered only on error, so
the hot path never formats a location string it will not need."""


def _atoms(field: FieldPath, out: list) -> None:
    if isinstance(field, tuple):
        for part in field:
            _atoms(part, out)
    elif field is not None and field != "":
        out.append(field)


def render(field: FieldPath) -> str | None:
    """Nested ("tx", 3), "vin", 0 tuples -> "tx[3].vin[0]"; strings pass through."""
    if field is None or isinstance(field, str):
        return field
    atoms: list = []
    _atoms(field, atoms)
    text = ""
    for atom in atoms:
        if isinstance(atom, int):
            text += f"[{atom}]"
        elif text and not atom.startswith("["):
            text += "." + atom
        else:
            text += atom
    return text or None


class Where:
    """The source and record an adapter is reading, to stamp on every error it raises."""

    __slots__ = ("record", "source")

    def __init__(self, source: str | None, record: int | str | None) -> None:
        self.source = source
        self.record = record

    def error(self, message: str, field: FieldPath) -> ParseError:
        return ParseError(message, source=self.source, record=self.record, field=render(field))


def join(path: FieldPath, key: str | int) -> FieldPath:
    return (path, key) if path else key if isinstance(key, str) else (key,)


def req(obj: dict, key: str, where: Where, path: FieldPath) -> Any:
    try:
        value = obj[key]
    except KeyError:
        raise where.error("required field is missing", join(path, key)) from None
    except TypeError:
        raise where.error(f"expected an object, got {type(obj).__name__}", path or None) from None
    if value is None:
        raise where.error("required field is null", join(path, key))
    return value


def req_dict(obj: dict, key: str, where: Where, path: FieldPath) -> dict:
    value = req(obj, key, where, path)
    if not isinstance(value, dict):
        raise where.error(f"expected an object, got {type(value).__name__}", join(path, key))
    return value


def req_list(obj: dict, key: str, where: Where, path: FieldPath) -> list:
    value = req(obj, key, where, path)
    if not isinstance(value, list):
        raise where.error(f"expected an array, got {type(value).__name__}", join(path, key))
    return value


def req_str(obj: dict, key: str, where: Where, path: FieldPath) -> str:
    value = req(obj, key, where, path)
    if not isinstance(value, str):
        raise where.error(f"expected a string, got {type(value).__name__}", join(path, key))
    return value


def as_int(value: Any, where: Where, field: FieldPath) -> int:
    """A JSON integer; decimal-digit strings too (BigQuery exports INT64/NUMERIC as strings)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise where.error(f"expected an integer, got {value!r}", field)


def req_int(obj: dict, key: str, where: Where, path: FieldPath) -> int:
    return as_int(req(obj, key, where, path), where, join(path, key))


def opt_int(obj: dict, key: str, where: Where, path: FieldPath) -> int | None:
    value = obj.get(key)
    return None if value is None else as_int(value, where, join(path, key))


def as_sat(value: Any, where: Where, field: FieldPath) -> int:
    """An amount already in satoshi (Esplora, bitcoin-etl): a non-negative integer."""
    sat = as_int(value, where, field)
    if sat < 0:
        raise where.error(f"negative amount {sat}", field)
    return sat


def as_btc_sat(value: Any, where: Where, field: FieldPath) -> int:
    """A Bitcoin Core amount in BTC (Decimal from ``parse_float=Decimal``) -> exact satoshi."""
    try:
        sat = btc_to_sat(value, what=field)
    except ParseError as exc:
        raise where.error(exc.message, field) from None
    if sat < 0:
        raise where.error(f"negative amount {value}", field)
    return sat


def as_hash(value: Any, where: Where, field: FieldPath) -> str:
    """A 32-byte hash in hex (txid, block hash), normalized to lowercase."""
    if not isinstance(value, str) or not _HASH_RE.fullmatch(value):
        raise where.error(f"expected a 64-digit hex hash, got {value!r}", field)
    return value.lower()


def req_hash(obj: dict, key: str, where: Where, path: FieldPath) -> str:
    return as_hash(req(obj, key, where, path), where, join(path, key))


def opt_hash(obj: dict, key: str, where: Where, path: FieldPath) -> str | None:
    value = obj.get(key)
    return None if value is None else as_hash(value, where, join(path, key))


def as_hex(value: Any, where: Where, field: FieldPath) -> str:
    """A script in hex (possibly empty), normalized to lowercase."""
    if not isinstance(value, str) or not _HEX_RE.fullmatch(value):
        raise where.error(f"expected hex bytes, got {value!r}", field)
    return value.lower()


def as_bool(value: Any, where: Where, field: FieldPath) -> bool:
    if isinstance(value, bool):
        return value
    raise where.error(f"expected true or false, got {value!r}", field)


def as_timestamp(value: Any, where: Where, field: FieldPath) -> int:
    """Unix seconds, from an integer or a BigQuery-style "2009-01-03 18:15:05 UTC" string."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        text = value.strip().removesuffix(" UTC").replace("T", " ").removesuffix("Z")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise where.error(
                f"expected unix seconds or a timestamp, got {value!r}", field
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return as_int(value, where, field)
