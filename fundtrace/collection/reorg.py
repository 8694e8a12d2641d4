"""Finding where the stored chain and the node's chain part ways.

A re-org replaces the top blocks of a chain. Every block stored above the last block both
sides agree on (the fork point) is stale, and so is everything derived from it: transactions
(which may or may not be re-included on the new branch), their outputs, inputs and transfers.
The fork point is found by comparing stored hashes with the node's, walking down from the
first mismatch; only stored blocks are compared, so Solana's skipped slots and sparse
address-first data are simply passed over.
"""

from __future__ import annotations

from fundtrace.collection.errors import CollectionError
from fundtrace.collection.fetched import BlockFetcher
from fundtrace.collection.store import CollectionStore

FINALITY_DEPTH = {"btc": 6, "eth": 64, "sol": 32}
"""Blocks (slots) below the tip after which a re-org is not expected; re-checked on resume."""

MAX_REORG_DEPTH = 1000
"""A deeper disagreement means the wrong node or network, not a re-org: stop and say so."""


def find_fork_point(
    fetcher: BlockFetcher,
    store: CollectionStore,
    below: int,
    *,
    max_depth: int = MAX_REORG_DEPTH,
) -> int:
    """The highest stored block number ``<= below`` whose hash the node still has.

    Returns ``lowest stored - 1`` when no stored block in the window matches but the window
    reaches below everything stored (the whole stored chain was replaced).
    """
    low = max(below - max_depth, 0)
    stored = store.stored_blocks_between(fetcher.chain, low, below)
    for number in sorted(stored, reverse=True):
        if fetcher.block_hash(number) == stored[number]:
            return number
    if not stored:
        return below
    if low > 0 and store.stored_blocks_between(fetcher.chain, 0, low - 1):
        raise CollectionError(
            f"{fetcher.chain} stored blocks {low}..{below} all differ from {fetcher.url}: "
            f"a re-org deeper than {max_depth} blocks means the wrong node or network"
        )
    return min(stored) - 1


def stale_above(fetcher: BlockFetcher, store: CollectionStore, low: int, high: int) -> int | None:
    """On resume: the fork point if any stored block in ``low..high`` changed, else None.

    Every stored block of the window is compared, not only the top one: blocks stored by other
    paths (file import, address-first) were never link-checked against their neighbours.
    """
    stored = store.stored_blocks_between(fetcher.chain, low, high)
    changed = [n for n in sorted(stored) if fetcher.block_hash(n) != stored[n]]
    if not changed:
        return None
    return find_fork_point(fetcher, store, changed[0] - 1)
