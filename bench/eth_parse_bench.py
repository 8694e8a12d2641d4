"""Ethereum parse + normalize throughput: fundtrace vs the ethereum-etl mappers, same input.

Input: the recorded mainnet block 483,920 (4 transactions, 2 ERC-20 Transfer logs) with its four
receipts, replicated to --txs transactions with unique block numbers/hashes, as JSON lines of
bare RPC results (one block or receipt per line). Each side decodes the JSON its own way.

* fundtrace: ``rpc.parse_rpc_bytes`` on the file's bytes (typed decoding of blocks and
  receipts, then the same joiner) -> canonical Batch; this is what the importer runs.
* ethereum-etl (PyPI ``ethereum-etl``, installed in a separate venv given by --etl-python, never
  into the project's .venv): EthBlockMapper.json_dict_to_block (maps the transactions),
  EthReceiptMapper.json_dict_to_receipt (maps the logs) and
  EthTokenTransferExtractor.extract_transfer_from_log per log; no export to dicts/CSV.

Usage: .venv/bin/python bench/eth_parse_bench.py [--txs N] [--etl-python PATH] [--repeat R]
       [--impl auto|native|msgspec]  (auto: the C twin of rpc_bulk when built, as the importer;
       msgspec: the pure-Python bulk path alone; native: fail if the C twin is not built)
Prints ``chain=eth records_per_s=X`` (and the ethereum-etl figure when available): medians of R
runs of each side, by wall clock and by the process's CPU time. On a machine shared with other
work the CPU-time ratio is the steadier one (wall time there includes waiting for a core).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundtrace.chains.eth import rpc, rpc_bulk  # noqa: E402
from tests.paths import FIXTURES  # noqa: E402

RPC = FIXTURES / "eth" / "rpc"
BLOCK = "eth_getBlockByNumber_483920_full.json"
RECEIPTS = sorted(RPC.glob("eth_getTransactionReceipt_483920_tx*.json"))

ETL_SIDE = r"""
import json, sys, time
from ethereumetl.mappers.block_mapper import EthBlockMapper
from ethereumetl.mappers.receipt_mapper import EthReceiptMapper
from ethereumetl.service.token_transfer_extractor import EthTokenTransferExtractor
bm, rm, te = EthBlockMapper(), EthReceiptMapper(), EthTokenTransferExtractor()
lines = open(sys.argv[1]).read().splitlines()
t0, c0 = time.perf_counter(), time.process_time()
n_tx = n_tt = 0
for line in lines:
    obj = json.loads(line)
    if "transactions" in obj:
        b = bm.json_dict_to_block(obj)
        n_tx += len(b.transactions)
    else:
        r = rm.json_dict_to_receipt(obj)
        for log in r.logs:
            if te.extract_transfer_from_log(log) is not None:
                n_tt += 1
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": dt, "cpu": cpu, "records": len(lines), "txs": n_tx,
                  "token_transfers": n_tt}))
"""


def _result(path: Path) -> dict:
    return json.loads(path.read_text())["result"]


def build_input(n_txs: int, out: Path) -> int:
    """Write the replicated JSON lines; returns the number of records."""
    block = _result(RPC / BLOCK)
    receipts = [_result(p) for p in RECEIPTS]
    per_block = len(block["transactions"])
    copies = max(1, n_txs // per_block)
    records = 0
    with out.open("w") as fh:
        for k in range(copies):
            number = 10_000_000 + k
            bhash = "0x" + f"{k:064x}"
            b = dict(block, number=hex(number), hash=bhash)
            txs = []
            hashes = []
            for i, t in enumerate(block["transactions"]):
                h = "0x" + f"{k:056x}{i:08x}"
                hashes.append(h)
                txs.append(dict(t, hash=h, blockHash=bhash, blockNumber=hex(number)))
            b["transactions"] = txs
            fh.write(json.dumps(b) + "\n")
            for i, r in enumerate(receipts):
                logs = [
                    dict(lg, transactionHash=hashes[i], blockHash=bhash, blockNumber=hex(number))
                    for lg in r["logs"]
                ]
                rr = dict(
                    r,
                    transactionHash=hashes[i],
                    blockHash=bhash,
                    blockNumber=hex(number),
                    logs=logs,
                )
                fh.write(json.dumps(rr) + "\n")
            records += 1 + len(receipts)
    return records


def run_fundtrace(path: Path) -> dict:
    data = path.read_bytes()
    lines = data.splitlines()
    t0, c0 = time.perf_counter(), time.process_time()
    batch = rpc.parse_rpc_bytes(data)  # what the importer runs on a JSON-lines file
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    tokens = sum(1 for t in batch.transactions for x in t.transfers if x.kind == "token")
    return {
        "seconds": dt,
        "cpu": cpu,
        "records": len(lines),
        "txs": len(batch.transactions),
        "token_transfers": tokens,
    }


def _median(runs: list[dict]) -> dict:
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["cpu"] = statistics.median(r["cpu"] for r in runs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--txs", type=int, default=100_000)
    ap.add_argument("--etl-python", default="/tmp/etlvenv/bin/python")
    ap.add_argument("--repeat", type=int, default=3, help="runs per side; medians are shown")
    ap.add_argument("--impl", choices=["auto", "native", "msgspec"], default="auto")
    args = ap.parse_args()
    if args.impl == "msgspec":
        rpc_bulk._NATIVE = None
    elif args.impl == "native" and rpc_bulk._NATIVE is None:
        sys.exit(f"C twin not available: {rpc_bulk.NATIVE_STATUS}")
    print(f"bulk path: {'msgspec' if rpc_bulk._NATIVE is None else 'native'}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "eth_rpc.jsonl"
        n = build_input(args.txs, data)
        ours = _median([run_fundtrace(data) for _ in range(args.repeat)])
        rate = ours["records"] / ours["seconds"]
        print(
            f"chain=eth records_per_s={rate:.0f} txs_per_s={ours['txs'] / ours['seconds']:.0f} "
            f"records={n} txs={ours['txs']} token_transfers={ours['token_transfers']} "
            f"seconds={ours['seconds']:.2f} cpu_seconds={ours['cpu']:.2f}"
        )
        etl_py = Path(args.etl_python)
        if not etl_py.exists():
            print(f"ethereum-etl: skipped ({etl_py} not found; pip install ethereum-etl there)")
            return
        script = Path(tmp) / "etl_side.py"
        script.write_text(ETL_SIDE)
        runs = []
        for _ in range(args.repeat):
            proc = subprocess.run(
                [str(etl_py), str(script), str(data)], capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                print(f"ethereum-etl: failed: {proc.stderr.strip().splitlines()[-1:]}")
                return
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        theirs = _median(runs)
        their_rate = theirs["records"] / theirs["seconds"]
        print(
            f"chain=eth impl=ethereum-etl records_per_s={their_rate:.0f} txs={theirs['txs']} "
            f"token_transfers={theirs['token_transfers']} seconds={theirs['seconds']:.2f} "
            f"cpu_seconds={theirs['cpu']:.2f} ratio={rate / their_rate:.2f} "
            f"cpu_ratio={theirs['cpu'] / ours['cpu']:.2f}"
        )


if __name__ == "__main__":
    main()
