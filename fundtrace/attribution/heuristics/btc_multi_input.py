"""Common-input ownership: whoever signs all inputs of a transaction controls all of them.

Bitcoin's strongest clustering heuristic (Nakamoto 2008, Meiklejohn et al. 2013), false for
CoinJoins (skipped, see ``btc_coinjoin``) and for PayJoin (undetectable). Inputs whose address is
unknown (bare multisig, P2PK without address) cannot be linked and are ignored.
"""

from __future__ import annotations

from fundtrace.attribution.heuristics.btc_coinjoin import coinjoin_kind
from fundtrace.attribution.links import Link
from fundtrace.core.model import Transaction

__all__ = ["MULTI_INPUT_CONFIDENCE", "input_addresses", "multi_input_links"]

MULTI_INPUT_CONFIDENCE = 90


def input_addresses(tx: Transaction) -> list[str]:
    """Distinct input addresses in input order."""
    seen: dict[str, None] = {}
    for i in tx.inputs:
        if not i.is_coinbase and i.address:
            seen.setdefault(i.address, None)
    return list(seen)


def multi_input_links(tx: Transaction) -> list[Link]:
    """Star of links from the first input address to every other one; none for a CoinJoin."""
    if tx.is_coinbase or coinjoin_kind(tx) is not None:
        return []
    addrs = input_addresses(tx)
    return [
        Link(addrs[0], other, "btc_multi_input", MULTI_INPUT_CONFIDENCE, (tx.hash,))
        for other in addrs[1:]
    ]
