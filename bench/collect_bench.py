"""Block-range collection throughput against a local anvil node (blocks/s and transfers/s).

Traffic: anvil with automine off; each block gets --txs-per-block transactions (two thirds ETH
payments between dev accounts, one third ERC-20 transfers of the test suite's token, compiled
with solc-js: ``npm install --prefix .tools solc@0.8.26``), mined with ``evm_mine``. Then the
range is collected twice with the real collector:

* fetch+parse: JSON-RPC batches for blocks, receipts (eth_getBlockReceipts) and traces
  (trace_block), assembled into canonical batches, stored nowhere (an in-memory store);
* end to end: the same, stored with checkpoints through ``DjangoCollectionStore`` in a fresh
  SQLite file (or the database named by DATABASE_URL, e.g. a tests.pg PostgreSQL).

Usage: .venv/bin/python bench/collect_bench.py [--blocks 300] [--txs-per-block 6]
Prints ``blocks_per_s=... transfers_per_s=...`` for each mode.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fundtrace.clients.ethereum import EthereumRpc  # noqa: E402
from fundtrace.clients.nodes import anvil  # noqa: E402
from fundtrace.collection.block_range import RangeCollector  # noqa: E402
from fundtrace.collection.blocks_eth import EthBlockFetcher  # noqa: E402
from fundtrace.collection.checkpoint import Checkpoint  # noqa: E402
from fundtrace.collection.store import RollbackCounts, StoredCounts  # noqa: E402


class MemoryStore:
    """A CollectionStore that keeps nothing: measures fetch + parse alone."""

    def __init__(self) -> None:
        self.checkpoints: dict = {}
        self.hashes: dict[int, str] = {}

    def stored_hashes(self, chain, numbers):
        return {n: self.hashes[n] for n in numbers if n in self.hashes}

    def stored_blocks_between(self, chain, low, high):
        return {n: h for n, h in self.hashes.items() if low <= n <= high}

    def lookup_outputs(self, chain, keys):
        return {}

    def store(self, batch, checkpoint: Checkpoint) -> StoredCounts:
        for b in batch.blocks:
            self.hashes[b.number] = b.hash
        self.checkpoints[(checkpoint.chain, checkpoint.job)] = checkpoint
        return StoredCounts(
            blocks=len(batch.blocks),
            transactions=len(batch.transactions),
            transfers=sum(len(t.transfers) for t in batch.transactions),
        )

    def rollback_above(self, chain, number):
        return RollbackCounts()

    def load_checkpoint(self, chain, job):
        return None

    def save_checkpoint(self, checkpoint):
        pass


def make_traffic(client: EthereumRpc, blocks: int, per_block: int) -> None:
    from eth_abi import encode
    from eth_utils import keccak

    call = client.rpc.call
    accounts = call("eth_accounts")
    a = accounts[0]
    from tests.collection.solc import compile_contracts, encode_args

    init = compile_contracts()["Token"] + encode_args(["uint256"], 10**30)
    call("evm_setAutomine", [True])
    deploy = call("eth_sendTransaction", [{"from": a, "data": init}])
    token = client.get_transaction_receipt(deploy)["contractAddress"]
    sel = "0x" + keccak(text="transfer(address,uint256)")[:4].hex()
    call("evm_setAutomine", [False])
    nonce = {x: int(call("eth_getTransactionCount", [x, "pending"]), 16) for x in accounts}
    for b in range(blocks):
        sends = []
        for i in range(per_block):
            to = accounts[(b + i + 1) % len(accounts)]
            if i % 3 == 2:
                data = sel + encode(["address", "uint256"], [to, 1000 + i]).hex()
                sender = a
                tx = {"to": token, "data": data, "gas": hex(100_000)}
            else:
                sender = accounts[(b + i) % len(accounts)]
                tx = {"to": to, "value": hex(10**15 + i), "gas": hex(21_000)}
            sends.append({"from": sender, "nonce": hex(nonce[sender]), **tx})
            nonce[sender] += 1
        client.rpc.batch([("eth_sendTransaction", [s]) for s in sends])
        call("evm_mine")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=300)
    ap.add_argument("--txs-per-block", type=int, default=6)
    ap.add_argument("--batch-blocks", type=int, default=10)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="fundtrace-collect-bench-")
    if not os.environ.get("DATABASE_URL"):
        os.environ["FUNDTRACE_SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from data_collection.collector import DjangoCollectionStore

    call_command("migrate", verbosity=0, interactive=False)
    with anvil() as node:
        client = EthereumRpc.from_url(node.url)
        t0 = time.perf_counter()
        make_traffic(client, args.blocks, args.txs_per_block)
        tip = client.block_number()
        print(f"traffic: {tip} blocks, {args.txs_per_block} txs/block in "
              f"{time.perf_counter() - t0:.1f}s")  # fmt: skip
        for mode, store in (("fetch+parse", MemoryStore()), ("end-to-end", None)):
            fetcher = EthBlockFetcher(EthereumRpc.from_url(node.url))
            st = store or DjangoCollectionStore(endpoint=node.url)
            s = RangeCollector(fetcher, st, start=1, end=tip, batch_blocks=args.batch_blocks).run()
            fetcher.close()
            print(
                f"{mode}: blocks={s.blocks} txs={s.stored.transactions} "
                f"transfers={s.stored.transfers} elapsed={s.elapsed:.2f}s "
                f"blocks_per_s={s.blocks / s.elapsed:.1f} "
                f"transfers_per_s={s.stored.transfers / s.elapsed:.0f}"
            )
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
