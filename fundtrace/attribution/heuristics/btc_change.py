"""Guess which output of a Bitcoin payment is the sender's change.

Signals (each counts only when it singles out exactly one candidate output):

* ``fresh``: the output address had never appeared before this transaction (Meiklejohn 2013:
  wallets send change to a new address, payees' addresses are often reused).
* ``script_type``: the output's script type equals the type shared by all inputs while another
  output's differs (the sender's wallet uses one address type).
* ``non_round``: the output is not a multiple of 10,000 sat while another one is (payments are
  round, change is the remainder).
* ``optimal_change``: the output is smaller than every input while the others are not (a wallet
  would not have added an input that the payment alone did not need).

An output back to an input address is change by address reuse, no guessing needed. Outputs to
addresses that carry an attribution (an exchange, a service) are never change: paying an
exchange deposit address from a fresh address must not make the sender the exchange. The chosen
output must itself be fresh, no signal may point elsewhere, and CoinJoins are skipped.
Confidence: 1 signal 40, 2 signals 60, 3 signals 75, 4 signals 85 — single-signal guesses stay
below the default merge threshold (50) and are kept only as evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fundtrace.attribution.heuristics.btc_coinjoin import coinjoin_kind
from fundtrace.attribution.heuristics.btc_multi_input import input_addresses
from fundtrace.attribution.links import Link
from fundtrace.core.model import Transaction

__all__ = ["ROUND_UNIT", "ChangeGuess", "change_links", "detect_change"]

ROUND_UNIT = 10_000  # sat; 0.0001 BTC
_CONFIDENCE = {1: 40, 2: 60, 3: 75, 4: 85}
REUSE_CONFIDENCE = 95


@dataclass(frozen=True, slots=True)
class ChangeGuess:
    output_index: int
    address: str
    confidence: int
    reasons: tuple[str, ...]


def detect_change(
    tx: Transaction,
    *,
    is_fresh: Callable[[str], bool],
    is_attributed: Callable[[str], bool] | None = None,
) -> ChangeGuess | None:
    """The change output, or None when the evidence is absent or contradictory."""
    if tx.is_coinbase or coinjoin_kind(tx) is not None:
        return None
    in_addrs = input_addresses(tx)
    if not in_addrs:
        return None
    outs = [o for o in tx.outputs if o.address]
    if len(outs) < 2:
        return None
    in_set = set(in_addrs)
    reused = [o for o in outs if o.address in in_set]
    if reused:
        if len(reused) == 1:
            o = reused[0]
            return ChangeGuess(o.index, o.address or "", REUSE_CONFIDENCE, ("address_reuse",))
        return None
    attributed = is_attributed or (lambda _a: False)
    votes: dict[str, int] = {}  # signal -> output index it singles out

    def unique(signal: str, hits: list[int]) -> None:
        if len(hits) == 1:
            votes[signal] = hits[0]

    # Signals are judged over all addressed outputs; an attributed output can never be the
    # answer, so a signal pointing at one makes the transaction ambiguous rather than shifting
    # the vote to whatever output is left.
    fresh = {o.index: is_fresh(o.address or "") for o in outs}
    unique("fresh", [o.index for o in outs if fresh[o.index]])
    in_types = {i.script_type for i in tx.inputs}
    if len(in_types) == 1 and None not in in_types:
        (t,) = in_types
        if any(o.script_type != t for o in outs):
            unique("script_type", [o.index for o in outs if o.script_type == t])
    if any(o.value % ROUND_UNIT == 0 for o in outs):
        unique("non_round", [o.index for o in outs if o.value % ROUND_UNIT != 0])
    in_values = [i.value for i in tx.inputs]
    if all(v is not None for v in in_values):
        smallest = min(v for v in in_values if v is not None)
        unique("optimal_change", [o.index for o in outs if o.value < smallest])
    if not votes or len(set(votes.values())) != 1:
        return None
    idx = next(iter(votes.values()))
    out = next(o for o in outs if o.index == idx)
    if not fresh[idx] or attributed(out.address or ""):
        return None
    reasons = tuple(sorted(votes))
    return ChangeGuess(idx, out.address or "", _CONFIDENCE[len(reasons)], reasons)


def change_links(
    tx: Transaction,
    *,
    is_fresh: Callable[[str], bool],
    is_attributed: Callable[[str], bool] | None = None,
) -> list[Link]:
    """A link from the first input address to the change address (none for address reuse)."""
    guess = detect_change(tx, is_fresh=is_fresh, is_attributed=is_attributed)
    if guess is None or "address_reuse" in guess.reasons:
        return []
    first = input_addresses(tx)[0]
    return [Link(first, guess.address, "btc_change", guess.confidence, (tx.hash,))]
