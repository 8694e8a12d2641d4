"""What a reference taint run reports, in a shape that can be written to ``ground_truth.json``.

The figures are kept as exact ints keyed by address so that a demo's output can be compared
with them line by line; ``to_json`` turns amounts into decimal strings because JSON readers in
other languages silently round integers above 2**53 (wei amounts are far above that).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONSERVING = frozenset({"haircut", "fifo", "lifo", "tiho"})

ROUNDING_RULES = {
    "amounts": "integers in base units, written as decimal strings",
    "poison": (
        "not conserving: every output (utxo) / every outflow (accounts) of a tainted holder is "
        "wholly tainted; figures are the sums of tainted amounts arriving at each endpoint"
    ),
    "haircut_utxo": (
        "tainted input value T of a transaction with input total I is split over the outputs "
        "and the fee in proportion to their values: share_k = floor(T * v_k / I), then the "
        "T - sum(shares) units left go one each to the largest remainders (T * v_k mod I), "
        "ties to the lower output index, the fee counting as the last position"
    ),
    "haircut_account": (
        "an outflow of x from a holder with balance B (received - sent in the data, at least x) "
        "holding taint T carries floor(x * T / B); the remainder stays with the holder"
    ),
    "fifo_utxo": (
        "satoshis of the inputs concatenated in input order fill the outputs in output order; "
        "the fee is the tail; tainted satoshi ranges are followed exactly"
    ),
    "lifo_utxo": "as fifo_utxo with the inputs concatenated in reverse input order",
    "tiho_utxo": (
        "tainted amount T fills the outputs in descending value order (ties: lower index "
        "first), each up to its value; what is left goes to the fee"
    ),
    "fifo_account": (
        "a holder's balance is a list of lots in arrival order; an outflow consumes the oldest "
        "lots first; the consumed pieces arrive at the recipient in their original order"
    ),
    "lifo_account": "as fifo_account, consuming the newest lots first",
    "short_balance": (
        "an account sending more than it received in the data is taken to have held the "
        "missing amount as untainted funds older than anything stored"
    ),
    "order": (
        "accounts: events by (block, tx index, fee first, transfer index); utxo: transactions "
        "by (block, tx index)"
    ),
    "stop": (
        "taint arriving at a labeled address (labels.csv) is counted there as an endpoint and "
        "not followed further; taint left at unlabeled addresses is 'held'"
    ),
    "conservation": (
        "for haircut/fifo/lifo/tiho: sum(endpoints) + sum(held) + fees + burned == source_total"
    ),
}


@dataclass(slots=True)
class TaintFigures:
    """Where the taint of one set of sources ended under one model."""

    model: str
    source_total: int = 0
    endpoints: dict[str, int] = field(default_factory=dict)  # labeled addresses reached
    held: dict[str, int] = field(default_factory=dict)  # still at unlabeled addresses
    fees: int = 0
    burned: int = 0

    @property
    def conserving(self) -> bool:
        return self.model in CONSERVING

    def accounted(self) -> int:
        return sum(self.endpoints.values()) + sum(self.held.values()) + self.fees + self.burned

    def reached(self) -> list[str]:
        return sorted(a for a, v in self.endpoints.items() if v > 0)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "conserving": self.conserving,
            "source_total": str(self.source_total),
            "reached": self.reached(),
            "endpoints": {a: str(v) for a, v in sorted(self.endpoints.items()) if v > 0},
            "held": {a: str(v) for a, v in sorted(self.held.items()) if v > 0},
            "fees": str(self.fees),
            "burned": str(self.burned),
        }


def add(d: dict[str, int], key: str, amount: int) -> None:
    if amount:
        d[key] = d.get(key, 0) + amount
