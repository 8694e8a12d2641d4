"""Ingest throughput: parse + normalize per chain vs the public etl mappers, and PostgreSQL load.

Same run, same input bytes, each side timed from the JSON text to its mapped records:

* Ethereum: the recorded blocks 483,920 (Parity, 4 txs, 2 ERC-20 Transfer logs) and
  1,755,634-5 (geth, 2 txs) with all their receipts, replicated with unique numbers and hashes
  to --txs transactions, as JSON lines of bare RPC results (one block or receipt per line).
  fundtrace: ``rpc.parse_rpc_bytes`` (what ``fundtrace import --format rpc`` runs) -> canonical
  Batch. ethereum-etl: ``json.loads`` per line, ``EthBlockMapper.json_dict_to_block``,
  ``EthReceiptMapper.json_dict_to_receipt`` and ``EthTokenTransferExtractor`` per log.
* Bitcoin: the verbosity-3 ``getblock`` response of block 279,671 (Core JSON-RPC), replicated
  with unique txids.
  fundtrace: ``dispatch.parse_btc_rpc_bytes`` (the importer's path) on the file's bytes;
  bitcoin-etl: ``json.loads(line, parse_float=Decimal)`` + ``BtcBlockMapper.json_dict_to_block``.
* Load: the parsed batches stored with ``data_collection.storage.store_batches`` into a
  throw-away PostgreSQL server (tests/pg.py), in batches of --load-batch transactions;
  rows = blocks + transactions + outputs + inputs + transfers written.

The etl packages pin old dependencies, so they live in their own interpreter (--etl-python,
e.g. a venv with ``pip install ethereum-etl bitcoin-etl``), run by subprocess on the same file.

    .venv/bin/python bench/ingest_bench.py [--txs 100000] [--etl-python /tmp/etlvenv/bin/python]
        [--no-load]

Ends with ``chain=C parse_records_per_s=X vs_etl=R`` per chain (a record is one transaction
mapped to its canonical form; vs_etl is the ratio of the two sides' rates) and
``load_rows_per_s=Y``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundtrace.chains.eth import rpc  # noqa: E402
from fundtrace.core.model import Batch  # noqa: E402
from fundtrace.ingest.dispatch import parse_btc_rpc_bytes  # noqa: E402
from tests.paths import FIXTURES  # noqa: E402

ETH_RPC = FIXTURES / "eth" / "rpc"
BTC_BLOCK = FIXTURES / "btc" / "rpc" / "ordhook" / "279671.json"

ETL_SIDE = r"""
import json, sys, time
from decimal import Decimal
chain, path = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
if chain == "eth":
    from ethereumetl.mappers.block_mapper import EthBlockMapper
    from ethereumetl.mappers.receipt_mapper import EthReceiptMapper
    from ethereumetl.service.token_transfer_extractor import EthTokenTransferExtractor
    bm, rm, te = EthBlockMapper(), EthReceiptMapper(), EthTokenTransferExtractor()
    t0 = time.perf_counter()
    n_tx = 0
    for line in lines:
        obj = json.loads(line)
        if "transactions" in obj:
            n_tx += len(bm.json_dict_to_block(obj).transactions)
        else:
            for log in rm.json_dict_to_receipt(obj).logs:
                te.extract_transfer_from_log(log)
    dt = time.perf_counter() - t0
else:
    from bitcoinetl.mappers.block_mapper import BtcBlockMapper
    bm = BtcBlockMapper()
    t0 = time.perf_counter()
    n_tx = 0
    for line in lines:
        obj = json.loads(line, parse_float=Decimal)
        n_tx += len(bm.json_dict_to_block(obj["result"]).transactions)
    dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "records": len(lines), "txs": n_tx}))
