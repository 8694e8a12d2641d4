"""Join raw Ethereum JSON-RPC results (blocks, receipts, traces, logs) into a canonical Batch.

Node responses arrive as separate documents in any order (a block file, a receipts file, a
traces file...). They are recognised by shape (``classify``), joined by block and transaction
hash, and only then turned into transactions, so no transaction is ever stored from half its
facts without saying so: a block whose receipts are missing is an error naming the block (fee
and status would be unknown), while missing traces only cost the internal transfers and are
reported in ``Batch.warnings``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from fundtrace.chains.eth import fields
from fundtrace.chains.eth.build import build_transaction
from fundtrace.chains.eth.records import Frame, ReceiptRecord, TxParts
from fundtrace.chains.eth.rpc_bulk import bulk_batch
from fundtrace.chains.eth.rpc_decode import records_from_bytes
from fundtrace.chains.eth.rpc_records import parse_block, parse_log, parse_receipt, parse_tx
from fundtrace.chains.eth.traces import SKIP_REWARD, frames_from_geth, group_parity_traces
from fundtrace.core.bulk import gc_paused
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Block, Chain

BLOCK = "eth.block"
RECEIPT = "eth.receipt"
RECEIPTS = "eth.receipts"
PARITY_TRACES = "eth.parity_traces"
GETH_BLOCK_TRACES = "eth.geth_block_traces"
GETH_CALL = "eth.geth_call"
GETH_TX_TRACE = "eth.geth_tx_trace"  # {"txHash", "result"}: one debug_traceTransaction, keyed
TX = "eth.tx"
LOGS = "eth.logs"
EMPTY = "eth.empty"  # [] : e.g. trace_block of a block without transactions
NULL = "eth.null"  # null result: e.g. a receipt for an unknown hash
CALL_RESULT = "eth.call_result"  # 0x-hex eth_call output: state, not history; not imported

SKIP_DUPLICATE_TRACES = "duplicate_trace_set"
SKIP_CALL_RESULT = "eth_call_result"

_GETH_FRAME_TYPES = {"CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2"}


def _is_geth_frame(obj: Mapping) -> bool:
    return str(obj.get("type", "")).upper() in _GETH_FRAME_TYPES and "from" in obj


def classify(obj: object) -> str | None:
    """The kind of a bare JSON-RPC result, recognised by its shape; None if not Ethereum."""
    if isinstance(obj, Mapping):
        if "transactions" in obj and "number" in obj and "hash" in obj:
            return BLOCK
        if "transactionHash" in obj and "logs" in obj and "gasUsed" in obj:
            return RECEIPT
        if "hash" in obj and "from" in obj and "nonce" in obj and "input" in obj:
            return TX
        if "result" in obj and "txHash" in obj and isinstance(obj["result"], (Mapping, list)):
            return GETH_TX_TRACE
        if "result" in obj and "blockNumber" in obj and isinstance(obj["result"], list):
            return GETH_BLOCK_TRACES
        if _is_geth_frame(obj):
            return GETH_CALL
        return None
    if isinstance(obj, list):
        if not obj:
            return EMPTY
        first = obj[0]
        if not isinstance(first, Mapping):
            return None
        if "action" in first and "traceAddress" in first:
            return PARITY_TRACES
        if "transactionHash" in first and "logs" in first and "gasUsed" in first:
            return RECEIPTS
        if "topics" in first and "data" in first and "logIndex" in first:
            return LOGS
        if "result" in first and (
            "txHash" in first or isinstance(first.get("result"), (Mapping, list))
        ):
            return GETH_BLOCK_TRACES
        return None
    if isinstance(obj, str) and obj.startswith("0x"):
        return CALL_RESULT
    if obj is None:
        return NULL
    return None


_ENVELOPE_KEYS = frozenset({"jsonrpc", "id", "result", "error"})


def _is_envelope(obj: object) -> bool:
    return (
        isinstance(obj, Mapping)
        and ("result" in obj or "error" in obj)
        and _ENVELOPE_KEYS.issuperset(obj.keys())
    )


def _is_pair(obj: object) -> bool:
    return isinstance(obj, Mapping) and "request" in obj and "response" in obj


def _from_response(response: Mapping, request: Mapping | None, *, where: str) -> tuple[str, object]:
    if "error" in response and response.get("error") is not None:
        raise ParseError(f"JSON-RPC error response: {response['error']}", record=where)
    result = response.get("result")
    method = request.get("method") if request else None
    params = request.get("params") if request else None
    if method == "debug_traceTransaction" and isinstance(result, Mapping) and params:
        return GETH_TX_TRACE, {"txHash": params[0], "result": result}
    if (
        method == "debug_traceBlockByNumber"
        and isinstance(result, list)
        and params
        and any(isinstance(e, Mapping) and "txHash" not in e for e in result)
    ):
        number = fields.quantity(params[0], "params[0]")
        return GETH_BLOCK_TRACES, {"blockNumber": number, "result": result}
    kind = classify(result)
    if kind is None:
        raise ParseError(f"unrecognised Ethereum {method or 'RPC'} result", record=where)
    return kind, result


def records_from_json(doc: object, *, source: str | None = None) -> list[tuple[str, object]]:
    """(kind, result) records of one JSON document.

    A document is a JSON-RPC response ``{"jsonrpc","id","result"}``, a bare result, a
    ``{"request","response"}`` pair (the request tells which transaction/block a geth trace
    belongs to), or a JSON array (batch) of responses or pairs.
    """
    try:
        if _is_envelope(doc):
            return [_from_response(doc, None, where="response")]
        if _is_pair(doc):
            return [_from_response(doc["response"], doc["request"], where="pair")]
        if isinstance(doc, list) and doc and all(_is_envelope(d) or _is_pair(d) for d in doc):
            out = []
            for i, d in enumerate(doc):
                if _is_pair(d):
                    out.append(_from_response(d["response"], d["request"], where=f"item {i}"))
                else:
                    out.append(_from_response(d, None, where=f"item {i}"))
            return out
        kind = classify(doc)
        if kind is None:
            raise ParseError("not a recognised Ethereum JSON-RPC result")
        return [(kind, doc)]
    except ParseError as exc:
        raise exc.located(source=source) from None


def load_json_records(path: str | Path) -> list[tuple[str, object]]:
    """Records of a file holding one JSON document or JSON lines of them."""
    path = Path(path)
    text = path.read_text()
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ParseError(
                        f"invalid JSON: {exc.msg}", source=str(path), record=n
                    ) from None
    out = []
    for doc in docs:
        out.extend(records_from_json(doc, source=str(path)))
    return out


class _Joiner:
    """Collects parts per transaction hash; builds the batch once everything is in."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.batch = Batch(Chain.ETH)
        self.parts: dict[str, TxParts] = {}
        self.blocks: dict[int, Block] = {}
        self.block_txs: dict[int, list[str]] = {}
        self.standalone: list[str] = []
        self.trace_given = False
        self.positional: list[tuple[int, list]] = []

    def err(self, exc: ParseError, record: str) -> ParseError:
        return exc.located(source=self.source, record=record)

    def part(self, tx_hash: str) -> TxParts:
        p = self.parts.get(tx_hash)
        if p is None:
            p = self.parts[tx_hash] = TxParts(tx_hash)
        return p

    def add_block(self, obj: object, i: int) -> None:
        if type(obj) is tuple:  # already parsed by rpc_decode
            block, txs = obj
        else:
            try:
                block, txs = parse_block(obj)
            except ParseError as exc:
                raise self.err(exc, f"block {i}") from None
        known = self.blocks.get(block.number)
        if known is not None:
            if known.hash != block.hash:
                raise ParseError(
                    f"two different blocks at height {block.number}: {known.hash} and {block.hash}",
                    source=self.source,
                    record=f"block {block.number}",
                    field="hash",
                )
            return
        self.blocks[block.number] = block
        self.block_txs[block.number] = [t.hash for t in txs]
        parts = self.parts
        for t in txs:
            p = parts.get(t.hash)
            if p is None:
                parts[t.hash] = TxParts(t.hash, t)
            else:
                p.tx = t

    def add_tx(self, obj: object, i: int) -> None:
        try:
            tx = parse_tx(obj)
        except ParseError as exc:
            raise self.err(exc, f"transaction {i}") from None
        p = self.part(tx.hash)
        if p.tx is None:
            p.tx = tx
            self.standalone.append(tx.hash)
        elif (p.tx.from_address, p.tx.to_address, p.tx.value) != (
            tx.from_address,
            tx.to_address,
            tx.value,
        ):
            raise ParseError(
                "transaction differs from the same hash in its block",
                source=self.source,
                record=tx.hash,
            )

    def add_receipt(self, obj: object, i: int) -> None:
        if type(obj) is ReceiptRecord:  # already parsed by rpc_decode
            receipt = obj
        else:
            try:
                receipt = parse_receipt(obj)
            except ParseError as exc:
                raise self.err(exc, f"receipt {i}") from None
        p = self.parts.get(receipt.tx_hash)
        if p is None:
            self.parts[receipt.tx_hash] = TxParts(receipt.tx_hash, receipt=receipt)
        else:
            p.receipt = receipt

    def add_logs(self, objs: list, i: int) -> None:
        for j, obj in enumerate(objs):
            try:
                log = parse_log(obj)
            except ParseError as exc:
                raise self.err(exc, f"logs {i} item {j}") from None
            if log.tx_hash is None:
                raise ParseError(
                    "log without transactionHash (pending?)",
                    source=self.source,
                    record=f"logs {i} item {j}",
                    field="transactionHash",
                )
            p = self.part(log.tx_hash)
            if p.logs is None:
                p.logs = []
            if all(x.log_index != log.log_index for x in p.logs):
                p.logs.append(log)

    def set_frames(self, tx_hash: str, frames: list[Frame]) -> None:
        self.trace_given = True
        p = self.part(tx_hash)
        if p.frames is not None:
            self.batch.skip(SKIP_DUPLICATE_TRACES)
            return
        p.frames = frames

    def add_parity(self, traces: list, i: int) -> None:
        try:
            by_tx, rewards, orphans = group_parity_traces(traces)
        except ParseError as exc:
            raise self.err(exc, f"traces {i}") from None
        if rewards:
            self.batch.skip(SKIP_REWARD, rewards)
        if orphans:
            raise ParseError(
                "call trace without transactionHash", source=self.source, record=f"traces {i}"
            )
        for h, frames in by_tx.items():
            self.set_frames(h, frames)
        self.trace_given = True

    def add_geth_entry(self, entry: object, where: str, tx_hash: str | None) -> None:
        if not isinstance(entry, Mapping):
            raise ParseError("trace entry is not an object", source=self.source, record=where)
        if entry.get("error"):
            raise ParseError(
                f"tracer failed: {entry['error']}", source=self.source, record=where, field="error"
            )
        result = entry.get("result")
        try:
            if isinstance(result, list):  # flatCallTracer: Parity-format items
                by_tx, rewards, orphans = group_parity_traces(result)
                if rewards:
                    self.batch.skip(SKIP_REWARD, rewards)
                if orphans and tx_hash is not None:
                    by_tx.setdefault(tx_hash, []).extend(orphans)
                for h, frames in by_tx.items():
                    self.set_frames(h, frames)
                self.trace_given = True
                return
            if not isinstance(result, Mapping):
                raise ParseError("trace result is neither a call frame nor a list", field="result")
            h = fields.tx_hash(tx_hash, "txHash")
            self.set_frames(h, frames_from_geth(result, tx_hash=h))
        except ParseError as exc:
            raise self.err(exc, where) from None

    def add_geth_block(self, obj: object, i: int) -> None:
        block_number = None
        entries = obj
        if isinstance(obj, Mapping):
            block_number = fields.quantity(obj.get("blockNumber"), "blockNumber")
            entries = obj["result"]
        self.trace_given = True
        positional = []
        for j, entry in enumerate(entries):
            h = entry.get("txHash") if isinstance(entry, Mapping) else None
            if (
                h is None
                and isinstance(entry, Mapping)
                and isinstance(entry.get("result"), Mapping)
            ):
                positional.append((j, entry))
                continue
            self.add_geth_entry(entry, f"traces {i} item {j}", h)
        if positional:
            if block_number is None:
                raise ParseError(
                    "debug_traceBlock entries without txHash: the block number is needed to "
                    'join them (wrap as {"blockNumber": N, "result": [...]} or keep the request)',
                    source=self.source,
                    record=f"traces {i}",
                    field="txHash",
                )
            self.positional.append((block_number, [(f"traces {i}", j, e) for j, e in positional]))

    def resolve_positional(self) -> None:
        for number, items in self.positional:
            hashes = self.block_txs.get(number)
            if hashes is None:
                raise ParseError(
                    f"traces of block {number} are positional (no txHash) but the block is "
                    "not in this import",
                    source=self.source,
                    record=f"block {number}",
                )
            for where, j, entry in items:
                if j >= len(hashes):
                    raise ParseError(
                        f"block {number} has {len(hashes)} transactions, trace entry {j} has none",
                        source=self.source,
                        record=where,
                    )
                self.add_geth_entry(entry, f"{where} item {j}", hashes[j])

    def finish(self) -> Batch:
        self.resolve_positional()
        batch = self.batch
        for number, hashes in self.block_txs.items():
            missing = [h for h in hashes if self.parts[h].receipt is None]
            if missing:
                raise ParseError(
                    f"block {number} ({self.blocks[number].hash}) has {len(hashes)} transactions "
                    f"but {len(missing)} receipts are missing (first {missing[0]}); add its "
                    "receipts (eth_getBlockReceipts) so fees and status are known",
                    source=self.source,
                    record=f"block {number}",
                    field="receipts",
                )
        for h in self.standalone:
            if self.parts[h].receipt is None:
                raise ParseError(
                    "transaction without its receipt (eth_getTransactionReceipt)",
                    source=self.source,
                    record=h,
                    field="receipt",
                )
        batch.blocks.extend(self.blocks[n] for n in sorted(self.blocks))
        no_trace = 0
        partial = 0
        for h, p in self.parts.items():
            if p.tx is None:
                partial += 1
            elif not p.frames:
                no_trace += 1
            if p.tx is not None and p.receipt is not None:
                r, t = p.receipt, p.tx
                if r.block_hash and t.block_hash and r.block_hash != t.block_hash:
                    raise ParseError(
                        f"receipt is from block {r.block_hash}, transaction from {t.block_hash}",
                        source=self.source,
                        record=h,
                        field="blockHash",
                    )
            try:
                batch.transactions.append(build_transaction(p, batch))
            except ParseError as exc:
                raise self.err(exc, h) from None
        if no_trace:
            if self.trace_given:
                batch.warnings.append(
                    f"{no_trace} transaction(s) without traces: only top-level value and token "
                    "transfers are known for them, internal transfers are missing"
                )
            else:
                batch.warnings.append(
                    "no traces given: only top-level values and token transfers are known, "
                    "internal (contract-to-address) transfers are missing"
                )
        if partial:
            batch.warnings.append(
                f"{partial} transaction(s) known only from receipts/traces/logs, without the "
                "transaction object: value or sender may be missing"
            )
        n_unknown = batch.skipped.pop("status_unknown_pre_byzantium", 0)
        if n_unknown:
            batch.warnings.append(
                f"{n_unknown} pre-Byzantium transaction(s) without traces: the receipt has no "
                "status, so a failure cannot be seen; they are recorded as successful"
            )
        batch.transactions.sort(
            key=lambda t: (
                t.block_number if t.block_number is not None else -1,
                t.tx_index if t.tx_index is not None else -1,
                t.hash,
            )
        )
        return batch


