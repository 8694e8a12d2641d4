"""The Bitcoin (UTXO) input of the tracing engine: transactions, inputs and outputs as CSR arrays.

Transactions are numbered in chain order (block, position in block), which is a topological
order: a transaction only spends outputs of earlier ones. Outputs of transaction ``t`` are the
rows ``tx_out_ptr[t]:tx_out_ptr[t+1]`` (in ``vout`` order) and its inputs the rows
``tx_in_ptr[t]:tx_in_ptr[t+1]`` (in ``vin`` order), so a sweep is a pass over flat arrays.

Every output and input gets an address id; scripts without a standard address are named
``"txid:vout"`` (outputs) or after the spent outpoint (inputs), so every endpoint has a name.
An input whose value is unknown (its prevout is neither stored nor resolved) counts as 0 and
the graph carries a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from fundtrace.core.model import Transaction
from fundtrace.tracing.account_ledger import money_array


@dataclass(slots=True)
class UtxoGraph:
    txids: Sequence[str]
    addresses: Sequence[str]
    tx_in_ptr: np.ndarray  # int64 (T+1)
    tx_out_ptr: np.ndarray  # int64 (T+1)
    tx_coinbase: np.ndarray  # bool (T)
    in_spent: np.ndarray  # int64 (I) output row spent, -1 if not stored (or coinbase)
    in_value: np.ndarray  # money (I)
    in_addr: np.ndarray  # int64 (I)
    out_value: np.ndarray  # money (O)
    out_addr: np.ndarray  # int64 (O)
    out_vout: np.ndarray  # int64 (O)
    out_spender: np.ndarray  # int64 (O) spending tx, -1 if unspent in the stored data
    warnings: list[str] = field(default_factory=list)
    decimals: int = 8
    _addr_index: dict[str, int] | None = None
    _tx_index: dict[str, int] | None = None
    _double_spends: bool | None = None

    @property
    def n_tx(self) -> int:
        return int(self.tx_coinbase.shape[0])

    @property
    def n_outputs(self) -> int:
        return int(self.out_value.shape[0])

    @property
    def n_events(self) -> int:
        """Inputs plus outputs: what a sweep touches (the benchmark's unit of work)."""
        return int(self.in_spent.shape[0] + self.out_value.shape[0])

    def has_double_spends(self) -> bool:
        """Whether two inputs spend the same output (conflicting transactions in the data):
        then a forward fifo/lifo sweep must keep every output's ranges, as one is read twice."""
        if self._double_spends is None:
            spent = int(np.count_nonzero(self.in_spent >= 0))
            self._double_spends = spent != int(np.count_nonzero(self.out_spender >= 0))
        return self._double_spends

    def tx_id(self, txid: str) -> int:
        if self._tx_index is None:
            self._tx_index = {h: i for i, h in enumerate(self.txids)}
        return self._tx_index.get(txid, -1)

    def address_id(self, address: str) -> int:
        if self._addr_index is None:
            self._addr_index = {a: i for i, a in enumerate(self.addresses)}
        return self._addr_index.get(address, -1)

    def output_row(self, txid: str, vout: int) -> int:
        t = self.tx_id(txid)
        if t < 0:
            return -1
        lo, hi = int(self.tx_out_ptr[t]), int(self.tx_out_ptr[t + 1])
        hits = np.nonzero(self.out_vout[lo:hi] == vout)[0]
        return lo + int(hits[0]) if hits.size else -1

    def output_tx(self, row: int) -> int:
        return int(np.searchsorted(self.tx_out_ptr, row, side="right") - 1)

    def input_tx(self, row: int) -> int:
        return int(np.searchsorted(self.tx_in_ptr, row, side="right") - 1)


def utxo_graph_from_arrays(
    *,
    txids: Sequence[str],
    addresses: Sequence[str],
    tx_in_ptr: np.ndarray,
    tx_out_ptr: np.ndarray,
    in_spent: np.ndarray,
    in_value: np.ndarray,
    in_addr: np.ndarray,
    out_value: np.ndarray,
    out_addr: np.ndarray,
    out_vout: np.ndarray | None = None,
    tx_coinbase: np.ndarray | None = None,
) -> UtxoGraph:
    """Graph from columns a SQL loader can fill directly (transactions already in chain order).

    ``tx_in_ptr``/``tx_out_ptr``: CSR offsets (length T+1) into the input/output columns, which
    are grouped by transaction in vin/vout order. ``in_spent``: row of the spent output in the
    output columns, -1 when not loaded or coinbase. ``in_value``/``out_value``: base units.
    ``in_addr``/``out_addr``: rows into ``addresses``. ``out_vout`` defaults to the position in
    the transaction; ``tx_coinbase`` to "has no input spending a loaded output and no input".
    """
    tx_in_ptr = np.asarray(tx_in_ptr, dtype=np.int64)
    tx_out_ptr = np.asarray(tx_out_ptr, dtype=np.int64)
    n_tx = tx_out_ptr.shape[0] - 1
    n_out = int(tx_out_ptr[-1])
    if out_vout is None:
        counts = np.diff(tx_out_ptr)
        out_vout = np.arange(n_out, dtype=np.int64) - np.repeat(tx_out_ptr[:-1], counts)
    if tx_coinbase is None:
        tx_coinbase = np.diff(tx_in_ptr) == 0
    in_spent = np.asarray(in_spent, dtype=np.int64)
    spender = np.full(n_out, -1, dtype=np.int64)
    valid = in_spent >= 0
    in_tx = np.repeat(np.arange(n_tx, dtype=np.int64), np.diff(tx_in_ptr))
    spender[in_spent[valid]] = in_tx[valid]
    return UtxoGraph(
        txids=txids,
        addresses=addresses,
        tx_in_ptr=tx_in_ptr,
        tx_out_ptr=tx_out_ptr,
        tx_coinbase=np.asarray(tx_coinbase, dtype=np.bool_),
        in_spent=in_spent,
        in_value=money_array(in_value),
        in_addr=np.asarray(in_addr, dtype=np.int64),
        out_value=money_array(out_value),
        out_addr=np.asarray(out_addr, dtype=np.int64),
        out_vout=np.asarray(out_vout, dtype=np.int64),
        out_spender=spender,
    )


def build_utxo_graph(transactions: Iterable[Transaction]) -> UtxoGraph:
    """Graph from canonical Bitcoin transactions (any order; sorted by block and position)."""
    txs = sorted(
        transactions,
        key=lambda t: (
            t.block_number if t.block_number is not None else 2**62,
            t.tx_index if t.tx_index is not None else 0,
        ),
    )
    addr_ids: dict[str, int] = {}
    addresses: list[str] = []

    def aid(a: str) -> int:
        i = addr_ids.get(a)
        if i is None:
            i = addr_ids[a] = len(addresses)
            addresses.append(a)
        return i

    out_rows: dict[tuple[str, int], int] = {}
    tx_out_ptr = [0]
    out_value: list[int] = []
    out_addr: list[int] = []
    out_vout: list[int] = []
    for tx in txs:
        if not tx.chain.is_utxo:
            raise ValueError(f"{tx.chain}:{tx.hash} is an account transaction; use the ledger")
        for o in sorted(tx.outputs, key=lambda o: o.index):
            out_rows[(tx.hash, o.index)] = len(out_value)
            out_value.append(o.value)
            out_addr.append(aid(o.address or f"{tx.hash}:{o.index}"))
            out_vout.append(o.index)
        tx_out_ptr.append(len(out_value))
    tx_in_ptr = [0]
    in_spent: list[int] = []
    in_value: list[int] = []
    in_addr: list[int] = []
    coinbase: list[bool] = []
    unknown = 0
    for tx in txs:
        coinbase.append(tx.is_coinbase or all(i.is_coinbase for i in tx.inputs))
        for i in sorted(tx.inputs, key=lambda i: i.index):
            if i.is_coinbase:
                continue
            row = out_rows.get((i.spent_txid, i.spent_vout), -1)  # type: ignore[arg-type]
            in_spent.append(row)
            if row >= 0:
                value = out_value[row]
                addr = out_addr[row]
            else:
                value = i.value if i.value is not None else 0
                unknown += i.value is None
                addr = aid(i.address or f"{i.spent_txid}:{i.spent_vout}")
            in_value.append(value)
            in_addr.append(addr)
        tx_in_ptr.append(len(in_spent))
    graph = utxo_graph_from_arrays(
        txids=[t.hash for t in txs],
        addresses=addresses,
        tx_in_ptr=np.array(tx_in_ptr, dtype=np.int64),
        tx_out_ptr=np.array(tx_out_ptr, dtype=np.int64),
        in_spent=np.array(in_spent, dtype=np.int64),
        in_value=np.array(in_value, dtype=object),
        in_addr=np.array(in_addr, dtype=np.int64),
        out_value=np.array(out_value, dtype=object),
        out_addr=np.array(out_addr, dtype=np.int64),
        out_vout=np.array(out_vout, dtype=np.int64),
        tx_coinbase=np.array(coinbase, dtype=np.bool_),
    )
    if unknown:
        graph.warnings.append(
            f"{unknown} input value(s) unknown (prevout not loaded); counted as 0"
        )
    return graph
