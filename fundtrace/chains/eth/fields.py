"""Field-level readers shared by every Ethereum source (RPC, ethereum-etl, Etherscan).

Every source spells the same facts differently (0x-hex quantities, decimal strings, JSON ints,
empty CSV cells); funnelling them through these few functions keeps canonical values identical
whichever source a transaction came from, and makes every bad value a ``ParseError`` that names
the field.
"""

from __future__ import annotations

import re

from fundtrace.core.errors import ParseError

ZERO_ADDRESS = "0x" + "0" * 40

_ADDRESS_RE = re.compile(r"0[xX][0-9a-fA-F]{40}")
_HASH_RE = re.compile(r"0[xX][0-9a-fA-F]{64}")
_HEX_RE = re.compile(r"0[xX][0-9a-fA-F]*")


def address(value: object, what: str) -> str:
    """A 20-byte address in the canonical lowercase 0x form."""
    if isinstance(value, str) and _ADDRESS_RE.fullmatch(value):
        return value.lower()
    raise ParseError(f"{what} {value!r} is not a 20-byte 0x address", field=what)


def opt_address(value: object, what: str) -> str | None:
    """Like ``address`` but None/empty mean "no address" (contract creation, CSV blank cell)."""
    if value is None or value == "":
        return None
    return address(value, what)


def tx_hash(value: object, what: str) -> str:
    if isinstance(value, str) and _HASH_RE.fullmatch(value):
        return value.lower()
    raise ParseError(f"{what} {value!r} is not a 32-byte 0x hash", field=what)


def opt_hash(value: object, what: str) -> str | None:
    if value is None or value == "":
        return None
    return tx_hash(value, what)


def quantity(value: object, what: str) -> int:
    """Non-negative integer from a 0x-hex RPC quantity, a decimal string or a JSON int."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ParseError(f"{what} {value!r} is negative", field=what)
        return value
    if isinstance(value, str):
        s = value.strip()
        try:
            if s[:2] in ("0x", "0X"):
                return int(s, 16) if len(s) > 2 else 0
            if s.isdigit():
                return int(s, 10)
        except ValueError:
            pass
    raise ParseError(f"{what} {value!r} is not a non-negative integer", field=what)


def opt_quantity(value: object, what: str) -> int | None:
    if value is None or value == "":
        return None
    return quantity(value, what)


def hex_data(value: object, what: str) -> str:
    """Byte string as lowercase 0x-hex with an even number of digits."""
    if isinstance(value, str) and _HEX_RE.fullmatch(value) and len(value) % 2 == 0:
        return value.lower()
    raise ParseError(f"{what} {value!r} is not 0x-hex bytes", field=what)


def status(value: object, what: str) -> int | None:
    """Receipt status: 1 success, 0 reverted, None before Byzantium (null or absent field)."""
    if value is None or value == "":
        return None
    v = quantity(value, what)
    if v not in (0, 1):
        raise ParseError(f"{what} {value!r} is neither 0 nor 1", field=what)
    return v


def require(obj: dict, key: str) -> object:
    """``obj[key]`` or a ParseError naming the missing field."""
    try:
        return obj[key]
    except KeyError:
        raise ParseError("missing field", field=key) from None
    except TypeError:
        raise ParseError(f"expected a JSON object, got {type(obj).__name__}", field=key) from None
