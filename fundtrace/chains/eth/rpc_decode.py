"""Typed decoding of the bulk of node output (full blocks and receipts) straight from JSON bytes.

Why this exists: on a large import most of the time went into building Python dicts for fields
nothing reads (``logsBloom``, ``input``, ``raw``, signatures...) and then validating the few
that matter through generic helpers. msgspec decodes into typed structs and skips unknown
fields without materialising them; the fields we keep are then checked with direct tests.

Exactness is kept by construction rather than re-implemented: this path only accepts the
common, well-formed shape (JSON-RPC envelopes or batches of them, bare full blocks, receipts
and ``eth_getBlockReceipts`` lists, every checked field a plain 0x string). Any document that
is anything else, or fails any check here, is handed whole to the generic dict path
(``rpc.records_from_json``), so rare shapes and error messages behave exactly as there.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:
    import msgspec
    from msgspec import UNSET, Raw, Struct, UnsetType
except ImportError:  # pragma: no cover - the generic path still works without msgspec
    msgspec = None

from fundtrace.chains.eth.records import LogRecord, ReceiptRecord, TxRecord
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Block, Chain

BLOCK = "eth.block"
RECEIPT = "eth.receipt"
RECEIPTS = "eth.receipts"


class Fallback(Exception):
    """This document is not in the shape the typed path handles."""


# Parsed records travel in the (kind, record) lists next to dicts: a block as a
# ``(Block, [TxRecord])`` tuple, a receipt as a ``ReceiptRecord``; ``rpc._Joiner`` tells them
# apart by type, so the generic path's dicts and these mix freely in one import.


if msgspec is not None:
    from typing import Annotated

    # Checked by msgspec while decoding (in C); a mismatch is a ValidationError, and the
    # document then takes the generic path, which words the error. ``\\Z``: no trailing newline.
    # Hashes and addresses only get their length checked here; their digits are checked a
    # document at a time (``_HASHES``/``_ADDRS`` over the concatenation: with every piece of
    # fixed length, the concatenation matches exactly when each piece does). Quantities are
    # checked the same way for their 0x prefix (``_QTYS``; a piece hiding the "," separator
    # cannot pass ``int(q, 16)``), and ``int(q, 16)`` then accepts exactly what the generic
    # reader accepts. One regex per document is far cheaper than one per field.
    Hash = Annotated[str, msgspec.Meta(min_length=66, max_length=66)]
    Addr = Annotated[str, msgspec.Meta(min_length=42, max_length=42)]
    Qty = str
    Data = Annotated[str, msgspec.Meta(pattern=r"^0x(?:[0-9a-fA-F]{2})*\Z")]

    class _Log(Struct, gc=False):
        address: Addr
        topics: list[Hash]
        data: Data
        logIndex: Qty
        transactionHash: Hash | UnsetType | None = UNSET
        blockNumber: Qty | UnsetType | None = UNSET
        removed: bool = False

    class _Tx(Struct, gc=False):
        hash: Hash
        from_: Addr = msgspec.field(name="from")
        value: Qty
        to: Addr | UnsetType | None = UNSET
        blockNumber: Qty | UnsetType | None = UNSET
        blockHash: Hash | UnsetType | None = UNSET
        transactionIndex: Qty | UnsetType | None = UNSET
        gasPrice: Qty | UnsetType | None = UNSET
        type: Qty | UnsetType | None = UNSET

    class _Doc(Struct, gc=False):
        # JSON-RPC envelope
        jsonrpc: Raw | UnsetType = UNSET
        id: Raw | UnsetType = UNSET
        result: Raw | UnsetType = UNSET
        error: Raw | UnsetType = UNSET
        # block (shared with the receipt: none)
        number: Qty | UnsetType = UNSET
        hash: Hash | UnsetType = UNSET
        timestamp: Qty | UnsetType = UNSET
        transactions: list[_Tx] | UnsetType = UNSET
        parentHash: Hash | UnsetType | None = UNSET
        miner: Addr | UnsetType | None = UNSET
        # receipt
        transactionHash: Hash | UnsetType = UNSET
        gasUsed: Qty | UnsetType = UNSET
        logs: list[_Log] | UnsetType = UNSET
        status: Qty | UnsetType | None = UNSET
        effectiveGasPrice: Qty | UnsetType | None = UNSET
        contractAddress: Addr | UnsetType | None = UNSET
        from_: Addr | UnsetType | None = msgspec.field(name="from", default=UNSET)
        to: Addr | UnsetType | None = UNSET
        blockHash: Hash | UnsetType | None = UNSET
        blockNumber: Qty | UnsetType | None = UNSET
        transactionIndex: Qty | UnsetType | None = UNSET

    class _Envelope(Struct, forbid_unknown_fields=True, gc=False):
        jsonrpc: Raw | UnsetType = UNSET
        id: Raw | UnsetType = UNSET
        result: Raw | UnsetType = UNSET
        error: Raw | UnsetType = UNSET

    _DOC = msgspec.json.Decoder(_Doc)
    _DOCS = msgspec.json.Decoder(list[_Doc])
    _ENVELOPES = msgspec.json.Decoder(list[_Envelope])
    _ENVELOPE = msgspec.json.Decoder(_Envelope)
    _NO = (UNSET, None)
else:  # pragma: no cover
    _NO = (None,)


_HASHES = re.compile(r"(?:0x[0-9a-fA-F]{64})*").fullmatch
_ADDRS = re.compile(r"(?:0x[0-9a-fA-F]{40})*").fullmatch
_QTYS = re.compile(r"(?:0x[0-9a-fA-F]*,)*").fullmatch


def available() -> bool:
    return msgspec is not None


def _block(d: _Doc) -> tuple[Block, list[TxRecord]]:
    if d.timestamp is UNSET:  # a block without a timestamp: the dict path names the field
        raise Fallback
    number = int(d.number, 16)
    timestamp = int(d.timestamp, 16)
    block_hash = d.hash.lower()
    raw_txs = d.transactions
    parent = d.parentHash
    miner = d.miner
    block = Block(
        Chain.ETH,
        number,
        block_hash,
        timestamp,
        None if parent in _NO else parent.lower(),
        len(raw_txs),
        None if miner in _NO else miner.lower(),
    )
    if not _HASHES(d.hash + (parent or "") + "".join([t.hash for t in raw_txs])) or not _ADDRS(
        (miner or "")
        + "".join([t.from_ for t in raw_txs])
        + "".join([t.to for t in raw_txs if t.to not in _NO])
    ):
        raise Fallback
    txs = []
    append = txs.append
    qs = [d.number, d.timestamp]
    q = qs.append
    for t in raw_txs:
        bn = t.blockNumber
        bh = t.blockHash
        to = t.to
        idx = t.transactionIndex
        gp = t.gasPrice
        tp = t.type
        q(t.value)
        if bn not in _NO:
            q(bn)
        if idx not in _NO:
            q(idx)
        if gp not in _NO:
            q(gp)
        if tp not in _NO:
            q(tp)
        # a transaction naming another block is an error: the generic path words it
        if (bn not in _NO and int(bn, 16) != number) or (
            bh not in _NO and (bh.lower() != block_hash)
        ):
            raise Fallback
        append(
            TxRecord(
                t.hash.lower(),
                t.from_.lower(),
                None if to in _NO else to.lower(),
                int(t.value, 16),
                number,
                block_hash,
                None if idx in _NO else int(idx, 16),
                timestamp,
                None if gp in _NO else int(gp, 16),
                0 if tp in _NO else int(tp, 16),
            )
        )
    if not _QTYS(",".join(qs) + ","):
        raise Fallback
    return block, txs


def _receipt(d: _Doc) -> ReceiptRecord:
    status = d.status
    if status in _NO:
        st = None
    else:
        st = int(status, 16)
        if st > 1:
            raise Fallback
    logs = []
    hashes = [d.transactionHash]
    addrs = []
    qs = [d.gasUsed]
    for x in (d.blockHash,):
        if x not in _NO:
            hashes.append(x)
    for x in (d.contractAddress, d.from_, d.to):
        if x not in _NO:
            addrs.append(x)
    for x in (status, d.effectiveGasPrice, d.blockNumber, d.transactionIndex):
        if x not in _NO:
            qs.append(x)
    for g in d.logs:
        hashes.extend(g.topics)
        if g.transactionHash not in _NO:
            hashes.append(g.transactionHash)
        addrs.append(g.address)
        qs.append(g.logIndex)
        if g.blockNumber not in _NO:
            qs.append(g.blockNumber)
    if not _HASHES("".join(hashes)) or not _ADDRS("".join(addrs)) or not _QTYS(",".join(qs) + ","):
        raise Fallback
    for g in d.logs:
        th = g.transactionHash
        bn = g.blockNumber
        logs.append(
            LogRecord(
                None if th in _NO else th.lower(),
                int(g.logIndex, 16),
                g.address.lower(),
                tuple([t.lower() for t in g.topics]),
                g.data.lower(),
                None if bn in _NO else int(bn, 16),
                g.removed,
            )
        )
    egp = d.effectiveGasPrice
    ca = d.contractAddress
    fr = d.from_
    to = d.to
    bn = d.blockNumber
    bh = d.blockHash
    idx = d.transactionIndex
    return ReceiptRecord(
        d.transactionHash.lower(),
        int(d.gasUsed, 16),
        st,
        None if egp in _NO else int(egp, 16),
        None if ca in _NO else ca.lower(),
        None if fr in _NO else fr.lower(),
        None if to in _NO else to.lower(),
        None if bn in _NO else int(bn, 16),
        None if bh in _NO else bh.lower(),
        None if idx in _NO else int(idx, 16),
        logs,
    )


def _bare(d: _Doc) -> tuple[str, object]:
    """Same precedence as ``rpc.classify``: a block first, then a receipt."""
    if d.transactions is not UNSET and d.number is not UNSET and d.hash is not UNSET:
        return BLOCK, _block(d)
    if d.transactionHash is not UNSET and d.logs is not UNSET and d.gasUsed is not UNSET:
        return RECEIPT, _receipt(d)
    raise Fallback


def _has_envelope_keys(d: _Doc) -> bool:
    return d.result is not UNSET or d.error is not UNSET


def _result(raw: Raw) -> tuple[str, object]:
    """The record of an envelope's ``result`` (a block, a receipt or a list of receipts)."""
    body = bytes(raw).lstrip()
    if body[:1] == b"[":
        docs = _DOCS.decode(body)
        if not docs:
            raise Fallback
        return RECEIPTS, [_receipt_only(x) for x in docs]
    return _bare(_DOC.decode(body))


