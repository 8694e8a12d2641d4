"""A document nested deeper than the JSON readers recurse is reported as bad input naming the
file, on every import format, instead of crashing the importer with ``RecursionError``."""

from __future__ import annotations

import pytest

from fundtrace.core.errors import ParseError
from fundtrace.core.model import Chain
from fundtrace.ingest.dispatch import parse_inputs

DEEP = b"[" * 200_000 + b"]" * 200_000

FORMATS = [
    (Chain.BTC, "rpc"),
    (Chain.BTC, "esplora"),
    (Chain.BTC, "bitcoin-etl"),
    (Chain.ETH, "rpc"),
    (Chain.ETH, "etherscan"),
    (Chain.SOL, "rpc"),
]


@pytest.mark.parametrize(("chain", "fmt"), FORMATS)
def test_deeply_nested_json_is_a_parse_error_naming_the_file(tmp_path, chain, fmt) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(DEEP)
    with pytest.raises(ParseError, match="nested too deeply") as err:
        list(parse_inputs(chain, fmt, [path]))
    assert str(path) in str(err.value)
