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

Usage: .venv/bin/python bench/eth_parse_bench.py [--txs N] [--etl-python PATH]
Prints ``chain=eth records_per_s=X`` (and the ethereum-etl figure when available).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundtrace.chains.eth import rpc  # noqa: E402
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
t0 = time.perf_counter()
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
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "records": len(lines), "txs": n_tx, "token_transfers": n_tt}))
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
    t0 = time.perf_counter()
    batch = rpc.parse_rpc_bytes(data)  # what the importer runs on a JSON-lines file
    dt = time.perf_counter() - t0
    tokens = sum(1 for t in batch.transactions for x in t.transfers if x.kind == "token")
    return {
        "seconds": dt,
        "records": len(lines),
        "txs": len(batch.transactions),
        "token_transfers": tokens,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--txs", type=int, default=100_000)
    ap.add_argument("--etl-python", default="/tmp/etlvenv/bin/python")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "eth_rpc.jsonl"
        n = build_input(args.txs, data)
        ours = run_fundtrace(data)
        rate = ours["records"] / ours["seconds"]
        print(
            f"chain=eth records_per_s={rate:.0f} txs_per_s={ours['txs'] / ours['seconds']:.0f} "
            f"records={n} txs={ours['txs']} token_transfers={ours['token_transfers']} "
            f"seconds={ours['seconds']:.2f}"
        )
        etl_py = Path(args.etl_python)
        if not etl_py.exists():
            print(f"ethereum-etl: skipped ({etl_py} not found; pip install ethereum-etl there)")
            return
        script = Path(tmp) / "etl_side.py"
        script.write_text(ETL_SIDE)
        proc = subprocess.run(
            [str(etl_py), str(script), str(data)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"ethereum-etl: failed: {proc.stderr.strip().splitlines()[-1:]}")
            return
        theirs = json.loads(proc.stdout.strip().splitlines()[-1])
        their_rate = theirs["records"] / theirs["seconds"]
        print(
            f"chain=eth impl=ethereum-etl records_per_s={their_rate:.0f} txs={theirs['txs']} "
            f"token_transfers={theirs['token_transfers']} seconds={theirs['seconds']:.2f} "
            f"ratio={rate / their_rate:.2f}"
        )


if __name__ == "__main__":
    main()
