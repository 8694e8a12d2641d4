"""Ethereum blocks by number: full block + receipts + call traces, joined by ``assemble``.

Receipts give status, fee and token logs; traces give internal ETH transfers. Which methods the
node has (``eth_getBlockReceipts``/``trace_block`` or their fallbacks) is settled by the client
on the first block; later blocks of a range then go out as one JSON-RPC batch per kind, which
is what makes a range fast on a local node. Token metadata (symbol, decimals) is read once per
token and run, at the range's last block.
"""

from __future__ import annotations

from typing import Any

from fundtrace.chains.eth.erc20 import decode_token_metadata
from fundtrace.chains.eth.rpc import assemble
from fundtrace.clients.errors import RpcError
from fundtrace.clients.ethereum import EthereumRpc, block_tag
from fundtrace.collection.errors import CollectionError
from fundtrace.collection.fetched import FetchedRange, Header
from fundtrace.core.model import NATIVE, Asset, Batch, Chain, TransferKind


class EthBlockFetcher:
    chain = Chain.ETH

    def __init__(self, rpc: EthereumRpc, *, token_metadata: bool = True) -> None:
        self.rpc = rpc
        self.token_metadata = token_metadata
        self._known_tokens: set[str] = set()
        self._native_sent = False

    @property
    def url(self) -> str:
        return self.rpc.url

    def close(self) -> None:
        self.rpc.close()

    def tip(self) -> int:
        return self.rpc.block_number()

    def block_hash(self, number: int) -> str | None:
        block = self.rpc.get_block(number, full=False)
        return None if block is None else block["hash"]

    def _receipts(self, numbers: list[int], blocks: list[dict]) -> list[Any]:
        hashes = [[t["hash"] for t in b["transactions"]] for b in blocks]
        out: list[Any] = []
        start = 0
        if self.rpc.block_receipts_supported is None:
            out.append(self.rpc.get_block_receipts(numbers[0], hashes[0]))
            start = 1
        if self.rpc.block_receipts_supported:
            calls = [("eth_getBlockReceipts", [block_tag(n)]) for n in numbers[start:]]
            got = self.rpc.rpc.batch(calls)
            for n, r in zip(numbers[start:], got, strict=True):
                if r is None:
                    raise CollectionError(f"{self.url}: node has no receipts for block {n}")
            return out + got
        for n, hs in zip(numbers[start:], hashes[start:], strict=True):
            out.append(self.rpc.get_block_receipts(n, hs))
        return out

    def _traces(self, numbers: list[int]) -> list[Any]:
        out: list[Any] = []
        start = 0
        if self.rpc.trace_block_supported is None:
            out.append(self.rpc.trace_block(numbers[0]).traces)
            start = 1
        rest = numbers[start:]
        if self.rpc.trace_block_supported:
            calls = [("trace_block", [block_tag(n)]) for n in rest]
        else:
            opts = {"tracer": "callTracer"}
            calls = [("debug_traceBlockByNumber", [block_tag(n), opts]) for n in rest]
        return out + [t or [] for t in self.rpc.rpc.batch(calls)]

    def _assets(self, batch: Batch, at_block: int) -> list[Asset]:
        tokens = sorted(
            {t.asset for tx in batch.transactions for t in tx.transfers if t.asset != NATIVE}
            - self._known_tokens
        )
        assets = []
        if not self._native_sent:
            assets.append(Asset.native(Chain.ETH))
            self._native_sent = True
        for token in tokens:
            self._known_tokens.add(token)
            if not self.token_metadata:
                continue
            try:
                raw = self.rpc.erc20_metadata(token, at_block)
            except RpcError:
                continue  # metadata is advisory; the transfers are what matter
            assets.append(decode_token_metadata(token, **raw))
        return assets

    def fetch(self, low: int, high: int) -> FetchedRange:
        numbers = list(range(low, high + 1))
        blocks = self.rpc.rpc.batch(
            [("eth_getBlockByNumber", [block_tag(n), True]) for n in numbers]
        )
        for n, b in zip(numbers, blocks, strict=True):
            if b is None:
                raise CollectionError(f"{self.url}: node has no block {n}")
        batch = assemble(
            blocks, self._receipts(numbers, blocks), self._traces(numbers), source=self.url
        )
        batch.assets.extend(self._assets(batch, high))
        headers = [
            Header(b.number, b.hash, b.parent_hash, b.number - 1 if b.number > 0 else None)
            for b in sorted(batch.blocks, key=lambda b: b.number)
        ]
        return FetchedRange(low, high, batch, headers)


def token_transfers(batch: Batch) -> int:
    return sum(1 for tx in batch.transactions for t in tx.transfers if t.kind is TransferKind.TOKEN)
