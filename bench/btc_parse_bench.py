"""Bitcoin parse + normalize throughput on the shared fixtures replicated to N transactions.

Each format is timed from JSON text to canonical records (``json.loads`` included, with
``parse_float=Decimal`` for Core RPC), one JSON document per line as the importer reads them.
Core RPC is timed three times: from the file's bytes through what ``fundtrace import --chain btc
--format rpc`` runs (``dispatch.parse_btc_rpc_bytes``: the native decoder where built), the same
with the native decoder switched off (the msgspec typed decoder), and through the generic dict
path (``json.loads`` + ``core_rpc.parse_getblock`` per line), for comparison:

    .venv/bin/python bench/btc_parse_bench.py [--transactions 100000] [--repeat 3]

Prints one line per format (the median of --repeat runs) and ``chain=btc records_per_s=X``
over the formats the importer runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundtrace.chains.btc import rpc_decode  # noqa: E402
from fundtrace.chains.btc.core_rpc import parse_getblock  # noqa: E402
from fundtrace.chains.btc.esplora import parse_esplora_tx  # noqa: E402
from fundtrace.chains.btc.etl import parse_etl_records  # noqa: E402
from fundtrace.ingest.dispatch import parse_btc_rpc_bytes  # noqa: E402

SHARED = Path(os.environ.get("FUNDTRACE_SHARED", REPO.parent / "shared"))
BTC = SHARED / "fixtures" / "btc"


def rpc_lines() -> tuple[list[str], int]:
    """The verbosity-3 block 279671 response as stored (JSON-RPC envelope included)."""
    text = (BTC / "rpc" / "ordhook" / "279671.json").read_text().replace("\n", " ")
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


def run(name: str, data: Any, n_tx: int, parse: Callable[[Any], int], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        parsed = parse(data)
        times.append(time.perf_counter() - start)
        assert parsed == n_tx, (name, parsed, n_tx)
    elapsed = statistics.median(times)
    rate = n_tx / elapsed
    print(f"format={name} transactions={n_tx} seconds={elapsed:.3f} records_per_s={rate:.0f}")
    return elapsed


def parse_rpc_bytes(data: bytes) -> int:
    return len(parse_btc_rpc_bytes(data).transactions)


def parse_rpc_bytes_msgspec(data: bytes) -> int:
    native, rpc_decode.native = rpc_decode.native, None
    try:
        return len(parse_btc_rpc_bytes(data).transactions)
    finally:
        rpc_decode.native = native


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
    parser.add_argument("--repeat", type=int, default=3, help="runs per format (median)")
    args = parser.parse_args()
    if not BTC.is_dir():
        sys.exit(f"fixtures not found at {BTC} (set FUNDTRACE_SHARED)")
    total_tx = 0
    total_s = 0.0
    as_lines = list
    as_bytes = lambda lines: "\n".join(lines).encode()  # noqa: E731  # the file's bytes
    for name, (lines, per_copy), prepare, parse in (
        ("rpc-getblock-v3", rpc_lines(), as_bytes, parse_rpc_bytes),
        ("rpc-getblock-v3-msgspec", rpc_lines(), as_bytes, parse_rpc_bytes_msgspec),
        ("rpc-getblock-v3-generic", rpc_lines(), as_lines, parse_rpc),
        ("esplora", esplora_lines(), as_lines, parse_esplora),
        ("bitcoin-etl", etl_lines(), as_lines, parse_etl),
    ):
        lines, n_tx = replicate(lines, per_copy, args.transactions)
        seconds = run(name, prepare(lines), n_tx, parse, args.repeat)
        if not name.endswith(("-generic", "-msgspec")):
            total_s += seconds
            total_tx += n_tx
    print(f"chain=btc records_per_s={total_tx / total_s:.0f}")
    print(f"native_decoder={'built' if rpc_decode.native is not None else 'not built'}")


if __name__ == "__main__":
    main()