def _receipt_only(d: _Doc) -> ReceiptRecord:
    if (
        d.transactionHash is UNSET
        or d.logs is UNSET
        or d.gasUsed is UNSET
        or _has_envelope_keys(d)
        or d.transactions is not UNSET
    ):
        raise Fallback
    return _receipt(d)


def _fast_doc(body: bytes) -> list[tuple[str, object]]:
    body = body.lstrip()
    if body[:1] == b"[":
        items = _DOCS.decode(body)
        if not items:
            raise Fallback
        if all(_has_envelope_keys(x) for x in items):
            envs = _ENVELOPES.decode(body)  # every key must be an envelope key
            out = []
            for e in envs:
                if e.error is not UNSET or e.result is UNSET:
                    raise Fallback
                out.append(_result(e.result))
            return out
        return [(RECEIPTS, [_receipt_only(x) for x in items])]
    d = _DOC.decode(body)
    if _has_envelope_keys(d):
        e = _ENVELOPE.decode(body)
        if e.error is not UNSET or e.result is UNSET:
            raise Fallback
        return [_result(e.result)]
    return [_bare(d)]


def records_from_bytes(data: bytes, *, source: str | None = None) -> list[tuple[str, object]]:
    """Records of a file's bytes: one JSON document, or JSON lines of them.

    Mirrors ``rpc.load_json_records`` (which returns dicts): the whole text is tried as one
    document first, and an unparsable line is an error naming its line number.
    """
    from fundtrace.chains.eth.rpc import records_from_json

    if msgspec is not None:
        try:
            return _fast_doc(data)
        except msgspec.ValidationError:
            pass
        except msgspec.DecodeError as exc:
            if "trailing characters" in str(exc):  # a complete document, then more: lines
                return _lines(data, source)
        except (Fallback, ValueError):
            pass
    try:
        # decoded as UTF-8 first: given bytes, json guesses UTF-16/32 from NUL bytes and words
        # a stray NUL as a codec error instead of invalid JSON
        whole: Any = json.loads(data.decode("utf-8"))
    except ValueError:  # several documents (JSON lines), or invalid JSON
        return _lines(data, source)
    return records_from_json(whole, source=source)


def _lines(data: bytes, source: str | None) -> list[tuple[str, object]]:
    from fundtrace.chains.eth.rpc import records_from_json

    out: list[tuple[str, object]] = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        if msgspec is not None:
            try:
                out.extend(_fast_doc(line))
                continue
            except (Fallback, ValueError, msgspec.ValidationError, msgspec.DecodeError):
                pass
        try:
            doc: Any = json.loads(line.decode("utf-8"))
        except ValueError as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise ParseError(f"invalid JSON: {msg}", source=source, record=n) from None
        out.extend(records_from_json(doc, source=source))
    return out
