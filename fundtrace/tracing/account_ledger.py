"""The account-chain (Ethereum, Solana) input of the tracing engine: one asset's time-sorted events.

A ledger is a flat event table in the order the chain applied the movements: by block (slot),
then position of the transaction in the block, then the fee (paid before anything the
transaction does), then the transfers by their index. Addresses are dense integer ids so that a
sweep over millions of events touches only numpy arrays.

Which events belong to an asset:

* native coin: the fee (an outflow of ``fee_payer`` to the validators, ``to = -1``, ``kind =
  FEE``) and every ``native``/``internal`` transfer of the coin;
* a token: only its ``token`` transfers;
* a failed transaction moved nothing except its fee.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from fundtrace.core.model import NATIVE, Chain, Transaction, TransferKind
from fundtrace.tracing.arith import INT64_SAFE

KIND_NATIVE = 0
KIND_INTERNAL = 1
KIND_TOKEN = 2
KIND_FEE = 3
KIND_CODES = {
    TransferKind.NATIVE: KIND_NATIVE,
    TransferKind.INTERNAL: KIND_INTERNAL,
    TransferKind.TOKEN: KIND_TOKEN,
}
KIND_NAMES = {
    KIND_NATIVE: "native",
    KIND_INTERNAL: "internal",
    KIND_TOKEN: "token",
    KIND_FEE: "fee",
}


def money_array(values: Sequence[int] | np.ndarray) -> np.ndarray:
    """int64 when the grand total provably fits (compiled path), else exact Python-int objects."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype == object:
        total = sum(int(v) for v in arr)
        if total < INT64_SAFE and all(v >= 0 for v in arr):
            return arr.astype(np.int64)
        return arr
    if arr.size and (int(arr.min()) < 0):
        raise ValueError("amounts must be non-negative")
    total = int(arr.sum(dtype=np.float64)) if arr.size else 0
    if total >= INT64_SAFE // 2:
        exact = sum(int(v) for v in arr.tolist())
        if exact >= INT64_SAFE:
            return np.array([int(v) for v in arr.tolist()], dtype=object)
    return arr.astype(np.int64, copy=False)


def ledger_money(
    amount: Sequence[int] | np.ndarray, from_id: np.ndarray, to_id: np.ndarray, n_addr: int
) -> np.ndarray:
    """A ledger's amounts as int64 whenever every sum a sweep can form fits, else Python ints.

    Per address, balance, taint and the labeled/limit totals never exceed what the address
    received plus what it sent (the latter bounds the backward sweep's reversed balances), and
    the fee/burn sinks never exceed what went to no address; so the compiled path is exact when
    each of those totals is below ``INT64_SAFE``, even if the ledger's grand total is not (any
    18-decimal token or ETH ledger moving more than 4.6 whole units). Float sums decide the easy
    cases (their relative error, under 1e-9 here, cannot bridge the margin); the addresses near
    the limit are summed exactly.
    """
    if isinstance(amount, np.ndarray) and amount.dtype != object:
        if amount.size and int(amount.min()) < 0:
            raise ValueError("amounts must be non-negative")
        as64 = amount.astype(np.int64, copy=False)
    else:
        arr = np.asarray(amount, dtype=object)
        if arr.size and (min(arr) < 0 or max(arr) >= INT64_SAFE):
            return arr
        as64 = arr.astype(np.int64)
    f = np.asarray(from_id, dtype=np.int64)
    t = np.asarray(to_id, dtype=np.int64)
    per = np.zeros(n_addr + 1, dtype=np.float64)  # the last slot collects "no address"
    sink = 0.0
    step = 1 << 20  # in chunks: the temporaries stay small on ten-million-row ledgers
    for lo in range(0, as64.shape[0], step):
        w = as64[lo : lo + step].astype(np.float64)
        tc = t[lo : lo + step]
        sink += float(w[tc < 0].sum())
        for ids in (f[lo : lo + step], tc):
            slot = np.where(ids >= 0, ids, n_addr)
            per += np.bincount(slot, weights=w, minlength=n_addr + 1)[: n_addr + 1]
    per = per[:n_addr]
    near = 0.9 * INT64_SAFE
    if sink >= near and sum(int(v) for v in as64[t < 0].tolist()) >= INT64_SAFE:
        return np.array(as64.tolist(), dtype=object)
    for a in np.nonzero(per >= near)[0].tolist():
        exact = sum(int(v) for v in as64[(f == a) | (t == a)].tolist())
        exact += sum(int(v) for v in as64[(f == a) & (t == a)].tolist())  # self-transfers: both
        if exact >= INT64_SAFE:
            return np.array(as64.tolist(), dtype=object)
    return as64


@dataclass(slots=True)
class AccountLedger:
    """One asset's events, sorted; see the module docstring for the order and the columns."""

    chain: Chain
    asset: str
    decimals: int | None
    tx_hashes: Sequence[str]  # tx id -> hash
    addresses: Sequence[str]  # address id -> address
    ev_tx: np.ndarray  # int64 tx id
    ev_index: np.ndarray  # int64 transfer index (-1 for the fee)
    ev_kind: np.ndarray  # int8 KIND_*
    ev_from: np.ndarray  # int64 address id, -1 = created from nothing (mint)
    ev_to: np.ndarray  # int64 address id, -1 = burned, or the fee sink for KIND_FEE
    ev_amount: np.ndarray  # int64, or object (Python ints) when sums may exceed 2**62
    warnings: list[str] = field(default_factory=list)
    _addr_index: dict[str, int] | None = None
    _tx_index: dict[str, int] | None = None

    @property
    def n_events(self) -> int:
        return int(self.ev_tx.shape[0])

    @property
    def n_addresses(self) -> int:
        return len(self.addresses)

    def address_id(self, address: str) -> int:
        if self._addr_index is None:
            self._addr_index = {a: i for i, a in enumerate(self.addresses)}
        return self._addr_index.get(address, -1)

    def tx_id(self, tx_hash: str) -> int:
        if self._tx_index is None:
            self._tx_index = {h: i for i, h in enumerate(self.tx_hashes)}
        return self._tx_index.get(tx_hash, -1)