def assemble(
    blocks: Iterable[object],
    receipts: Iterable[object],
    traces: Iterable[object] = (),
    *,
    source: str | None = None,
    transactions: Iterable[object] = (),
    logs: Iterable[list] = (),
) -> Batch:
    """Join full blocks, receipts (single or ``eth_getBlockReceipts`` lists), traces
    (``trace_block``/``trace_transaction`` lists, ``debug_traceBlockByNumber`` results,
    ``{"txHash","result"}`` callTracer results), standalone transactions and ``eth_getLogs``
    lists into one batch. Inputs are bare results (envelopes already removed)."""
    j = _Joiner(source)
    for i, b in enumerate(blocks):
        j.add_block(b, i)
    for i, t in enumerate(transactions):
        j.add_tx(t, i)
    n = 0
    for r in receipts:
        for one in r if isinstance(r, list) else (r,):
            j.add_receipt(one, n)
            n += 1
    for i, tr in enumerate(traces):
        kind = classify(tr)
        if kind == PARITY_TRACES:
            j.add_parity(tr, i)
        elif kind == GETH_BLOCK_TRACES:
            j.add_geth_block(tr, i)
        elif kind == GETH_TX_TRACE:
            j.add_geth_entry(tr, f"traces {i}", tr["txHash"])
        elif kind == GETH_CALL:
            raise ParseError(
                'callTracer result without its transaction hash: wrap as {"txHash", "result"}',
                source=source,
                record=f"traces {i}",
            )
        elif kind == EMPTY:
            j.trace_given = True
        else:
            raise ParseError("not a trace result", source=source, record=f"traces {i}")
    for i, lg in enumerate(logs):
        j.add_logs(lg, i)
    return j.finish()


