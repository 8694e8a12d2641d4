"""A link is one piece of evidence that two addresses share an owner, and why.

Every union in a cluster comes from a link, and every link keeps the heuristic and the
transactions that justify it, so a report can say "these are one entity because transaction X
spent from both" rather than "the algorithm said so".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HEURISTICS", "Link"]

# heuristic name -> what it claims, for reports and the CLI.
HEURISTICS: dict[str, str] = {
    "btc_multi_input": "both addresses were spent as inputs of one (non-CoinJoin) transaction",
    "btc_change": "the second address received the change of a transaction the first paid from",
    "eth_deposit_forward": "the address forwards what it receives to this exchange hot wallet "
    "(an exchange deposit address)",
    "eth_deposit_reuse": "both addresses paid into the same exchange deposit address (weak)",
    "sol_token_owner": "the token account is owned by this wallet",
    "sol_fee_payer": "the wallet paid the fee of a transaction the other signed (weak)",
    "manual": "asserted by an investigator",
}


@dataclass(frozen=True, slots=True)
class Link:
    a: str
    b: str
    heuristic: str
    confidence: int  # 0..100
    txs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.heuristic not in HEURISTICS:
            raise ValueError(f"unknown heuristic {self.heuristic!r}")
        if not 0 <= self.confidence <= 100:
            raise ValueError(f"confidence {self.confidence} outside 0..100")
        if self.a == self.b:
            raise ValueError(f"a link needs two different addresses, got {self.a!r} twice")

    def to_json(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "heuristic": self.heuristic,
            "confidence": self.confidence,
            "txs": list(self.txs),
        }