def account_ledger_from_arrays(
    *,
    chain: Chain | str,
    asset: str,
    tx_hashes: Sequence[str],
    addresses: Sequence[str],
    tx_id: np.ndarray,
    block: np.ndarray,
    tx_pos: np.ndarray,
    index: np.ndarray,
    kind: np.ndarray,
    from_id: np.ndarray,
    to_id: np.ndarray,
    amount: np.ndarray | Sequence[int],
    decimals: int | None = None,
    presorted: bool = False,
) -> AccountLedger:
    """Build a ledger from columns, one row per event (what a SQL loader fetches directly).

    Columns (equal length): ``tx_id`` row into ``tx_hashes``; ``block`` block number / slot;
    ``tx_pos`` position of the tx in its block; ``index`` the transfer's index (-1 for a fee
    row); ``kind`` KIND_NATIVE/INTERNAL/TOKEN/FEE; ``from_id``/``to_id`` rows into ``addresses``
    (-1 for none: a mint's sender, a burn's or a fee's recipient); ``amount`` base units
    (int64, or Python ints in an object array for uint256 token amounts). Rows are sorted here
    by (block, tx_pos, fee first, index) unless ``presorted``.
    """
    kind = np.asarray(kind, dtype=np.int8)
    index = np.asarray(index, dtype=np.int64)
    if not presorted:
        not_fee = (kind != KIND_FEE).astype(np.int8)
        order = np.lexsort((index, not_fee, np.asarray(tx_pos), np.asarray(block)))

        def col(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a[order])
    else:  # used as given (no copy of ten-million-row columns); the caller must not mutate them

        def col(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a)

    amt = ledger_money(amount, from_id, to_id, len(addresses))
    return AccountLedger(
        chain=Chain(chain),
        asset=asset,
        decimals=decimals,
        tx_hashes=tx_hashes,
        addresses=addresses,
        ev_tx=col(np.asarray(tx_id, dtype=np.int64)),
        ev_index=col(index),
        ev_kind=col(kind),
        ev_from=col(np.asarray(from_id, dtype=np.int64)),
        ev_to=col(np.asarray(to_id, dtype=np.int64)),
        ev_amount=col(amt),
    )


def build_account_ledger(
    transactions: Iterable[Transaction], asset: str, *, decimals: int | None = None
) -> AccountLedger:
    """Ledger of ``asset`` (``NATIVE`` or a token id) from canonical account-chain transactions.

    Transactions without a block (unconfirmed) sort after every confirmed one.
    """
    addr_ids: dict[str, int] = {}
    addresses: list[str] = []
    tx_hashes: list[str] = []
    cols: dict[str, list[int]] = {k: [] for k in ("tx", "blk", "pos", "idx", "kind", "f", "t")}
    amounts: list[int] = []
    chain: Chain | None = None
    big = 2**62

    def aid(a: str | None) -> int:
        if a is None:
            return -1
        i = addr_ids.get(a)
        if i is None:
            i = addr_ids[a] = len(addresses)
            addresses.append(a)
        return i

    def add(txi: int, tx: Transaction, idx: int, k: int, f: int, t: int, amt: int) -> None:
        cols["tx"].append(txi)
        cols["blk"].append(tx.block_number if tx.block_number is not None else big)
        cols["pos"].append(tx.tx_index if tx.tx_index is not None else 0)
        cols["idx"].append(idx)
        cols["kind"].append(k)
        cols["f"].append(f)
        cols["t"].append(t)
        amounts.append(amt)

    for tx in transactions:
        if tx.chain.is_utxo:
            raise ValueError(f"{tx.chain}:{tx.hash} is a UTXO transaction; use build_utxo_graph")
        chain = chain or tx.chain
        txi = len(tx_hashes)
        tx_hashes.append(tx.hash)
        if asset == NATIVE and tx.fee and tx.fee_payer:
            add(txi, tx, -1, KIND_FEE, aid(tx.fee_payer), -1, tx.fee)
        if not tx.success:
            continue
        for tr in tx.transfers:
            if tr.asset != asset:
                continue
            if asset == NATIVE and tr.kind is TransferKind.TOKEN:
                continue
            if asset != NATIVE and tr.kind is not TransferKind.TOKEN:
                continue
            add(
                txi,
                tx,
                tr.index,
                KIND_CODES[tr.kind],
                aid(tr.from_address),
                aid(tr.to_address),
                tr.amount,
            )
    if chain is None and decimals is None:
        chain = Chain.ETH
    if decimals is None and asset == NATIVE and chain is not None:
        decimals = chain.native_decimals
    return account_ledger_from_arrays(
        chain=chain or Chain.ETH,
        asset=asset,
        tx_hashes=tx_hashes,
        addresses=addresses,
        tx_id=np.array(cols["tx"], dtype=np.int64),
        block=np.array(cols["blk"], dtype=np.int64),
        tx_pos=np.array(cols["pos"], dtype=np.int64),
        index=np.array(cols["idx"], dtype=np.int64),
        kind=np.array(cols["kind"], dtype=np.int8),
        from_id=np.array(cols["f"], dtype=np.int64),
        to_id=np.array(cols["t"], dtype=np.int64),
        amount=np.array(amounts, dtype=object),
        decimals=decimals,
    )
