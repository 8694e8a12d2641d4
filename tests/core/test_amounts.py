from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtrace.core.amounts import btc_to_sat, format_units, parse_int, to_base_units
from fundtrace.core.errors import ParseError
from fundtrace.core.model import UINT256_MAX


@given(st.integers(min_value=0, max_value=UINT256_MAX), st.integers(min_value=0, max_value=30))
def test_decimal_string_round_trips_through_base_units(amount: int, decimals: int) -> None:
    assert to_base_units(format_units(amount, decimals), decimals) == amount


@given(st.integers(min_value=0, max_value=21_000_000 * 10**8))
def test_btc_json_numbers_convert_to_exact_satoshi(sat: int) -> None:
    text = f"{sat // 10**8}.{sat % 10**8:08d}"
    assert btc_to_sat(Decimal(text)) == sat


@pytest.mark.parametrize("bad", ["-1", "0.000000001", 1.5, "1e400x", "NaN", True])
def test_bad_amounts_are_errors_that_name_the_value(bad: object) -> None:
    with pytest.raises(ParseError, match="amount"):
        to_base_units(bad, 8)  # type: ignore[arg-type]


def test_parse_int_reads_hex_quantities_and_rejects_garbage() -> None:
    assert parse_int("0x0", what="q") == 0
    assert parse_int("0x", what="q") == 0
    assert parse_int("0xde0b6b3a7640000", what="q") == 10**18
    assert parse_int("42", what="q") == 42
    with pytest.raises(ParseError, match="gas"):
        parse_int("0xZZ", what="gas")
