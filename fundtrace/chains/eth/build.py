"""The one place where Ethereum facts become a canonical ``Transaction``.

All sources funnel through ``build_transaction`` so the rules below hold everywhere:

* fee = gasUsed x effectiveGasPrice (gasPrice where the receipt predates London), paid by the
  sender; it is charged even when the transaction failed;
* success comes from the receipt status; before Byzantium receipts have none and a top-level
  trace error is the only exact evidence of failure (without traces the transaction counts as
  successful and the batch says how many were undecidable);
* a failed transaction moves nothing but its fee;
* the top-level native transfer (index 0) is the transaction's own value; a contract creation
  always gets one, so its ``to_address`` records the created contract;
* token transfers come from ERC-20 logs; pre-decoded rows (ethereum-etl, Etherscan) only fill
  (tx, log index) positions that no log covers.
"""

from __future__ import annotations

from fundtrace.chains.eth import erc20
from fundtrace.chains.eth.records import TxParts
from fundtrace.chains.eth.traces import frames_to_transfers
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, Batch, Chain, Transaction, Transfer, TransferKind

SKIP_REMOVED_LOG = "removed_log"
UNKNOWN_STATUS = "status_unknown_pre_byzantium"


def _token_transfers(parts: TxParts, batch: Batch) -> list[Transfer]:
    receipt = parts.receipt
    logs = receipt.logs if receipt is not None and receipt.logs is not None else parts.logs
    rows = parts.token_rows
    if not logs and not rows:
        return []
    out: dict[int, Transfer] = {}
    covered: set[int] = set()
    decode = erc20.decode_log
    for log in logs or ():
        if log.removed:
            batch.skip(SKIP_REMOVED_LOG)
            continue
        covered.add(log.log_index)
        result = decode(log)
        if result is None:
            continue
        if type(result) is str:
            batch.skip(result)
        else:
            out[log.log_index] = result
    for row in rows:
        if row.index in covered:
            decoded = out.get(row.index)
            if decoded is not None and decoded != row:
                raise ParseError(
                    f"token transfer row at log {row.index} disagrees with its log "
                    f"({row} vs {decoded})",
                    field="log_index",
                )
            continue
        if row.index in out and out[row.index] != row:
            raise ParseError(f"two different token transfers at log {row.index}", field="log_index")
        out[row.index] = row
    return [out[k] for k in sorted(out)]


def build_transaction(parts: TxParts, batch: Batch) -> Transaction:
    # Written out field by field (no generic "first non-None" helper): this runs once per
    # transaction of every import, and the precedence below is the whole rule anyway:
    # transaction object, then receipt, then the top-level trace frame, then logs.
    tx, receipt, frames = parts.tx, parts.receipt, parts.frames
    tx_hash = parts.tx_hash
    if tx_hash is None:
        if tx is not None:
            tx_hash = tx.hash
        elif receipt is not None:
            tx_hash = receipt.tx_hash
        elif frames:
            tx_hash = frames[0].tx_hash
        else:
            tx_hash = next((t.tx_hash for t in parts.logs or () if t.tx_hash), None)
    if tx_hash is None:
        raise ParseError("transaction without a hash")

    trace_transfers: list[Transfer] | None = None
    top_failed = False
    top = None
    if frames:
        trace_transfers, top_failed = frames_to_transfers(
            frames, skipped=batch.skipped, where=f"tx {tx_hash}: "
        )
        top = next((f for f in frames if f.path == ()), None)

    if receipt is not None and receipt.status is not None:
        success = receipt.status == 1
    elif frames:
        success = not top_failed
    else:
        success = True
        if receipt is not None:
            batch.skip(UNKNOWN_STATUS)

    fee = None
    if receipt is not None and receipt.gas_used is not None:
        price = receipt.effective_gas_price
        if price is None and tx is not None:
            price = tx.gas_price
        if price is not None:
            fee = receipt.gas_used * price

    from_address = block_number = block_hash = tx_index = timestamp = None
    if tx is not None:
        from_address = tx.from_address
        block_number = tx.block_number
        block_hash = tx.block_hash
        tx_index = tx.tx_index
        timestamp = tx.timestamp
    if receipt is not None:
        if from_address is None:
            from_address = receipt.from_address
        if block_number is None:
            block_number = receipt.block_number
        if block_hash is None:
            block_hash = receipt.block_hash
        if tx_index is None:
            tx_index = receipt.tx_index
    if top is not None:
        if from_address is None:
            from_address = top.from_address
        if block_number is None:
            block_number = top.block_number
        if tx_index is None:
            tx_index = top.tx_index
    if block_number is None and parts.logs:
        block_number = parts.logs[0].block_number
    if timestamp is None:
        timestamp = parts.timestamp

    if tx is not None:
        to_address = tx.to_address
        value: int | None = tx.value
    elif receipt is not None:
        to_address = receipt.to_address
        value = top.value if top is not None and top.call_type != "selfdestruct" else None
    else:
        to_address = top.to_address if top is not None and top.call_type == "call" else None
        value = top.value if top is not None else None

    transfers: list[Transfer] = []
    if success:
        created = receipt.contract_address if receipt is not None else None
        if created is None and top is not None and top.call_type in ("create", "create2"):
            created = top.to_address
        is_creation = tx is not None and tx.to_address is None
        if tx is not None and (tx.value > 0 or is_creation):
            transfers.append(
                Transfer(
                    index=0,
                    kind=TransferKind.NATIVE,
                    asset=NATIVE,
                    from_address=tx.from_address,
                    to_address=created if is_creation else tx.to_address,
                    amount=tx.value,
                    trace_address="" if frames else None,
                )
            )
        for t in trace_transfers or ():
            if t.index == 0:
                if tx is None:
                    transfers.append(t)
                continue
            transfers.append(t)
        tokens = _token_transfers(parts, batch)
        if tokens:
            transfers.extend(tokens)

    return Transaction(
        chain=Chain.ETH,
        hash=tx_hash,
        block_number=block_number,
        block_hash=block_hash,
        tx_index=tx_index,
        timestamp=timestamp,
        fee=fee,
        success=success,
        fee_payer=from_address,
        to_address=to_address,
        value=value,
        transfers=transfers,
    )
