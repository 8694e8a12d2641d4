"""JSON-RPC objects (blocks, transactions, receipts, logs) to intermediate records.

Covers what geth, Parity/OpenEthereum, Erigon and Etherscan's proxy return, old and new:
pre-Byzantium receipts have no ``status`` (or ``"status": null``), pre-London ones no
``effectiveGasPrice``, legacy transactions no ``type``; Parity adds fields we ignore.
"""

from __future__ import annotations

from collections.abc import Mapping

from fundtrace.chains.eth import fields
from fundtrace.chains.eth.records import LogRecord, ReceiptRecord, TxRecord
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Block, Chain


def _obj(obj: object, what: str) -> Mapping:
    if not isinstance(obj, Mapping):
        raise ParseError(f"expected a JSON object for {what}, got {type(obj).__name__}")
    return obj


def parse_log(obj: Mapping) -> LogRecord:
    obj = _obj(obj, "a log")
    topics = fields.require(obj, "topics")
    if not isinstance(topics, list):
        raise ParseError("topics is not a list", field="topics")
    return LogRecord(
        tx_hash=fields.opt_hash(obj.get("transactionHash"), "transactionHash"),
        log_index=fields.quantity(fields.require(obj, "logIndex"), "logIndex"),
        address=fields.address(fields.require(obj, "address"), "address"),
        topics=tuple(fields.tx_hash(t, "topics") for t in topics),
        data=fields.hex_data(fields.require(obj, "data"), "data"),
        block_number=fields.opt_quantity(obj.get("blockNumber"), "blockNumber"),
        removed=bool(obj.get("removed", False)),
    )


def parse_tx(obj: Mapping, *, timestamp: int | None = None) -> TxRecord:
    obj = _obj(obj, "a transaction")
    return TxRecord(
        hash=fields.tx_hash(fields.require(obj, "hash"), "hash"),
        from_address=fields.address(fields.require(obj, "from"), "from"),
        to_address=fields.opt_address(obj.get("to"), "to"),
        value=fields.quantity(fields.require(obj, "value"), "value"),
        block_number=fields.opt_quantity(obj.get("blockNumber"), "blockNumber"),
        block_hash=fields.opt_hash(obj.get("blockHash"), "blockHash"),
        tx_index=fields.opt_quantity(obj.get("transactionIndex"), "transactionIndex"),
        timestamp=(
            timestamp
            if timestamp is not None
            else fields.opt_quantity(obj.get("blockTimestamp"), "blockTimestamp")
        ),
        gas_price=fields.opt_quantity(obj.get("gasPrice"), "gasPrice"),
        tx_type=fields.opt_quantity(obj.get("type"), "type") or 0,
    )


def parse_receipt(obj: Mapping) -> ReceiptRecord:
    obj = _obj(obj, "a receipt")
    logs_raw = obj.get("logs")
    if logs_raw is not None and not isinstance(logs_raw, list):
        raise ParseError("logs is not a list", field="logs")
    logs = []
    for i, log in enumerate(logs_raw or ()):
        try:
            logs.append(parse_log(log))
        except ParseError as exc:
            raise ParseError(exc.message, field=f"logs[{i}].{exc.field}") from None
    return ReceiptRecord(
        tx_hash=fields.tx_hash(fields.require(obj, "transactionHash"), "transactionHash"),
        gas_used=fields.quantity(fields.require(obj, "gasUsed"), "gasUsed"),
        status=fields.status(obj.get("status"), "status"),
        effective_gas_price=fields.opt_quantity(obj.get("effectiveGasPrice"), "effectiveGasPrice"),
        contract_address=fields.opt_address(obj.get("contractAddress"), "contractAddress"),
        from_address=fields.opt_address(obj.get("from"), "from"),
        to_address=fields.opt_address(obj.get("to"), "to"),
        block_number=fields.opt_quantity(obj.get("blockNumber"), "blockNumber"),
        block_hash=fields.opt_hash(obj.get("blockHash"), "blockHash"),
        tx_index=fields.opt_quantity(obj.get("transactionIndex"), "transactionIndex"),
        logs=logs,
    )


def parse_block(obj: Mapping) -> tuple[Block, list[TxRecord]]:
    """A block from ``eth_getBlockByNumber(n, true)``; hash-only blocks are refused.

    A block with only transaction hashes cannot be imported: sender, recipient and value live in
    the transaction objects, so asking again with full transactions is the only fix.
    """
    obj = _obj(obj, "a block")
    number = fields.quantity(fields.require(obj, "number"), "number")
    timestamp = fields.quantity(fields.require(obj, "timestamp"), "timestamp")
    txs_raw = fields.require(obj, "transactions")
    if not isinstance(txs_raw, list):
        raise ParseError("transactions is not a list", field="transactions")
    if any(isinstance(t, str) for t in txs_raw):
        raise ParseError(
            f"block {number} lists transaction hashes only; fetch it with full transactions "
            "(eth_getBlockByNumber(n, true))",
            record=f"block {number}",
            field="transactions",
        )
    block = Block(
        chain=Chain.ETH,
        number=number,
        hash=fields.tx_hash(fields.require(obj, "hash"), "hash"),
        timestamp=timestamp,
        parent_hash=fields.opt_hash(obj.get("parentHash"), "parentHash"),
        tx_count=len(txs_raw),
        miner=fields.opt_address(obj.get("miner"), "miner"),
    )
    txs = []
    for i, t in enumerate(txs_raw):
        try:
            tx = parse_tx(t, timestamp=timestamp)
        except ParseError as exc:
            raise ParseError(
                exc.message, record=f"block {number} tx {i}", field=f"transactions[{i}].{exc.field}"
            ) from None
        if tx.block_number is None:
            tx.block_number = number
        if tx.block_hash is None:
            tx.block_hash = block.hash
        if tx.block_number != number or tx.block_hash != block.hash:
            raise ParseError(
                "transaction names another block",
                record=f"block {number} tx {i}",
                field="blockNumber",
            )
        txs.append(tx)
    return block, txs
