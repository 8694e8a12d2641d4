"""Recognise CoinJoin-shaped Bitcoin transactions, where common-input ownership is false.

In a CoinJoin several owners each contribute inputs and receive outputs of one shared value, so
clustering its inputs would merge strangers (and typically merge everyone who ever mixed into one
giant false entity). The rules are deliberately generous: wrongly skipping an ordinary payment
costs one missed link, wrongly merging a CoinJoin poisons every cluster it touches.

Rules (outputs without an address or worth 0 are ignored; "m" = the largest number of outputs
sharing one value, "n_in" = inputs, "n_out" = addressed outputs):

* ``whirlpool``: 5 inputs and 5 outputs of one value (Samourai/Sparrow Whirlpool, pools of
  0.001/0.01/0.05/0.5 BTC; the fixture ``whirlpool-coinjoin.json`` is one).
* ``wasabi``: m >= 10 (Wasabi 1.x ZeroLink rounds, ~0.1 BTC denomination).
* ``wabisabi``: n_in >= 20 and n_out >= 20 and at least half the outputs share their value with
  another output (Wasabi 2 rounds use many standard denominations).
* ``joinmarket`` (and any other equal-output join): m >= 2, n_in >= m and n_out <= 2m + 1: each
  of m participants gets one equal output and at most one change output, plus possibly a
  coordinator fee. The fixture ``joinmarket-coinjoin.json`` (2 in, 4 out, two of 100,420 sat) is
  one. This also catches a plain 2-input payment to two people of the same amount; that is
  accepted as the price of never merging a JoinMarket taker with its makers.

PayJoin (BIP-78) is indistinguishable from a normal payment by design and is not detected.
"""

from __future__ import annotations

from collections import Counter

from fundtrace.core.model import Transaction

__all__ = ["coinjoin_kind"]


def coinjoin_kind(tx: Transaction) -> str | None:
    """The CoinJoin rule the transaction matches, or None."""
    if tx.is_coinbase or len(tx.inputs) < 2:
        return None
    values = [o.value for o in tx.outputs if o.address and o.value > 0]
    n_in = len(tx.inputs)
    n_out = len(values)
    if n_out < 2:
        return None
    counts = Counter(values)
    m = max(counts.values())
    if n_in == 5 and n_out == 5 and m == 5:
        return "whirlpool"
    if m >= 10:
        return "wasabi"
    shared = sum(c for c in counts.values() if c >= 2)
    if n_in >= 20 and n_out >= 20 and 2 * shared >= n_out:
        return "wabisabi"
    if m >= 2 and n_in >= m and n_out <= 2 * m + 1:
        return "joinmarket"
    return None
