"""Exact conversions between decimal strings and integer base units (never float)."""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

from fundtrace.core.errors import ParseError

# Wide enough for any uint256 with 18+ decimals, so nothing is rounded before the exactness check.
_EXACT = Context(prec=200)


def to_base_units(value: str | int | Decimal, decimals: int, *, what: str = "amount") -> int:
    """'1.5' with 8 decimals -> 150000000; floats, negatives and fractions of a unit are errors."""
    if isinstance(value, float):
        raise ParseError(f"{what} is a float ({value!r}); parse JSON with parse_float=Decimal")
    if isinstance(value, bool):
        raise ParseError(f"{what} is a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ParseError(f"{what} {value!r} is negative")
        return value * 10**decimals
    try:
        d = _EXACT.create_decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ParseError(f"{what} {value!r} is not a decimal number") from exc
    if not d.is_finite():
        raise ParseError(f"{what} {value!r} is not finite")
    if d < 0:
        raise ParseError(f"{what} {value!r} is negative")
    scaled = d.scaleb(decimals, _EXACT)
    if scaled != scaled.to_integral_value():
        raise ParseError(f"{what} {value!r} has more than {decimals} decimals")
    return int(scaled)


def btc_to_sat(value: str | int | Decimal, *, what: str = "value") -> int:
    return to_base_units(value, 8, what=what)


def format_units(amount: int, decimals: int | None) -> str:
    """150000000, 8 -> '1.5' for display; base units stay the canonical form."""
    if decimals is None or decimals == 0:
        return str(amount)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    frac_s = str(frac).rjust(decimals, "0").rstrip("0")
    return f"{sign}{whole}.{frac_s}" if frac_s else f"{sign}{whole}"


def parse_int(value: object, *, what: str) -> int:
    """Integers from JSON numbers, decimal strings or 0x-hex strings (Ethereum RPC quantities)."""
    if isinstance(value, bool):
        raise ParseError(f"{what} is a boolean", field=what)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        s = value.strip()
        try:
            if s.lower().startswith("0x"):
                return int(s, 16) if len(s) > 2 else 0
            return int(s, 10)
        except ValueError:
            pass
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    raise ParseError(f"{what} {value!r} is not an integer", field=what)
