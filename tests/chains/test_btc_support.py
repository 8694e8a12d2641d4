"""Loaders for the shared Bitcoin fixtures (used by the other test_btc_* modules) and a check
that every file under fixtures/btc/ is covered by exactly one known format."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

BTC = FIXTURES / "btc"
RPC = BTC / "rpc"
ESPLORA = BTC / "esplora"
ETL = BTC / "etl" / "bitcoin-etl"
BLOCK_279671 = RPC / "ordhook" / "279671.json"
GRAPHSENSE_TX = (
    RPC / "graphsense-lib" / "ab188e2ae90a6e54dad6200f0d2ef188b723d2b393bbd01e65d753058afcba62.json"
)


@cache
def _text(path: Path) -> str:
    return path.read_text()


def load_json(path: Path) -> Any:
    """A fresh parse each call (tests mutate what parsers return); amounts as Decimal."""
    return json.loads(_text(path), parse_float=Decimal)


def load_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in _text(path).splitlines() if line.strip()]


def getblock_files() -> list[Path]:
    return [*sorted(RPC.glob("bitcoin-etl/*/rpc_response_getblock_*.json")), BLOCK_279671]


def getrawtransaction_files() -> list[Path]:
    found = sorted(RPC.glob("bitcoin-etl/*/rpc_response_getrawtransaction_*.json"))
    return [*found, GRAPHSENSE_TX]


def getblockhash_files() -> list[Path]:
    return sorted(RPC.glob("bitcoin-etl/*/rpc_response_getblockhash_*.json"))


def esplora_files() -> list[Path]:
    """Transaction responses (single objects or arrays); the address-stats file is not one."""
    return sorted(p for p in ESPLORA.glob("*/*.json") if p.name != "satoshi-genesis-address.json")


def etl_files() -> list[Path]:
    return sorted(ETL.glob("*/expected_*.json"))


ESPLORA_ADDRESS_STATS = ESPLORA / "am-i-exposed" / "satoshi-genesis-address.json"


def test_every_fixture_file_belongs_to_one_known_format() -> None:
    groups = [
        getblock_files(),
        getrawtransaction_files(),
        getblockhash_files(),
        esplora_files(),
        etl_files(),
        [ESPLORA_ADDRESS_STATS],
    ]
    listed = [p for g in groups for p in g]
    assert len(listed) == len(set(listed))
    on_disk = {p for p in BTC.rglob("*") if p.is_file() and p.name != "PROVENANCE.md"}
    assert set(listed) == on_disk
    assert len(on_disk) == 39
