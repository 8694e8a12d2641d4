"""Bitcoin parse + normalize throughput on the shared fixtures replicated to N transactions.

Each format is timed from JSON text to canonical records (``json.loads`` included, with
``parse_float=Decimal`` for Core RPC), one JSON document per line as the importer reads them:

    .venv/bin/python bench/btc_parse_bench.py [--transactions 100000]

Prints one line per format and ``chain=btc records_per_s=X`` over all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundtrace.chains.btc.core_rpc import parse_getblock  # noqa: E402
from fundtrace.chains.btc.esplora import parse_esplora_tx  # noqa: E402
from fundtrace.chains.btc.etl import parse_etl_records  # noqa: E402

SHARED = Path(os.environ.get("FUNDTRACE_SHARED", REPO.parent / "shared"))
BTC = SHARED / "fixtures" / "btc"


def rpc_lines() -> tuple[list[str], int]:
    """The verbosity-3 block 279671 response as stored (JSON-RPC envelope included)."""
    text = (BTC / "rpc" / "ordhook" / "279671.json").read_text()
    return [text], len(json.loads(text, parse_float=Decimal)["result"]["tx"])


def esplora_lines() -> tuple[list[str], int]:
    lines = []
    for path in sorted((BTC / "esplora").glob("*/*.json")):
        data = json.loads(path.read_text())
        for tx in data if isinstance(data, list) else [data]:
            if isinstance(tx, dict) and "vin" in tx:
                lines.append(json.dumps(tx))
    return lines, len(lines)


def etl_lines() -> tuple[list[str], int]:
    lines = []
    for path in sorted((BTC / "etl" / "bitcoin-etl").glob("*/expected_*.json")):
        lines += [line for line in path.read_text().splitlines() if line.strip()]
    return lines, sum('"inputs"' in line for line in lines)


def replicate(lines: list[str], per_copy: int, target: int) -> tuple[list[str], int]:
    copies = max(1, -(-target // per_copy))
    return lines * copies, per_copy * copies


def run(name: str, lines: list[str], n_tx: int, parse: Callable[[list[str]], int]) -> float:
    start = time.perf_counter()
    parsed = parse(lines)
    elapsed = time.perf_counter() - start
    assert parsed == n_tx, (name, parsed, n_tx)
    rate = n_tx / elapsed
    print(f"format={name} transactions={n_tx} seconds={elapsed:.3f} records_per_s={rate:.0f}")
    return elapsed


def parse_rpc(lines: list[str]) -> int:
    return sum(
        len(parse_getblock(json.loads(line, parse_float=Decimal)).transactions) for line in lines
    )


def parse_esplora(lines: list[str]) -> int:
    return sum(1 for line in lines if parse_esplora_tx(json.loads(line)))


def parse_etl(lines: list[str]) -> int:
    return len(parse_etl_records(json.loads(line) for line in lines).transactions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000, help="per format")
    args = parser.parse_args()
    if not BTC.is_dir():
        sys.exit(f"fixtures not found at {BTC} (set FUNDTRACE_SHARED)")
    total_tx = 0
    total_s = 0.0
    for name, (lines, per_copy), parse in (
        ("rpc-getblock-v3", rpc_lines(), parse_rpc),
        ("esplora", esplora_lines(), parse_esplora),
        ("bitcoin-etl", etl_lines(), parse_etl),
    ):
        lines, n_tx = replicate(lines, per_copy, args.transactions)
        total_s += run(name, lines, n_tx, parse)
        total_tx += n_tx
    print(f"chain=btc records_per_s={total_tx / total_s:.0f}")


if __name__ == "__main__":
    main()
