"""Solana blocks by slot: ``getBlock`` jsonParsed, with skipped slots recorded, not failed.

A leader that misses its slot leaves no block; the RPC says so with an error the client turns
into None. The slot is then listed in ``FetchedRange.skipped`` (and the checkpoint), so a
gap in stored slots is explained rather than suspicious. A block's parent is the previous
*produced* slot (``parentSlot``), which is what the re-org check compares against.
"""

from __future__ import annotations

from fundtrace.chains.sol.rpc import parse_block
from fundtrace.clients.solana import SolanaRpc
from fundtrace.collection.fetched import FetchedRange, Header
from fundtrace.core.model import Batch, Chain

SKIPPED_SLOT = "skipped_slot"


class SolBlockFetcher:
    chain = Chain.SOL

    def __init__(self, rpc: SolanaRpc) -> None:
        self.rpc = rpc

    @property
    def url(self) -> str:
        return self.rpc.url

    def close(self) -> None:
        self.rpc.close()

    def tip(self) -> int:
        return self.rpc.get_slot()

    def block_hash(self, number: int) -> str | None:
        block = self.rpc.get_block(number, transaction_details="none", rewards=False)
        return None if block is None else block.get("blockhash")

    def fetch(self, low: int, high: int) -> FetchedRange:
        batch = Batch(Chain.SOL)
        out = FetchedRange(low, high, batch)
        for slot in range(low, high + 1):
            raw = self.rpc.get_block(slot)
            if raw is None:
                out.skipped.append(slot)
                batch.skip(SKIPPED_SLOT)
                continue
            part = parse_block(raw, slot=slot, source=self.url)
            parent_slot = raw.get("parentSlot")
            (block,) = part.blocks
            out.headers.append(
                Header(
                    slot,
                    block.hash,
                    block.parent_hash,
                    parent_slot if isinstance(parent_slot, int) else None,
                )
            )
            batch.extend(part)
        return out
