"""Source-neutral intermediate records: what a transaction, receipt, log and call frame *say*.

RPC, ethereum-etl and Etherscan each describe the same four things with different field names.
Each source module maps its rows to these records, and ``build.build_transaction`` alone turns
them into canonical ``Transaction`` objects, so a block imported from a node and the same block
imported from an ethereum-etl export come out identical by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TxRecord:
    hash: str
    from_address: str
    to_address: str | None  # None for contract creation
    value: int
    block_number: int | None = None
    block_hash: str | None = None
    tx_index: int | None = None
    timestamp: int | None = None
    gas_price: int | None = None  # legacy gasPrice; EIP-1559 nodes report the effective price here
    tx_type: int = 0  # a missing ``type`` is a legacy (0) transaction


@dataclass(slots=True)
class LogRecord:
    tx_hash: str | None
    log_index: int
    address: str
    topics: tuple[str, ...]
    data: str  # 0x-hex
    block_number: int | None = None
    removed: bool = False


@dataclass(slots=True)
class ReceiptRecord:
    tx_hash: str
    gas_used: int | None
    status: int | None  # None before Byzantium: the receipt cannot say whether the tx failed
    effective_gas_price: int | None = None  # absent before London: equals the tx gasPrice
    contract_address: str | None = None
    from_address: str | None = None
    to_address: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    tx_index: int | None = None
    logs: list[LogRecord] | None = None  # None: this source did not carry the logs


@dataclass(slots=True)
class Frame:
    """One call frame of a transaction's execution, whatever tracer reported it.

    ``path`` is the Parity ``traceAddress`` (``()`` for the top-level call); geth's nested
    ``calls`` are flattened to the same paths, so depth-first order is ``sorted(path)``.
    ``call_type`` is lowercase: call, callcode, delegatecall, staticcall, create, create2,
    selfdestruct. ``value`` None means the tracer did not report it (an old geth SELFDESTRUCT).
    """

    path: tuple[int, ...]
    call_type: str
    from_address: str | None
    to_address: str | None
    value: int | None
    error: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    tx_index: int | None = None


@dataclass(slots=True)
class TxParts:
    """Everything known about one transaction, gathered from any number of sources."""

    tx_hash: str | None = None
    tx: TxRecord | None = None
    receipt: ReceiptRecord | None = None
    frames: list[Frame] | None = None
    logs: list[LogRecord] | None = None  # logs given apart from a receipt (eth_getLogs, logs.csv)
    token_rows: list = field(default_factory=list)  # pre-decoded Transfers (etl/Etherscan rows)
    timestamp: int | None = None
