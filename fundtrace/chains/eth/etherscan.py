"""Etherscan-compatible account API results (``txlist``, ``txlistinternal``, ``tokentx``, and
``proxy`` ``eth_getTransactionReceipt``) to a canonical Batch.

Etherscan answers per *address*, so a batch from it is a partial view of each transaction:
``txlist`` rows give sender, recipient, value, fee and success; ``txlistinternal`` rows the
internal transfers touching the address; ``tokentx`` rows its token transfers. Keys are chosen so
that importing the same transaction later from a node neither collides nor loses meaning:

* The top-level transfer is (native, 0), exactly as from a node.
* Internal transfers: Etherscan gives ``traceId`` (its own call path, e.g. ``"0_1_1"``) but not
  the depth-first ordinal a node-derived import uses, which needs the whole call tree. The index
  is therefore taken from a separate range: ``ETHERSCAN_INDEX_BASE + first 7 bytes of
  keccak("etherscan:internal:" + traceId)`` (2**62 <= index < 2**62 + 2**56, inside int64), and
  ``trace_address`` keeps ``"etherscan:" + traceId`` for explanation. Node ordinals are far
  below 2**62, so the two never collide; the same Etherscan row always gets the same key, so a
  re-import is idempotent. A storage layer that later receives the node's full trace of the
  transaction should replace the transaction's transfer set (the node's view is complete).
* Token transfers: ``tokentx`` has no log index. When the transaction's receipt is in the same
  import (``proxy`` ``eth_getTransactionReceipt``), the row is matched to its Transfer log and
  gets the real log index (the same key a node import gives); otherwise it gets a key from the
  same separate range, hashed from (token, from, to, value, occurrence).

The ``GENESIS_<address>`` pseudo-rows of ``txlist`` (genesis allocations) are not transactions;
they are skipped and counted. "No transactions found" (``status`` "0", ``result`` []) is an
empty answer, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from eth_utils import keccak

from fundtrace.chains.eth import erc20, fields
from fundtrace.chains.eth.build import build_transaction
from fundtrace.chains.eth.records import ReceiptRecord, TxParts, TxRecord
from fundtrace.chains.eth.rpc_records import parse_receipt
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, Asset, Batch, Chain, Transfer, TransferKind

ETHERSCAN_INDEX_BASE = 1 << 62

TXLIST = "txlist"
TXLISTINTERNAL = "txlistinternal"
TOKENTX = "tokentx"
PROXY_RECEIPT = "proxy_receipt"

SKIP_GENESIS = "etherscan_genesis_allocation"
SKIP_FAILED_INTERNAL = "etherscan_failed_internal"


def etherscan_index(kind: str, key: str) -> int:
    """A stable transfer index outside the range node-derived indexes use (see module doc)."""
    digest = keccak(text=f"etherscan:{kind}:{key}")
    return ETHERSCAN_INDEX_BASE + int.from_bytes(digest[:7], "big")


def classify_rows(rows: list) -> str | None:
    """Which account API action produced these rows (None for an empty list)."""
    if not rows:
        return None
    first = rows[0]
    if not isinstance(first, Mapping):
        raise ParseError("result rows are not objects", record=0)
    if "tokenDecimal" in first or "tokenSymbol" in first:
        if "tokenID" in first:
            raise ParseError("ERC-721 token rows (tokennfttx) are not fungible transfers")
        return TOKENTX
    if "traceId" in first or ("type" in first and "nonce" not in first):
        return TXLISTINTERNAL
    if "nonce" in first and "gasPrice" in first:
        return TXLIST
    raise ParseError("unrecognised Etherscan account API rows", record=0)


def result_of(body: object) -> tuple[str, object]:
    """(action, result) of one Etherscan response body."""
    if not isinstance(body, Mapping):
        raise ParseError("an Etherscan response is a JSON object")
    if "jsonrpc" in body or ("result" in body and "status" not in body):  # proxy module
        if body.get("error"):
            raise ParseError(f"proxy error: {body['error']}", field="error")
        result = body.get("result")
        if isinstance(result, Mapping):
            return PROXY_RECEIPT, result
        raise ParseError("proxy result is not a receipt", field="result")
    status = body.get("status")
    result = body.get("result")
    if status == "0":
        if result == [] or (isinstance(body.get("message"), str) and "No " in body["message"]):
            return "empty", []
        raise ParseError(f"Etherscan error: {body.get('message')}: {result}", field="result")
    if status != "1" or not isinstance(result, list):
        raise ParseError(f"unexpected Etherscan status {status!r}", field="status")
    return classify_rows(result) or "empty", result


def _addr(row: Mapping, key: str) -> str | None:
    return fields.opt_address(row.get(key), key)


def _txlist_row(row: Mapping) -> tuple[TxRecord, ReceiptRecord]:
    h = fields.tx_hash(fields.require(row, "hash"), "hash")
    tx = TxRecord(
        hash=h,
        from_address=fields.address(fields.require(row, "from"), "from"),
        to_address=_addr(row, "to"),
        value=fields.quantity(fields.require(row, "value"), "value"),
        block_number=fields.quantity(fields.require(row, "blockNumber"), "blockNumber"),
        block_hash=fields.opt_hash(row.get("blockHash"), "blockHash"),
        tx_index=fields.opt_quantity(row.get("transactionIndex"), "transactionIndex"),
        timestamp=fields.opt_quantity(row.get("timeStamp"), "timeStamp"),
        gas_price=fields.opt_quantity(row.get("gasPrice"), "gasPrice"),
    )
    receipt_status = fields.status(row.get("txreceipt_status"), "txreceipt_status")
    is_error = row.get("isError")
    if is_error not in (None, "", "0", "1"):
        raise ParseError(f"isError {is_error!r} is neither 0 nor 1", field="isError")
    # isError is Etherscan's own execution result, known before Byzantium too
    if is_error == "1" or receipt_status == 0:
        status = 0
    elif is_error == "0" or receipt_status == 1:
        status = 1
    else:
        status = None
    receipt = ReceiptRecord(
        tx_hash=h,
        gas_used=fields.opt_quantity(row.get("gasUsed"), "gasUsed"),
        status=status,
        effective_gas_price=None,  # txlist gasPrice is the price paid (checked on receipts)
        contract_address=_addr(row, "contractAddress"),
        from_address=tx.from_address,
        to_address=tx.to_address,
        block_number=tx.block_number,
        block_hash=tx.block_hash,
        tx_index=tx.tx_index,
        logs=None,
    )
    return tx, receipt


def _internal_row(row: Mapping, occurrence: int) -> tuple[str, int, int | None, Transfer | None]:
    """(tx hash, block, timestamp, transfer or None when it moved nothing)."""
    h = fields.tx_hash(fields.require(row, "hash"), "hash")
    block = fields.quantity(fields.require(row, "blockNumber"), "blockNumber")
    ts = fields.opt_quantity(row.get("timeStamp"), "timeStamp")
    if row.get("isError") == "1":
        return h, block, ts, None
    kind = str(row.get("type") or "call").lower()
    value = fields.quantity(fields.require(row, "value"), "value")
    is_create = kind in ("create", "create2")
    if value == 0 and not is_create:
        return h, block, ts, None
    to = _addr(row, "to") or (_addr(row, "contractAddress") if is_create else None)
    trace_id = str(row.get("traceId") or "")
    key = trace_id or f"{kind}:{row.get('from')}:{to}:{value}:{occurrence}"
    return (
        h,
        block,
        ts,
        Transfer(
            index=etherscan_index("internal", key),
            kind=TransferKind.INTERNAL,
            asset=NATIVE,
            from_address=_addr(row, "from"),
            to_address=to,
            amount=value,
            trace_address=f"etherscan:{trace_id}" if trace_id else None,
        ),
    )


def _token_row(row: Mapping) -> tuple[str, int, int | None, Transfer, Asset]:
    h = fields.tx_hash(fields.require(row, "hash"), "hash")
    token = fields.address(fields.require(row, "contractAddress"), "contractAddress")
    frm = fields.address(fields.require(row, "from"), "from")
    to = fields.address(fields.require(row, "to"), "to")
    decimals = fields.opt_quantity(row.get("tokenDecimal"), "tokenDecimal")
    transfer = Transfer(
        index=-1,  # assigned once receipts are known
        kind=TransferKind.TOKEN,
        asset=token,
        from_address=None if frm == fields.ZERO_ADDRESS else frm,
        to_address=None if to == fields.ZERO_ADDRESS else to,
        amount=fields.quantity(fields.require(row, "value"), "value"),
    )
    asset = Asset(
        chain=Chain.ETH,
        asset_id=token,
        symbol=row.get("tokenSymbol") or None,
        decimals=decimals if decimals is not None and decimals <= 255 else None,
        name=row.get("tokenName") or None,
    )
    return (
        h,
        fields.quantity(fields.require(row, "blockNumber"), "blockNumber"),
        fields.opt_quantity(row.get("timeStamp"), "timeStamp"),
        transfer,
        asset,
    )


def parse_etherscan(bodies: Iterable[tuple[str | None, object]]) -> Batch:
    """A batch from (source name, response body) pairs of any mix of supported actions."""
    batch = Batch(Chain.ETH)
    parts: dict[str, TxParts] = {}
    blocks_of: dict[str, int] = {}
    token_rows: dict[str, list[Transfer]] = {}
    internal_rows: dict[str, list[Transfer]] = {}
    assets: dict[str, Asset] = {}

    def part(h: str) -> TxParts:
        p = parts.get(h)
        if p is None:
            p = parts[h] = TxParts(h)
        return p

    for source, body in bodies:
        try:
            action, result = result_of(body)
        except ParseError as exc:
            raise exc.located(source=source) from None
        if action == PROXY_RECEIPT:
            try:
                receipt = parse_receipt(result)
            except ParseError as exc:
                raise exc.located(source=source, record="result") from None
            p = part(receipt.tx_hash)
            if p.receipt is not None and p.receipt.logs is None:
                # a txlist row came first: the proxy receipt is the fuller record
                receipt.status = receipt.status if receipt.status is not None else p.receipt.status
            p.receipt = receipt
            continue
        seen: dict[tuple, int] = {}
        for i, row in enumerate(result):
            try:
                if action == TXLIST:
                    if str(row.get("hash", "")).startswith("GENESIS"):
                        batch.skip(SKIP_GENESIS)
                        continue
                    tx, receipt = _txlist_row(row)
                    p = part(tx.hash)
                    p.tx = tx
                    if p.receipt is None or p.receipt.logs is None:
                        p.receipt = receipt
                    elif p.receipt.status is None:
                        p.receipt.status = receipt.status
                elif action == TXLISTINTERNAL:
                    k = (row.get("hash"), row.get("traceId"), row.get("from"), row.get("to"))
                    seen[k] = seen.get(k, -1) + 1
                    h, block, ts, transfer = _internal_row(row, seen[k])
                    blocks_of[h] = block
                    part(h).timestamp = ts
                    if transfer is None:
                        if row.get("isError") == "1":
                            batch.skip(SKIP_FAILED_INTERNAL)
                        continue
                    lst = internal_rows.setdefault(h, [])
                    if all(t.index != transfer.index for t in lst):
                        lst.append(transfer)
                else:
                    h, block, ts, transfer, asset = _token_row(row)
                    blocks_of[h] = block
                    part(h).timestamp = ts
                    token_rows.setdefault(h, []).append(transfer)
                    assets.setdefault(asset.asset_id, asset)
            except ParseError as exc:
                raise exc.located(source=source, record=i) from None

    partial = 0
    for h, p in parts.items():
        rows = _assign_token_indexes(h, token_rows.get(h, []), p.receipt)
        p.token_rows = rows
        if p.receipt is not None and p.receipt.logs is not None:
            # the receipt's logs decide; rows it covers are checked against them by the builder
            pass
        tx = build_transaction(p, batch)
        if tx.block_number is None:
            tx.block_number = blocks_of.get(h)
        if p.tx is None:
            partial += 1
        if tx.success:
            tx.transfers.extend(sorted(internal_rows.get(h, []), key=lambda t: t.index))
        batch.transactions.append(tx)
    batch.assets.extend(assets[a] for a in sorted(assets))
    batch.transactions.sort(
        key=lambda t: (t.block_number or 0, t.tx_index if t.tx_index is not None else -1, t.hash)
    )
    if partial:
        batch.warnings.append(
            f"{partial} transaction(s) seen only in internal/token lists (not in txlist): "
            "sender, value and fee unknown"
        )
    if batch.skipped.get(SKIP_GENESIS):
        batch.warnings.append(
            f"{batch.skipped[SKIP_GENESIS]} genesis allocation pseudo-row(s) skipped "
            "(balances at block 0, not transactions)"
        )
    return batch


def _assign_token_indexes(
    tx_hash: str, rows: list[Transfer], receipt: ReceiptRecord | None
) -> list[Transfer]:
    """Give each tokentx row its log index from the receipt, or a stable Etherscan key."""
    logs: dict[int, Transfer] = {}
    if receipt is not None and receipt.logs is not None:
        for log in receipt.logs:
            t = erc20.decode_log(log)
            if isinstance(t, Transfer):
                logs[t.index] = t
    used: set[int] = set()
    out = []
    occurrences: dict[tuple, int] = {}
    for row in rows:
        match = next(
            (
                i
                for i, t in sorted(logs.items())
                if i not in used
                and (t.asset, t.from_address, t.to_address, t.amount)
                == (row.asset, row.from_address, row.to_address, row.amount)
            ),
            None,
        )
        if match is not None:
            used.add(match)
            row.index = match
        elif receipt is not None and receipt.logs is not None:
            raise ParseError(
                f"tokentx row {row.asset} {row.amount} matches no Transfer log of its receipt",
                record=tx_hash,
            )
        else:
            k = (row.asset, row.from_address, row.to_address, row.amount)
            occurrences[k] = occurrences.get(k, -1) + 1
            row.index = etherscan_index(
                "token",
                f"{row.asset}:{row.from_address}:{row.to_address}:{row.amount}:{occurrences[k]}",
            )
        out.append(row)
    return out


def parse_etherscan_files(paths: Iterable[str | Path]) -> Batch:
    bodies = []
    for p in paths:
        try:
            bodies.append((str(p), json.loads(Path(p).read_text())))
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", source=str(p)) from None
    return parse_etherscan(bodies)
