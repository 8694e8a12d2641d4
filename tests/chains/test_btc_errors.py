"""Malformed records fail with a ParseError naming source, record and field; amounts are exact."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtrace.chains.btc.core_rpc import parse_getblock, parse_getrawtransaction
from fundtrace.chains.btc.esplora import parse_esplora_tx
from fundtrace.chains.btc.etl import parse_etl_records
from fundtrace.core.errors import ParseError
from tests.chains.test_btc_support import (
    BLOCK_279671,
    ESPLORA,
    ETL,
    GRAPHSENSE_TX,
    load_json,
    load_lines,
)
from tests.paths import needs_shared

pytestmark = needs_shared

MAX_SAT = 21_000_000 * 100_000_000


def _break(obj: dict, path: list, value: object) -> None:
    for key in path[:-1]:
        obj = obj[key]
    if value is KeyError:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (["result", "tx", 5, "txid"], KeyError, "tx[5].txid", "missing"),
        (["result", "tx", 5, "txid"], "xyz", "tx[5].txid", "64-digit hex"),
        (["result", "tx", 5, "vin", 0, "vout"], "0", None, None),  # digit strings are fine
        (["result", "tx", 5, "vin", 0, "vout"], True, "tx[5].vin[0].vout", "integer"),
        (
            ["result", "tx", 5, "vin", 0, "prevout", "value"],
            Decimal("-1"),
            "tx[5].vin[0].prevout.value",
            "negative",
        ),
        (
            ["result", "tx", 5, "vin", 0, "prevout", "value"],
            Decimal("0.000000001"),
            "tx[5].vin[0].prevout.value",
            "decimals",
        ),
        (
            ["result", "tx", 5, "vout", 1, "scriptPubKey", "hex"],
            "abc",
            "tx[5].vout[1].scriptPubKey.hex",
            "hex",
        ),
        (
            ["result", "tx", 5, "vout", 1, "scriptPubKey"],
            KeyError,
            "tx[5].vout[1].scriptPubKey",
            "missing",
        ),
        (["result", "tx", 5, "vout", 1, "n"], 7, "tx[5].vout[1].n", "n=7"),
        (["result", "tx", 5, "vout"], {}, "tx[5].vout", "array"),
        (["result", "tx", 5, "fee"], Decimal("0.5"), "tx[5].fee", "stated fee"),
        (["result", "height"], None, "height", "null"),
        (["result", "nTx"], 3, "nTx", "nTx is 3"),
    ],
)
def test_malformed_getblock(
    path: list, value: object, field: str | None, message: str | None
) -> None:
    data = load_json(BLOCK_279671)
    _break(data, path, value)
    if field is None:
        parse_getblock(data)
        return
    with pytest.raises(ParseError) as err:
        parse_getblock(data, source="279671.json", record=1)
    assert (err.value.source, err.value.record, err.value.field) == ("279671.json", 1, field)
    assert message in err.value.message
    assert "279671.json" in str(err.value) and repr(field) in str(err.value)


def test_outputs_exceeding_inputs_is_an_error() -> None:
    data = load_json(BLOCK_279671)
    tx = data["result"]["tx"][5]
    tx.pop("fee")
    tx["vout"][0]["value"] += Decimal("100")
    with pytest.raises(ParseError, match="outputs exceed inputs"):
        parse_getblock(data)


def test_two_coinbases_are_an_error() -> None:
    data = load_json(BLOCK_279671)
    data["result"]["tx"][3]["vin"] = data["result"]["tx"][0]["vin"]
    with pytest.raises(ParseError, match="only the first transaction is a coinbase"):
        parse_getblock(data)


def test_malformed_esplora_and_etl() -> None:
    data = load_json(ESPLORA / "am-i-exposed" / "bare-multisig.json")
    data["vout"][1]["value"] = "lots"
    with pytest.raises(ParseError) as err:
        parse_esplora_tx(data, source="bm.json")
    assert err.value.field == "vout[1].value"
    data = load_json(ESPLORA / "am-i-exposed" / "bare-multisig.json")
    data["status"]["confirmed"] = "yes"
    with pytest.raises(ParseError) as err:
        parse_esplora_tx(data)
    assert err.value.field == "status.confirmed"
    lines = load_lines(ETL / "stream_50001_50002" / "expected_transactions.json")
    lines[2]["outputs"][0]["value"] = -5
    with pytest.raises(ParseError) as err:
        parse_etl_records(lines, source="tx.json")
    assert (err.value.record, err.value.field) == (3, "outputs[0].value")
    lines = load_lines(ETL / "stream_50001_50002" / "expected_transactions.json")
    lines[1]["is_coinbase"] = True
    with pytest.raises(ParseError, match=r"coinbase .* spends"):
        parse_etl_records(lines)


def test_not_an_object() -> None:
    with pytest.raises(ParseError):
        parse_getblock([1, 2, 3])
    with pytest.raises(ParseError):
        parse_getrawtransaction("00ff")


@given(st.integers(0, MAX_SAT))
def test_btc_decimal_strings_convert_to_satoshi_exactly(sat: int) -> None:
    """Core writes amounts with 8 decimals; through JSON + Decimal they come back exact."""
    whole, frac = divmod(sat, 100_000_000)
    for text in (f"{whole}.{frac:08d}", str(Decimal(sat).scaleb(-8).normalize())):
        if "E" in text:  # Core never writes exponents; normalize() may, for round numbers
            continue
        data = load_json(GRAPHSENSE_TX)
        data["vout"][2]["value"] = json.loads(text, parse_float=Decimal)
        assert parse_getrawtransaction(data).outputs[2].value == sat


@given(st.integers(0, MAX_SAT), st.integers(0, MAX_SAT))
def test_amounts_that_float_would_get_wrong_stay_exact(a: int, b: int) -> None:
    """Summing parsed outputs equals summing the integers: no rounding anywhere."""
    data = load_json(GRAPHSENSE_TX)
    data["vout"][1]["value"] = json.loads(f"{a // 10**8}.{a % 10**8:08d}", parse_float=Decimal)
    data["vout"][3]["value"] = json.loads(f"{b // 10**8}.{b % 10**8:08d}", parse_float=Decimal)
    tx = parse_getrawtransaction(data)
    assert tx.outputs[1].value + tx.outputs[3].value == a + b
    assert tx.output_total() == a + b + 5_248_496