def assemble_records(records: Iterable[tuple[str, object]], *, source: str | None = None) -> Batch:
    """A batch from (kind, result) records as ``records_from_json``/``classify`` name them."""
    blocks: list = []
    receipts: list = []
    traces: list = []
    txs: list = []
    logs: list = []
    nulls = 0
    calls = 0
    for kind, obj in records:
        if kind == BLOCK:
            blocks.append(obj)
        elif kind in (RECEIPT, RECEIPTS):
            receipts.append(obj)
        elif kind in (PARITY_TRACES, GETH_BLOCK_TRACES, GETH_TX_TRACE, GETH_CALL):
            traces.append(obj)
        elif kind == TX:
            txs.append(obj)
        elif kind == LOGS:
            logs.append(obj)
        elif kind == EMPTY:
            traces.append([])
        elif kind == NULL:
            nulls += 1
        elif kind == CALL_RESULT:
            calls += 1
        else:
            raise ParseError(f"record kind {kind!r} is not an Ethereum RPC result", source=source)
    batch = assemble(blocks, receipts, traces, source=source, transactions=txs, logs=logs)
    if nulls:
        batch.warnings.append(f"{nulls} null result(s) (unknown hash or block) ignored")
    if calls:
        batch.skip(SKIP_CALL_RESULT, calls)
    return batch


