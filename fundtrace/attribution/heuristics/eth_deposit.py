"""Exchange deposit addresses on account chains (Victor, "Address clustering heuristics for
Ethereum", FC 2020).

Exchanges give each customer a deposit address and sweep what arrives to a hot wallet. So:

* an address D that *forwards* what it received to a known exchange hot wallet X — same asset,
  within ``max_blocks``, at most ``max_native_diff`` wei less (the sweep pays gas) or the same
  token amount — is that exchange's deposit address: link D-X (``eth_deposit_forward``, 70);
* addresses that pay into one deposit address share an owner, the exchange customer: link them
  to each other (``eth_deposit_reuse``, 40, below the default merge threshold: weak).

The two kinds are never mixed: a sender is never linked to D or X. Otherwise one customer paying
an exchange would make the customer the exchange, and all customers of an exchange one entity.
An address that ever sends to anything other than the exchange is not a deposit address.
Senders that carry an attribution (other exchanges' hot wallets) or that pay into more than
``max_deposits_per_sender`` deposit addresses (gas funders, payout services) are not linked.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fundtrace.attribution.links import Link
from fundtrace.core.model import NATIVE, Transaction, TransferKind

__all__ = ["FORWARD_CONFIDENCE", "REUSE_CONFIDENCE", "DepositDetector"]

FORWARD_CONFIDENCE = 70
REUSE_CONFIDENCE = 40


@dataclass(slots=True)
class _Incoming:
    asset: str
    amount: int
    block: int
    sender: str
    tx: str


@dataclass
class DepositDetector:
    """Stateful across batches: feed transactions in chain order with :meth:`process`."""

    hot_wallet: Callable[[str], str | None]  # address -> exchange name, for known hot wallets
    is_attributed: Callable[[str], bool] = lambda _a: False
    max_blocks: int = 3200
    max_native_diff: int = 10**16  # 0.01 ETH
    max_deposits_per_sender: int = 3
    keep_incoming: int = 64
    incoming: dict[str, deque[_Incoming]] = field(default_factory=dict)
    deposits: dict[str, str] = field(default_factory=dict)  # deposit address -> hot wallet
    disqualified: set[str] = field(default_factory=set)
    sender_deposits: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def process(self, txs: Iterable[Transaction]) -> list[Link]:
        links: list[Link] = []
        for tx in txs:
            if not tx.success:
                continue
            for t in tx.transfers:
                if t.from_address is None or t.to_address is None or t.amount <= 0:
                    continue
                if t.kind is TransferKind.INTERNAL and t.asset != NATIVE:
                    continue
                links.extend(self._transfer(tx, t.from_address, t.to_address, t.asset, t.amount))
        return links

    def _hot(self, a: str) -> str | None:
        """A hot wallet, but never a deposit address found earlier: with a cluster-aware
        attribution deposits read as "exchange", and customers forwarding into them would
        otherwise be taken for deposit addresses themselves."""
        return None if a in self.deposits else self.hot_wallet(a)

    def _transfer(self, tx: Transaction, src: str, dst: str, asset: str, amount: int) -> list[Link]:
        block = tx.block_number or 0
        out: list[Link] = []
        if self._hot(dst) and not self._hot(src) and not self.is_attributed(src):
            if src not in self.disqualified:
                match = self._match(src, asset, amount, block)
                if match is not None:
                    out.extend(self._deposit_found(src, dst, match, tx.hash))
        elif (src in self.deposits or src in self.incoming) and not self._hot(dst):
            # Spending to anything but the exchange: a person's wallet, not a deposit address.
            self.disqualified.add(src)
        if dst in self.deposits:
            out.extend(self._reuse(dst, src, tx.hash))
        if not self._hot(dst):
            q = self.incoming.setdefault(dst, deque(maxlen=self.keep_incoming))
            q.append(_Incoming(asset, amount, block, src, tx.hash))
        return out

    def _match(self, d: str, asset: str, amount: int, block: int) -> _Incoming | None:
        for r in reversed(self.incoming.get(d, ())):
            if r.asset != asset or not r.block <= block <= r.block + self.max_blocks:
                continue
            diff = r.amount - amount
            if asset == NATIVE:
                if 0 <= diff <= self.max_native_diff:
                    return r
            elif diff == 0:
                return r
        return None

    def _deposit_found(self, d: str, hot: str, r: _Incoming, tx_hash: str) -> list[Link]:
        out: list[Link] = []
        if d not in self.deposits:
            self.deposits[d] = hot
            out.append(Link(d, hot, "eth_deposit_forward", FORWARD_CONFIDENCE, (r.tx, tx_hash)))
            for prev in self.incoming.get(d, ()):
                out.extend(self._reuse(d, prev.sender, prev.tx))
        return out

    def _reuse(self, d: str, sender: str, tx_hash: str) -> list[Link]:
        if self.is_attributed(sender) or self._hot(sender) or sender in self.deposits:
            return []
        deps = self.sender_deposits[sender]
        deps.add(d)
        if len(deps) > self.max_deposits_per_sender:
            return []
        first = next(
            (
                r.sender
                for r in self.incoming.get(d, ())
                if r.sender != sender
                and not self.is_attributed(r.sender)
                and not self._hot(r.sender)
                and len(self.sender_deposits.get(r.sender, ())) <= self.max_deposits_per_sender
            ),
            None,
        )
        if first is None:
            return []
        return [Link(first, sender, "eth_deposit_reuse", REUSE_CONFIDENCE, (tx_hash,))]
