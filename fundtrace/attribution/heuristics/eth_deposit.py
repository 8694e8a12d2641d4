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

An "exchange" label does not say *which* exchange address it is: label sets tag deposit
addresses too. A thief who forwards stolen funds, amount for amount, into a labeled *deposit*
address X looks exactly like a deposit address sweeping into a hot wallet, and would become the
exchange. The difference shows only afterwards: a deposit address passes the same funds on to
another address of its exchange (its sweep), a hot wallet does not. So every D-X link stays
*open* for ``max_blocks`` after each forward (the window in which a deposit address sweeps, the
same window used to find D itself). If X then sends the same asset and amount that D forwarded
to it (the token amount exactly, native at most ``max_native_diff`` and a tenth less, so that a
hot wallet's small gas top-ups to its deposit addresses never count) to a *different* address
of the *same* exchange, X is a forwarder: every open link into X is retracted together with the
reuse links found through D, D is disqualified, and X is never taken for a hot wallet again.
Links are unioned when found (a genuine deposit is detected without waiting), and retractions
are reported in :attr:`DepositDetector.retracted` for the clustering to undo; processing in one
batch or in many therefore ends in the same links. Once the window has passed a link is final.
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


@dataclass(slots=True)
class _Open:
    """A deposit link D-X that X's own behaviour can still retract (see the module docstring)."""

    hot: str
    forwards: list[tuple[str, int, int]] = field(default_factory=list)  # (asset, amount, block)
    links: list[Link] = field(default_factory=list)  # every link found through D
    senders: set[str] = field(default_factory=set)  # senders whose sender_deposits hold D


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
    open: dict[str, _Open] = field(default_factory=dict)  # deposit address -> open evidence
    open_into: dict[str, list[str]] = field(default_factory=dict)  # hot wallet -> open deposits
    forwarders: set[str] = field(default_factory=set)  # exchange-labeled, but pass funds on
    # Links returned by earlier process() calls and withdrawn by the last one.
    retracted: list[Link] = field(default_factory=list)
    _now: list[Link] = field(default_factory=list, init=False, repr=False)

    def process(self, txs: Iterable[Transaction]) -> list[Link]:
        """New links; links of earlier calls withdrawn meanwhile are left in :attr:`retracted`."""
        links: list[Link] = []
        self.retracted = []
        self._now = links
        for tx in txs:
            if not tx.success:
                continue
            for t in tx.transfers:
                if t.from_address is None or t.to_address is None or t.amount <= 0:
                    continue
                if t.kind is TransferKind.INTERNAL and t.asset != NATIVE:
                    continue
                links.extend(self._transfer(tx, t.from_address, t.to_address, t.asset, t.amount))
        self._now = []
        return links

    def _hot(self, a: str) -> str | None:
        """A hot wallet, but never a deposit address found earlier: with a cluster-aware
        attribution deposits read as "exchange", and customers forwarding into them would
        otherwise be taken for deposit addresses themselves. Nor an exchange address seen
        passing deposited funds on to its exchange (a labeled deposit address)."""
        if a in self.deposits or a in self.forwarders:
            return None
        return self.hot_wallet(a)

    def _transfer(self, tx: Transaction, src: str, dst: str, asset: str, amount: int) -> list[Link]:
        block = tx.block_number or 0
        out: list[Link] = []
        if src not in self.forwarders and src != dst:
            self._check_forwarder(src, dst, asset, amount, block)
        if self._hot(dst) and not self._hot(src) and not self.is_attributed(src):
            if src not in self.disqualified:
                match = self._match(src, asset, amount, block)
                if match is not None:
                    out.extend(self._deposit_found(src, dst, match, tx.hash))
                    self._note_forward(src, dst, asset, amount, block)
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

    # ------------------------------------------------------------------ open links
    def _note_forward(self, d: str, hot: str, asset: str, amount: int, block: int) -> None:
        o = self.open.get(d)
        if o is not None and o.hot == hot:
            o.forwards.append((asset, amount, block))

    def _passes_on(self, forwards: list[tuple[str, int, int]], asset: str, amount: int) -> bool:
        for f_asset, f_amount, _block in forwards:
            if f_asset != asset:
                continue
            diff = f_amount - amount
            if asset != NATIVE:
                if diff == 0:
                    return True
            elif 0 <= diff <= min(self.max_native_diff, f_amount // 10):
                return True
        return False

    def _check_forwarder(self, x: str, y: str, asset: str, amount: int, block: int) -> None:
        """Retract the open links into ``x`` if ``x`` passes what they forwarded on to ``y``."""
        into = self.open_into.get(x)
        if not into:
            return
        live: list[str] = []
        for d in into:
            o = self.open[d]
            o.forwards = [f for f in o.forwards if block <= f[2] + self.max_blocks]
            if o.forwards:
                live.append(d)
            else:
                del self.open[d]  # the window has passed: the link is final
        if live:
            self.open_into[x] = live
        else:
            del self.open_into[x]
            return
        name = self.hot_wallet(x)
        if name is None or self.hot_wallet(y) != name:
            return
        if not any(self._passes_on(self.open[d].forwards, asset, amount) for d in live):
            return
        self.forwarders.add(x)
        for d in list(live):
            self._retract(d)

    def _retract(self, d: str) -> None:
        o = self.open.pop(d)
        into = self.open_into.get(o.hot, [])
        if d in into:
            into.remove(d)
        if not into:
            self.open_into.pop(o.hot, None)
        self.deposits.pop(d, None)
        self.disqualified.add(d)
        for s in o.senders:
            deps = self.sender_deposits.get(s)
            if deps is not None:
                deps.discard(d)
        now = self._now
        for link in o.links:
            if link in now:
                now[:] = [x for x in now if x != link]
            elif link not in self.retracted:
                self.retracted.append(link)

    # ------------------------------------------------------------------ links
    def _deposit_found(self, d: str, hot: str, r: _Incoming, tx_hash: str) -> list[Link]:
        out: list[Link] = []
        if d not in self.deposits:
            self.deposits[d] = hot
            self.open[d] = _Open(hot)
            self.open_into.setdefault(hot, []).append(d)
            link = Link(d, hot, "eth_deposit_forward", FORWARD_CONFIDENCE, (r.tx, tx_hash))
            self.open[d].links.append(link)
            out.append(link)
            for prev in self.incoming.get(d, ()):
                out.extend(self._reuse(d, prev.sender, prev.tx))
        return out

    def _reuse(self, d: str, sender: str, tx_hash: str) -> list[Link]:
        if self.is_attributed(sender) or self._hot(sender) or sender in self.deposits:
            return []
        deps = self.sender_deposits[sender]
        deps.add(d)
        o = self.open.get(d)
        if o is not None:
            o.senders.add(sender)
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
        link = Link(first, sender, "eth_deposit_reuse", REUSE_CONFIDENCE, (tx_hash,))
        if o is not None:
            o.links.append(link)
        return [link]