"""


def _result(path: Path) -> dict:
    return json.loads(path.read_text())["result"]


def build_eth(n_txs: int, out: Path) -> int:
    """Replicated JSON lines of blocks and receipts; returns the number of lines (records)."""
    groups = []
    for n in (483920, 1755634, 1755635):
        block = _result(ETH_RPC / f"eth_getBlockByNumber_{n}_full.json")
        receipts = [_result(p) for p in sorted(ETH_RPC.glob(f"eth_getTransactionReceipt_{n}_*"))]
        assert len(receipts) == len(block["transactions"]), n
        groups.append((block, receipts))
    per_round = sum(len(b["transactions"]) for b, _ in groups)
    rounds = max(1, -(-n_txs // per_round))
    lines = 0
    with out.open("w") as fh:
        for k in range(rounds):
            for g, (block, receipts) in enumerate(groups):
                number = 20_000_000 + k * len(groups) + g
                bhash = "0x" + f"{number:064x}"
                hashes = ["0x" + f"{number:056x}{i:08x}" for i in range(len(receipts))]
                txs = [
                    dict(t, hash=h, blockHash=bhash, blockNumber=hex(number))
                    for t, h in zip(block["transactions"], hashes, strict=True)
                ]
                fh.write(json.dumps(dict(block, number=hex(number), hash=bhash, transactions=txs)))
                fh.write("\n")
                for r, h in zip(receipts, hashes, strict=True):
                    logs = [
                        dict(lg, transactionHash=h, blockHash=bhash, blockNumber=hex(number))
                        for lg in r["logs"]
                    ]
                    rr = dict(
                        r, transactionHash=h, blockHash=bhash, blockNumber=hex(number), logs=logs
                    )
                    fh.write(json.dumps(rr) + "\n")
                lines += 1 + len(receipts)
    return lines


def build_btc(n_txs: int, out: Path) -> int:
    """Replicated getblock v3 responses with unique block hashes and txids (text rewrite, so
    amounts keep their exact JSON spelling); returns the number of lines (blocks)."""
    text = BTC_BLOCK.read_text().replace("\n", " ")
    res = json.loads(text, parse_float=Decimal)["result"]
    ids = {t["txid"] for t in res["tx"]} | {t["hash"] for t in res["tx"]} | {res["hash"]}
    # outputs spent from earlier blocks too: each copy must spend its own (one spend per output)
    ids |= {i["txid"] for t in res["tx"] for i in t["vin"] if "txid" in i}
    hex64 = re.compile(r"[0-9a-f]{64}")
    rounds = max(1, -(-n_txs // len(res["tx"])))
    with out.open("w") as fh:
        for k in range(rounds):
            # a fixed-width prefix swap keeps every id 64 hex digits and unique per copy;
            # spends inside the block follow, since every occurrence is rewritten
            prefix = f"{k:08x}"
            copy = hex64.sub(
                lambda m, p=prefix: p + m.group()[8:] if m.group() in ids else m.group(), text
            )
            copy = copy.replace(f'"height": {res["height"]}', f'"height": {1_000_000 + k}', 1)
            fh.write(copy + "\n")
    return rounds


def parse_eth(path: Path) -> tuple[float, Batch]:
    data = path.read_bytes()
    t0 = time.perf_counter()
    batch = rpc.parse_rpc_bytes(data)
    return time.perf_counter() - t0, batch


def parse_btc(path: Path) -> tuple[float, Batch]:
    """What ``fundtrace import --chain btc --format rpc FILE`` runs, timed from the bytes."""
    data = path.read_bytes()
    t0 = time.perf_counter()
    batch = parse_btc_rpc_bytes(data, source=str(path))
    return time.perf_counter() - t0, batch


def run_etl(etl_python: str, chain: str, path: Path, tmp: Path) -> dict | str:
    exe = Path(etl_python)
    if not exe.exists():
        return f"not measured ({exe} not found)"
    script = tmp / "etl_side.py"
    script.write_text(ETL_SIDE)
    proc = subprocess.run(
        [str(exe), str(script), chain, str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"not measured ({last})"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load(batches: list[Batch], per_batch: int, *, pipelined: bool = True) -> tuple[int, float]:
    """Rows written and seconds, storing into a throw-away PostgreSQL (migrations excluded).

    ``pipelined`` stores with ``storage.store_batches`` (the next batch is encoded while the
    database writes the current one); otherwise ``store_batch`` is called once per batch."""
    from tests.pg import throwaway_postgres

    with throwaway_postgres() as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from django.db import connection

        from data_collection.storage import split_batch, store_batch, store_batches

        assert connection.vendor == "postgresql"
        chunks = [part for batch in batches for part in split_batch(batch, per_batch)]
        t0 = time.perf_counter()
        if pipelined:
            rows = store_batches(chunks).rows
        else:
            rows = sum(store_batch(part).rows for part in chunks)
        seconds = time.perf_counter() - t0
        connection.close()
    return rows, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--txs", type=int, default=100_000, help="transactions per chain")
    ap.add_argument("--etl-python", default="/tmp/etlvenv/bin/python")
    ap.add_argument("--load-batch", type=int, default=20_000, help="transactions per store_batch")
    ap.add_argument("--no-load", action="store_true", help="skip the PostgreSQL load")
    ap.add_argument(
        "--load-sequential",
        action="store_true",
        help="store_batch per batch instead of the pipelined store_batches",
    )
    args = ap.parse_args()
    summary = []
    batches = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for chain, build, parse in (("eth", build_eth, parse_eth), ("btc", build_btc, parse_btc)):
            path = tmp / f"{chain}.jsonl"
            records = build(args.txs, path)
            seconds, batch = parse(path)
            batches.append(batch)
            n_tx = len(batch.transactions)
            rate = n_tx / seconds  # a record = one canonical transaction, on both sides
            print(
                f"impl=fundtrace chain={chain} lines={records} txs={n_tx} "
                f"seconds={seconds:.3f} txs_per_s={rate:.0f}"
            )
            theirs = run_etl(args.etl_python, chain, path, tmp)
            if isinstance(theirs, str):
                print(f"impl={chain}-etl chain={chain} {theirs}")
                summary.append(f"chain={chain} parse_records_per_s={rate:.0f} vs_etl=not measured")
                continue
            their_rate = theirs["txs"] / theirs["seconds"]
            assert theirs["txs"] == n_tx, (chain, theirs["txs"], n_tx)
            print(
                f"impl={'ethereum' if chain == 'eth' else 'bitcoin'}-etl chain={chain} "
                f"lines={theirs['records']} txs={theirs['txs']} seconds={theirs['seconds']:.3f} "
                f"txs_per_s={their_rate:.0f}"
            )
            summary.append(
                f"chain={chain} parse_records_per_s={rate:.0f} vs_etl={rate / their_rate:.2f}"
            )
    if not args.no_load:
        rows, seconds = load(batches, args.load_batch, pipelined=not args.load_sequential)
        how = "store_batch" if args.load_sequential else "store_batches"
        print(f"load rows={rows} seconds={seconds:.2f} (PostgreSQL, {how})")
        summary.append(f"load_rows_per_s={rows / seconds:.0f}")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
