"""Bitcoin Core (or litecoind) blocks by height: ``getblock`` verbosity 3, else 2.

Verbosity 3 carries every input's prevout, so values and fees are known from the block alone.
Nodes before v23 answer at level 2; the collection loop then resolves inputs against the
range itself and the stored outputs (``resolve_input_values``), which is exact as long as the
funding blocks were collected first (collecting a range in order guarantees it inside the range).
"""

from __future__ import annotations

from fundtrace.chains.btc.core_rpc import parse_getblock
from fundtrace.chains.btc.network import MAINNET, Network
from fundtrace.clients.bitcoin import BitcoinRpc
from fundtrace.collection.fetched import FetchedRange, Header
from fundtrace.core.model import Batch, Chain


class BtcBlockFetcher:
    chain = Chain.BTC

    def __init__(self, rpc: BitcoinRpc, *, network: Network = MAINNET) -> None:
        self.rpc = rpc
        self.network = network

    @property
    def url(self) -> str:
        return self.rpc.url

    def close(self) -> None:
        self.rpc.close()

    def tip(self) -> int:
        return self.rpc.getblockcount()

    def block_hash(self, number: int) -> str | None:
        return self.rpc.getblockhash(number)

    def _blocks(self, hashes: list[str]) -> list[dict]:
        # The first getblock settles the verbosity the node supports; the rest go in one batch.
        first = self.rpc.getblock(hashes[0], 3)
        rest = self.rpc.rpc.batch([("getblock", [h, self.rpc.max_verbosity]) for h in hashes[1:]])
        return [first, *rest]

    def fetch(self, low: int, high: int) -> FetchedRange:
        heights = list(range(low, high + 1))
        hashes = self.rpc.rpc.batch([("getblockhash", [h]) for h in heights])
        batch = Batch(Chain.BTC)
        headers = []
        for height, raw in zip(heights, self._blocks(hashes), strict=True):
            part = parse_getblock(raw, network=self.network, source=self.url, record=height)
            (block,) = part.blocks
            headers.append(
                Header(
                    block.number,
                    block.hash,
                    block.parent_hash,
                    block.number - 1 if block.number > 0 else None,
                )
            )
            batch.extend(part)
        return FetchedRange(low, high, batch, headers)