def parse_rpc_bytes(data: bytes, *, source: str | None = None) -> Batch:
    """A batch from the bytes of one file of raw node responses (one document or JSON lines).

    Same result as ``assemble_records(load_json_records(path))``. Files of only full blocks and
    their receipts (the bulk import) take ``rpc_bulk``; other full blocks and receipts take the
    typed decoder in ``rpc_decode``; both are several times faster than dicts.
    """
    with gc_paused():
        batch = bulk_batch([data])
        if batch is not None:
            return batch
        return assemble_records(records_from_bytes(data, source=source), source=source)


def parse_rpc_files(paths: Iterable[str | Path]) -> Batch:
    """One batch from files of raw node responses, joined across files."""
    names = [str(p) for p in paths]
    with gc_paused():
        try:
            contents: list[bytes] | None = [Path(p).read_bytes() for p in names]
        except OSError:
            contents = None  # raised below, after the errors of the files before it
        if contents is not None:
            batch = bulk_batch(contents)
            if batch is not None:
                return batch
        records: list[tuple[str, object]] = []
        for i, name in enumerate(names):
            data = contents[i] if contents is not None else Path(name).read_bytes()
            records.extend(records_from_bytes(data, source=name))
        return assemble_records(records, source=names[0] if len(names) == 1 else None)
