"""Bulk node output (full blocks and their receipts only) straight to a canonical Batch.

Why this exists: a bulk import is almost always the same shape, JSON lines of
``eth_getBlockByNumber(n, true)`` results and their receipts. For that shape the general
machinery (typed records per document, then ``rpc._Joiner`` over intermediate records, then a
sort) spent most of its time building objects that were thrown away. Here the msgspec structs
are joined and turned into ``Transaction``/``Transfer`` objects in one pass, and every string
field is checked once per file instead of once per value.

Exactness is kept the same way as in ``rpc_decode``: this path accepts only the clean shape
(each block and receipt once, every receipt matching one block transaction, lowercase hex, plain
0x quantities, no traces, logs or standalone transactions in the input). Anything else, or any
failed check, returns None and the caller runs the general path, which words every error; the
tests hold this path to the general one's Batch on every fixture and on generated documents.

The same join has a C twin (``bulk_native.c``, built where a compiler is at hand), tried first:
it builds the same objects without running the interpreter loop per transaction, and declines
(None) whatever it does not read, which then comes here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Annotated

import msgspec
from msgspec import UNSET, Raw, Struct, UnsetType

from fundtrace.chains.eth.build import SKIP_REMOVED_LOG
from fundtrace.chains.eth.erc20 import SKIP_ERC721, SKIP_NONSTANDARD, TRANSFER_TOPIC
from fundtrace.core.bulk import slot_fields
from fundtrace.core.model import NATIVE, Batch, Block, Chain, Transaction, Transfer, TransferKind

# Lengths are checked by msgspec while decoding (in C); digits, the 0x prefix and lowercase are
# checked a file at a time by ``_all_hex``.
Hash = Annotated[str, msgspec.Meta(min_length=66, max_length=66)]
Addr = Annotated[str, msgspec.Meta(min_length=42, max_length=42)]


class _Log(Struct, gc=False):
    address: Addr
    topics: list[Hash]
    data: str
    logIndex: str
    transactionHash: Hash | None = None
    blockNumber: str | None = None
    removed: bool = False


class _Tx(Struct, gc=False):
    hash: Hash
    from_: Addr = msgspec.field(name="from")
    value: str
    to: Addr | None = None
    blockNumber: str | None = None
    blockHash: Hash | None = None
    transactionIndex: str | None = None
    gasPrice: str | None = None
    type: str | None = None


class _Doc(Struct, gc=False):
    # keys that make a document something else: a JSON-RPC response, a request/response pair
    result: Raw | UnsetType = UNSET
    error: Raw | UnsetType = UNSET
    request: Raw | UnsetType = UNSET
    response: Raw | UnsetType = UNSET
    # block (UNSET: the key is absent, which is what ``rpc.classify`` looks at)
    number: str | UnsetType | None = UNSET
    hash: Hash | UnsetType | None = UNSET
    transactions: list[_Tx] | UnsetType | None = UNSET
    timestamp: str | None = None
    parentHash: Hash | None = None
    miner: Addr | None = None
    # receipt
    transactionHash: Hash | UnsetType | None = UNSET
    gasUsed: str | UnsetType | None = UNSET
    logs: list[_Log] | UnsetType | None = UNSET
    status: str | None = None
    effectiveGasPrice: str | None = None
    contractAddress: Addr | None = None
    from_: Addr | None = msgspec.field(name="from", default=None)
    to: Addr | None = None
    blockHash: Hash | None = None
    blockNumber: str | None = None
    transactionIndex: str | None = None


class _Envelope(Struct, forbid_unknown_fields=True, gc=False):
    jsonrpc: Raw | UnsetType = UNSET
    id: Raw | UnsetType = UNSET
    result: Raw | UnsetType = UNSET
    error: Raw | UnsetType = UNSET


_DOC = msgspec.json.Decoder(_Doc | list[_Doc])
_ENVELOPE = msgspec.json.Decoder(_Envelope)


class Fallback(Exception):
    """Not the clean blocks-and-receipts shape: the general path takes the input."""


_LOWER_HEX = b"0123456789abcdef"
_ANY_HEX = b"0123456789abcdefABCDEF"


def _fixed_hex(pieces: list[str], length: int) -> bool:
    """Each piece (all ``length`` long, as msgspec checked) is ``0x`` then lowercase hex.

    One pass over the joined pieces instead of a regex per value: with the hex digits deleted
    exactly one ``x`` per piece is left, and it is the second character of each piece.
    """
    k = len(pieces)
    try:
        joined = "".join(pieces).encode("ascii")
    except UnicodeEncodeError:
        return False
    return (
        joined[1::length] == b"x" * k
        and joined[0::length] == b"0" * k
        and joined.translate(None, _LOWER_HEX) == b"x" * k
    )


def _var_hex(pieces: list[str]) -> bool:
    """Each piece is ``0x`` followed by hex digits of either case (quantities, log data).

    Joined with commas and with the digits deleted, clean pieces leave exactly ``x,x,...,x``;
    then one ``",0x"`` per separator puts each ``x`` right after a leading 0.
    """
    if not pieces:
        return True
    try:
        joined = ",".join(pieces).encode("ascii")
    except UnicodeEncodeError:
        return False
    k = len(pieces)
    return (
        joined.startswith(b"0x")
        and joined.count(b",0x") == k - 1
        and joined.translate(None, _ANY_HEX) == b"x" + b",x" * (k - 1)
    )


def _documents(files: list[bytes]) -> Iterator[object]:
    """Each file's documents: the file as one JSON document, or else its JSON lines.

    Lines are decoded from slices of the file's buffer: copying a large file (split, join) cost
    more than decoding it, mostly in fresh pages. A JSON-RPC response (only envelope keys)
    yields its result.
    """
    decode = _DOC.decode
    for data in files:
        try:
            doc = decode(data)  # never None: null is not a _Doc
        except msgspec.DecodeError as exc:
            if "trailing characters" not in str(exc):
                raise Fallback from None
            doc = None
        if doc is not None:
            yield _unwrap(doc, data)
            continue
        view = memoryview(data)
        find = data.find
        start = 0
        end = len(data)
        while start < end:
            stop = find(b"\n", start)
            if stop < 0:
                stop = end
            if stop > start:  # an empty line (a line of blanks fails to decode: general path)
                line = view[start:stop]
                doc = decode(line)
                if type(doc) is _Doc and (doc.result is not UNSET or doc.error is not UNSET):
                    doc = _unwrap(doc, line)
                yield doc
            start = stop + 1


def _unwrap(doc: object, body: bytes | memoryview) -> object:
    if type(doc) is _Doc and (doc.result is not UNSET or doc.error is not UNSET):
        env = _ENVELOPE.decode(body)  # any other key: not an envelope, so not this path
        if env.error is not UNSET or env.result is UNSET:
            raise Fallback
        return _DOC.decode(env.result)
    return doc


# What the C twin fills, in this order (positional order of the dataclasses): if the model
# changes, the twin is switched off (and tests/chains/test_eth_native.py says so).
_NATIVE_FIELDS = {
    Block: ("chain", "number", "hash", "timestamp", "parent_hash", "tx_count", "miner"),
    Transaction: (
        "chain",
        "hash",
        "block_number",
        "block_hash",
        "tx_index",
        "timestamp",
        "fee",
        "success",
        "fee_payer",
        "to_address",
        "value",
        "is_coinbase",
        "inputs",
        "outputs",
        "transfers",
    ),
    Transfer: ("index", "kind", "asset", "from_address", "to_address", "amount", "trace_address"),
}

NativeBulk = Callable[[list[bytes]], tuple[list, list, dict, int] | None]


def _native_setup() -> tuple[NativeBulk | None, str]:
    """The C twin's entry point, or None and why not.

    Its objects are allocated and their slots filled directly (what the generated ``__init__``
    does) where ``slot_fields`` allows it; otherwise the classes are called.
    """
    try:
        from fundtrace.chains.eth import _bulk_native  # type: ignore[attr-defined]
    except ImportError as exc:
        return None, f"not built ({exc})"
    return _native_init(_bulk_native)


def _native_init(module: ModuleType) -> tuple[NativeBulk | None, str]:
    for cls, names in _NATIVE_FIELDS.items():
        if tuple(f.name for f in dataclasses.fields(cls)) != names:
            return None, f"{cls.__name__} fields changed: update bulk_native.c"
    fill_slots = slot_fields(*_NATIVE_FIELDS) is not None
    filled = module.setup(
        Block,
        _NATIVE_FIELDS[Block],
        Transaction,
        _NATIVE_FIELDS[Transaction],
        Transfer,
        _NATIVE_FIELDS[Transfer],
        fill_slots,
        Chain.ETH,
        TransferKind.NATIVE,
        TransferKind.TOKEN,
        NATIVE,
        SKIP_REMOVED_LOG,
        SKIP_ERC721,
        SKIP_NONSTANDARD,
        TRANSFER_TOPIC,
    )
    return module.bulk, "built, slots filled" if filled else "built, classes called"


_NATIVE, NATIVE_STATUS = _native_setup()
"""The C twin (None: not built or switched off; tests set it to None to hold the msgspec path
to the general one)."""


def bulk_batch(files: list[bytes]) -> Batch | None:
    """The Batch of files holding only full blocks and their receipts; None for other input."""
    native = _NATIVE
    if native is not None:
        out = native(files)
        if out is not None:
            blocks, txs, skipped, unknown = out
            batch = Batch(Chain.ETH, blocks, txs, skipped=skipped)
            _add_warnings(batch, unknown)
            return batch
    try:
        return _Bulk().run(_documents(files))
    except (Fallback, msgspec.ValidationError, msgspec.DecodeError, ValueError, TypeError):
        return None


def _add_warnings(batch: Batch, unknown: int) -> None:
    if batch.transactions:
        batch.warnings.append(_NO_TRACES)
    if unknown:
        batch.warnings.append(
            f"{unknown} pre-Byzantium transaction(s) without traces: the receipt has no "
            "status, so a failure cannot be seen; they are recorded as successful"
        )


_NO_TRACES = (
    "no traces given: only top-level values and token transfers are known, "
    "internal (contract-to-address) transfers are missing"
)
_PAD = "0x" + "0" * 24
_ZERO = "0x" + "0" * 40
_CHECK_EVERY = 4096  # pieces per string check: small joins stay in cache


class _Bulk:
    """One streaming join: a transaction is built as soon as its block and receipt are in.

    The checks are those of ``rpc_records`` and ``rpc._Joiner``. A value that must equal one
    already checked (a transaction's block hash, a receipt's block number...) is compared as a
    string; the others are collected and checked a few thousand at a time. Position strings
    (transaction and log indexes, types) come from a small set, so each distinct one is
    converted and checked once.
    """

    def __init__(self) -> None:
        self.hashes: list[str] = []
        self.addrs: list[str] = []
        self.qtys: list[str] = []
        self.datas: list[str] = []

    def check(self) -> None:
        if not (
            _fixed_hex(self.hashes, 66)
            and _fixed_hex(self.addrs, 42)
            and _var_hex(self.qtys)
            and _var_hex(self.datas)
        ):
            raise Fallback
        self.hashes.clear()
        self.addrs.clear()
        self.qtys.clear()
        self.datas.clear()

    def run(self, docs: Iterator[object]) -> Batch:
        batch = Batch(Chain.ETH)
        blocks = batch.blocks
        txs = batch.transactions
        tx_add = txs.append
        skipped = batch.skipped
        hashes = self.hashes
        qtys = self.qtys
        h_add = hashes.append
        h_extend = hashes.extend
        a_add = self.addrs.append
        q_add = qtys.append
        d_add = self.datas.append
        eth = Chain.ETH
        native_kind = TransferKind.NATIVE
        small: dict[str, int] = {}  # position string -> int, each checked once
        waiting_txs: dict[str, tuple] = {}  # tx hash -> (tx, block facts): receipt not seen
        waiting_receipts: dict[str, _Doc] = {}  # tx hash -> receipt: transaction not seen
        numbers: set[int] = set()
        ordered = True  # built in (block, index) order so far
        last_n = last_index = -1
        unknown = 0  # receipts without status

        def build(t: _Tx, r: _Doc, facts: tuple) -> None:
            nonlocal ordered, last_n, last_index, unknown
            n, num_s, block_hash, timestamp = facts
            tx_hash = t.hash
            h_add(tx_hash)
            # a transaction or receipt naming another block: the general path words it
            x = t.blockNumber
            if x is not None and x != num_s:
                raise Fallback
            x = t.blockHash
            if x is not None and x != block_hash:
                raise Fallback
            x = r.blockHash
            if x is not None and x != block_hash:
                raise Fallback
            x = r.blockNumber
            if x is not None and x != num_s:
                q_add(x)
            sender = t.from_
            a_add(sender)
            to = t.to
            if to is not None:
                a_add(to)
            x = r.from_
            if x is not None and x != sender:
                a_add(x)
            x = r.to
            if x is not None and x != to:
                a_add(x)
            created = r.contractAddress
            if created is not None:
                a_add(created)
            x = t.value
            if x == "0x0":
                value = 0
            else:
                q_add(x)
                value = int(x, 16)
            index_s = t.transactionIndex
            x = r.transactionIndex
            if index_s is None:
                index_s = x
            elif x is not None and x != index_s and x not in small:
                q_add(x)
                small[x] = int(x, 16)
            if index_s is None:
                tx_index = None
                ordered = False
            else:
                tx_index = small.get(index_s)
                if tx_index is None:
                    q_add(index_s)
                    tx_index = small[index_s] = int(index_s, 16)
                if n > last_n or (n == last_n and tx_index > last_index):
                    last_n = n
                    last_index = tx_index
                else:
                    ordered = False
            x = t.type
            if x is not None and x not in small:
                q_add(x)
                small[x] = int(x, 16)
            gas_used_s = r.gasUsed
            logs = r.logs
            if gas_used_s is None or logs is None:
                raise Fallback
            q_add(gas_used_s)
            x = r.status
            if x is None:
                success = True
                unknown += 1
            elif x == "0x1":
                success = True
            elif x == "0x0":
                success = False
            else:
                raise Fallback
            price_s = r.effectiveGasPrice
            if price_s is not None:
                q_add(price_s)
            x = t.gasPrice
            if x is not None:
                q_add(x)
                if price_s is None:
                    price_s = x
            transfers: list[Transfer] = []
            if success and (value or to is None):
                transfers.append(Transfer(0, native_kind, NATIVE, sender, to or created, value))
            if logs:
                for g in logs:
                    a_add(g.address)
                    h_extend(g.topics)
                    d_add(g.data)
                    x = g.logIndex
                    if x not in small:
                        q_add(x)
                        small[x] = int(x, 16)
                    x = g.transactionHash
                    if x is not None and x != tx_hash:
                        h_add(x)
                    x = g.blockNumber
                    if x is not None and x != num_s:
                        q_add(x)
                    if len(g.data) & 1:
                        raise Fallback
                if success:
                    _tokens(logs, transfers, skipped, small)
            tx_add(
                Transaction(
                    eth,
                    tx_hash,
                    n,
                    block_hash,
                    tx_index,
                    timestamp,
                    int(gas_used_s, 16) * int(price_s, 16) if price_s is not None else None,
                    success,
                    sender,
                    to,
                    value,
                    False,
                    [],
                    [],
                    transfers,
                )
            )

        for doc in docs:
            if type(doc) is list:  # eth_getBlockReceipts
                if not doc:
                    raise Fallback
                for r in doc:
                    if (
                        r.transactionHash is UNSET
                        or r.logs is UNSET
                        or r.gasUsed is UNSET
                        or r.transactions is not UNSET
                        or r.result is not UNSET
                        or r.error is not UNSET
                    ):
                        raise Fallback
                    h = r.transactionHash
                    waiting = waiting_txs.pop(h, None)
                    if waiting is not None:
                        build(waiting[0], r, waiting[1])
                    elif h in waiting_receipts:
                        raise Fallback  # the same receipt twice: the general path decides
                    else:
                        waiting_receipts[h] = r
            elif doc.request is not UNSET or doc.response is not UNSET:
                raise Fallback  # maybe a request/response pair
            elif doc.transactions is UNSET:  # not a block: a receipt, or not this path
                h = doc.transactionHash
                if h is UNSET or doc.logs is UNSET or doc.gasUsed is UNSET:
                    raise Fallback
                waiting = waiting_txs.pop(h, None)
                if waiting is not None:
                    build(waiting[0], doc, waiting[1])
                elif h in waiting_receipts:
                    raise Fallback  # the same receipt twice: the general path decides
                else:
                    waiting_receipts[h] = doc
            elif doc.number is not UNSET and doc.hash is not UNSET:
                num_s = doc.number
                block_hash = doc.hash
                ts = doc.timestamp
                block_txs = doc.transactions
                if num_s is None or block_hash is None or block_txs is None or ts is None:
                    raise Fallback
                n = int(num_s, 16)
                if n in numbers:
                    raise Fallback  # the same height twice: the general path decides
                numbers.add(n)
                timestamp = int(ts, 16)
                q_add(num_s)
                q_add(ts)
                h_add(block_hash)
                parent = doc.parentHash
                if parent is not None:
                    h_add(parent)
                miner = doc.miner
                if miner is not None:
                    a_add(miner)
                blocks.append(Block(eth, n, block_hash, timestamp, parent, len(block_txs), miner))
                facts = (n, num_s, block_hash, timestamp)
                for t in block_txs:
                    h = t.hash
                    r = waiting_receipts.pop(h, None)
                    if r is not None:
                        build(t, r, facts)
                    elif h in waiting_txs:
                        raise Fallback
                    else:
                        waiting_txs[h] = (t, facts)
                if len(qtys) > _CHECK_EVERY or len(hashes) > _CHECK_EVERY:
                    self.check()
            else:
                raise Fallback
        if waiting_txs or waiting_receipts or not blocks:
            raise Fallback  # receipts missing, or receipts of no block here
        self.check()
        if len({t.hash for t in txs}) != len(txs):
            raise Fallback  # a hash in two blocks
        if any(blocks[i].number > blocks[i + 1].number for i in range(len(blocks) - 1)):
            blocks.sort(key=lambda b: b.number)
        if not ordered:
            txs.sort(
                key=lambda t: (t.block_number, -1 if t.tx_index is None else t.tx_index, t.hash)
            )
        _add_warnings(batch, unknown)
        return batch


def _tokens(
    logs: list[_Log], transfers: list[Transfer], skipped: dict[str, int], small: dict[str, int]
) -> None:
    """ERC-20 transfers of a successful transaction's logs, as ``build._token_transfers`` and
    ``erc20.decode_log`` make them (digits and case were checked with the file)."""
    found: list[Transfer] = []
    last = -1
    ordered = True
    for g in logs:
        if g.removed:
            skipped[SKIP_REMOVED_LOG] = skipped.get(SKIP_REMOVED_LOG, 0) + 1
            continue
        topics = g.topics
        if not topics or topics[0] != TRANSFER_TOPIC:
            continue
        data = g.data
        if len(topics) != 3 or len(data) != 66:
            reason = SKIP_ERC721 if len(topics) == 4 and len(data) == 2 else SKIP_NONSTANDARD
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        t1, t2 = topics[1], topics[2]
        if not (t1.startswith(_PAD) and t2.startswith(_PAD)):
            skipped[SKIP_NONSTANDARD] = skipped.get(SKIP_NONSTANDARD, 0) + 1
            continue
        index = small[g.logIndex]  # converted by the caller
        if index <= last:
            ordered = False
        last = index
        frm = "0x" + t1[26:]
        to = "0x" + t2[26:]
        found.append(
            Transfer(
                index,
                TransferKind.TOKEN,
                g.address,
                None if frm == _ZERO else frm,
                None if to == _ZERO else to,
                int(data, 16),
                None,
            )
        )
    if not ordered:  # the last log at an index wins, then log order
        found = sorted({t.index: t for t in found}.values(), key=lambda t: t.index)
    transfers.extend(found)
