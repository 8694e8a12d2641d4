"""The C twin of the bulk path (``bulk_native.c``): built, used, and the msgspec path's equal.

Where the twin accepts an input its Batch must be the msgspec path's (same objects, field types,
order, skipped counts, warnings) and the general path's; where it declines (None) the importer
must still give the general path's result. Inputs: every recorded ETH RPC fixture, the
recorded blocks with their receipts in every shape the twin reads, hand-made documents at the
edges (uint256 amounts, fees past 64 bits, unordered blocks, transactions and logs), documents
the twin must decline, and hypothesis-varied documents and byte-level mutations of a clean file.
"""

import copy
import json
import shutil
import sys
import sysconfig
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundtrace.chains.eth import rpc, rpc_bulk
from fundtrace.chains.eth.erc20 import TRANSFER_TOPIC
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, Batch, Chain, TransferKind
from tests.chains.test_eth_bulk import (
    OPS,
    RPC,
    _compare,
    _docs,
    _modern_groups,
    _outcome,
    _recorded_groups,
    _topic,
)
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

try:
    from fundtrace.chains.eth import _bulk_native
except ImportError as exc:  # pragma: no cover - only where no compiler was at hand
    _bulk_native = None
    _WHY = str(exc)

NATIVE_FN = rpc_bulk._NATIVE


def _has_compiler():
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None or shutil.which("gcc") is not None


if _bulk_native is None and not _has_compiler():  # pragma: no cover
    pytest.skip(f"C twin not built and no C compiler here: {_WHY}", allow_module_level=True)


def _lines(docs):
    return "".join(json.dumps(d) + "\n" for d in docs).encode()


def _msgspec(files):
    """The msgspec path alone (what bulk_batch runs when the twin declines or is absent)."""
    saved = rpc_bulk._NATIVE
    rpc_bulk._NATIVE = None
    try:
        return rpc_bulk.bulk_batch(files)
    finally:
        rpc_bulk._NATIVE = saved


def _native(files):
    out = NATIVE_FN(files)
    if out is None:
        return None
    blocks, txs, skipped, unknown = out
    batch = Batch(Chain.ETH, blocks, txs, skipped=skipped)
    rpc_bulk._add_warnings(batch, unknown)
    return batch


def _shape(value):
    """A value with the type of every part spelled out: ``==`` alone would let ``"eth"`` equal
    ``Chain.ETH``, ``True`` equal ``1`` and a dict equal one in another order."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_shape(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(_shape(k), _shape(v)) for k, v in value.items()])
    if hasattr(value, "__slots__") and hasattr(value, "__dataclass_fields__"):
        return (
            type(value).__name__,
            [(f, _shape(getattr(value, f))) for f in value.__dataclass_fields__],
        )
    return (type(value).__name__, value)


def _same(files):
    """The twin's Batch equals the msgspec path's where it accepts; returns it (or None)."""
    ours = _native(files)
    theirs = _msgspec(files)
    if ours is not None:
        assert theirs is not None, "the twin accepted what the msgspec path rejects"
        assert _shape(ours) == _shape(theirs)
    return ours


# --- built and used ----------------------------------------------------------------------------


def test_the_c_twin_is_built_and_used_by_the_importer(monkeypatch):
    assert _bulk_native is not None, f"C twin not built although a compiler exists: {_WHY}"
    assert NATIVE_FN is not None and rpc_bulk.NATIVE_STATUS == "built, slots filled"
    answers = []

    def spy(files):
        out = NATIVE_FN(files)
        answers.append(out is not None)
        return out

    monkeypatch.setattr(rpc_bulk, "_NATIVE", spy)
    paths = sorted(RPC.glob("eth_getTransactionReceipt_483920_*.json"))
    paths.append(RPC / "eth_getBlockByNumber_483920_full.json")
    batch = rpc.parse_rpc_files(paths)
    assert answers == [True] and len(batch.transactions) == 4
    with pytest.raises(ParseError, match="receipts are missing"):
        rpc.parse_rpc_bytes(paths[-1].read_bytes())  # declined, then worded by the general path
    assert answers == [True, False]


def test_classes_called_instead_of_slots_filled_give_the_same_batch():
    """The twin's other way of making objects (for classes with a __post_init__)."""
    data = _lines([d for block, receipts in _modern_groups() for d in (block, *receipts)])
    filled = _native([data])
    args = (
        *(x for cls, names in rpc_bulk._NATIVE_FIELDS.items() for x in (cls, names)),
        False,
        Chain.ETH,
        TransferKind.NATIVE,
        TransferKind.TOKEN,
        NATIVE,
        *(rpc_bulk.SKIP_REMOVED_LOG, rpc_bulk.SKIP_ERC721, rpc_bulk.SKIP_NONSTANDARD),
        TRANSFER_TOPIC,
    )
    try:
        assert _bulk_native.setup(*args) is False
        called = _native([data])
    finally:
        rpc_bulk._native_init(_bulk_native)
    assert filled is not None and _shape(called) == _shape(filled)


# --- recorded data -----------------------------------------------------------------------------


def test_every_recorded_rpc_file_alone():
    taken = []
    for path in sorted((FIXTURES / "eth" / "rpc").glob("*.json")):
        if _same([path.read_bytes()]) is not None:
            taken.append(path.name)
    # blocks without transactions need no receipts; every other file lacks its partner
    assert taken == ["eth_getBlockByNumber_0_full.json", "eth_getBlockByNumber_1755634_full.json"]
    genesis = _native([(RPC / "eth_getBlockByNumber_0_full.json").read_bytes()])
    (block,) = genesis.blocks
    assert block.hash == "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
    assert (block.number, block.timestamp, block.tx_count) == (0, 0, 0)
    assert genesis.warnings == []


def test_recorded_blocks_and_receipts_in_every_shape():
    groups = _recorded_groups()
    docs = [d for block, receipts in groups for d in (block, *receipts)]
    envelopes = [{"jsonrpc": "2.0", "id": i, "result": d} for i, d in enumerate(docs)]
    receipts_first = [d for block, receipts in groups for d in (*receipts, block)]
    # an empty eth_getBlockReceipts list is not this path's shape: blocks without
    # transactions come alone
    block_receipts = [d for block, receipts in groups for d in (block, receipts) if d]
    as_response = [
        d
        for i, (block, receipts) in enumerate(groups)
        for d in (block, {"jsonrpc": "2.0", "id": i, "result": receipts} if receipts else None)
        if d
    ]
    shapes = {
        "lines": [_lines(docs)],
        "envelopes": [_lines(envelopes)],
        "receipts first, blocks reversed": [_lines(receipts_first[::-1])],
        "eth_getBlockReceipts lists": [_lines(block_receipts)],
        "eth_getBlockReceipts responses": [_lines(as_response)],
        "one file per document": [json.dumps(d).encode() for d in docs],
        "one receipt list document": [
            json.dumps(d).encode() for block, receipts in groups for d in (block, receipts) if d
        ],
        "CRLF and blank lines": [_lines(docs).replace(b"\n", b"\r\n\n")],
    }
    first = None
    for name, files in shapes.items():
        batch = _same(files)
        assert batch is not None, name
        first = first or batch
        assert _shape(batch) == _shape(first), name
    txs = first.transactions
    assert [b.number for b in first.blocks] == [483920, 1755634, 1755635]
    # figures PROVENANCE.md fixes
    assert sum(t.fee for t in txs if t.block_number == 483920) == 143706 * 50_000_000_000
    values = {t.hash[:10]: t.value for t in txs}
    assert values["0x463d53f0"] == 11000440000000000
    assert values["0x05287a56"] == 1530219620000000000
    tokens = [(x.index, x.amount) for t in txs for x in t.transfers if x.kind == TransferKind.TOKEN]
    assert tokens == [(0, 100000), (1, 200000), (0, 5000000000000000000)]
    t0 = next(t for t in txs if t.hash.startswith("0x04cbcb23"))
    (token,) = t0.transfers
    assert token.asset == "0xf4eced2f682ce333f96f2d8966c613ded8fc95dd"
    assert token.from_address == "0x1b63142628311395ceafeea5667e7c9026c862ca"
    assert token.to_address == "0xac4df82fe37ea2187bc8c011a23d743b4f39019a"
    assert first.warnings[1].startswith("6 pre-Byzantium")


def test_modern_receipts_match_the_general_path(tmp_path):
    docs = [d for block, receipts in _modern_groups() for d in (block, *receipts)]
    path = tmp_path / "modern.jsonl"
    path.write_bytes(_lines(docs))
    batch = _same([path.read_bytes()])
    assert batch is not None
    assert _compare([path])[2] == batch.transactions
    failed = [t for t in batch.transactions if not t.success]
    assert [t.hash[:10] for t in failed] == ["0x5e8969e7"]
    assert failed[0].fee == 0xA7E1 * 0x9026EC63C and failed[0].transfers == []


# --- hand-made edges ---------------------------------------------------------------------------

H = "0x" + "ab" * 32


def _hash(n, i=0):
    return "0x" + f"{n:056x}{i:08x}"


def _block(n, txs, **kw):
    return {
        "number": hex(n),
        "hash": _hash(n, 0xFFFFFFFF),
        "parentHash": _hash(n - 1, 0xFFFFFFFF),
        "timestamp": hex(1_700_000_000 + n),
        "miner": "0x" + "cd" * 20,
        "transactions": txs,
        **kw,
    }


def _tx(n, i, **kw):
    return {
        "hash": _hash(n, i),
        "from": "0x" + "11" * 20,
        "to": "0x" + "22" * 20,
        "value": "0x1",
        "blockNumber": hex(n),
        "blockHash": _hash(n, 0xFFFFFFFF),
        "transactionIndex": hex(i),
        "gasPrice": "0x3b9aca00",
        "type": "0x2",
        **kw,
    }


def _receipt(n, i, logs=(), **kw):
    return {
        "transactionHash": _hash(n, i),
        "blockHash": _hash(n, 0xFFFFFFFF),
        "blockNumber": hex(n),
        "transactionIndex": hex(i),
        "from": "0x" + "11" * 20,
        "to": "0x" + "22" * 20,
        "gasUsed": "0x5208",
        "effectiveGasPrice": "0x3b9aca00",
        "status": "0x1",
        "contractAddress": None,
        "logs": list(logs),
        **kw,
    }


def _transfer_log(index, amount_hex, frm="0x" + "33" * 20, to="0x" + "44" * 20):
    return {
        "address": "0x" + "7a" * 20,
        "topics": [TRANSFER_TOPIC, _topic(frm), _topic(to)],
        "data": amount_hex,
        "logIndex": hex(index),
        "removed": False,
    }


MAX = 2**256 - 1


def test_uint256_amounts_and_fees_past_64_bits_are_exact():
    logs = [
        _transfer_log(0, "0x" + "f" * 64),
        _transfer_log(1, "0x" + "0" * 47 + "1" + "0" * 16, frm="0x" + "0" * 40),  # 2**64, a mint
        _transfer_log(2, "0x" + "0" * 64, to="0x" + "0" * 40),  # 0, a burn
    ]
    docs = [
        _block(5, [_tx(5, 0, value="0x" + "f" * 64), _tx(5, 1, value="0x00", to=None)]),
        _receipt(5, 0, logs, gasUsed="0xffffffffffff", effectiveGasPrice="0xfffffffffffff"),
        _receipt(5, 1, contractAddress="0x" + "c0" * 20, effectiveGasPrice=None, gasUsed="0x0"),
    ]
    batch = _same([_lines(docs)])
    t0, t1 = batch.transactions
    assert t0.value == MAX and t0.fee == 0xFFFFFFFFFFFF * 0xFFFFFFFFFFFFF
    assert [(x.kind, x.index, x.from_address, x.to_address, x.amount) for x in t0.transfers] == [
        (TransferKind.NATIVE, 0, "0x" + "11" * 20, "0x" + "22" * 20, MAX),
        (TransferKind.TOKEN, 0, "0x" + "33" * 20, "0x" + "44" * 20, MAX),
        (TransferKind.TOKEN, 1, None, "0x" + "44" * 20, 2**64),
        (TransferKind.TOKEN, 2, "0x" + "33" * 20, None, 0),
    ]
    # a creation with no value still records where the contract went; the fee uses gasPrice
    assert t1.to_address is None and t1.value == 0 and t1.fee == 0
    (creation,) = t1.transfers
    assert (creation.to_address, creation.amount) == ("0x" + "c0" * 20, 0)


def test_unordered_blocks_transactions_and_logs_sort_like_the_python_path():
    logs = [_transfer_log(3, "0x" + f"{k:064x}") for k in (1, 2)] + [
        _transfer_log(1, "0x" + f"{7:064x}"),
        dict(_transfer_log(0, "0x" + f"{9:064x}"), removed=True),
        {**_transfer_log(4, "0x"), "topics": [TRANSFER_TOPIC] + [_topic("0x" + "55" * 20)] * 3},
        {**_transfer_log(5, "0x" + "00" * 96), "topics": [TRANSFER_TOPIC]},
    ]
    docs = [
        _block(9, [_tx(9, 1), _tx(9, 0)]),
        _block(8, [_tx(8, 0, transactionIndex=None)]),
        _receipt(9, 0, logs),
        _receipt(9, 1, status="0x0"),
        _receipt(8, 0, status=None, transactionIndex=None),
    ]
    batch = _same([_lines(docs)])
    assert [b.number for b in batch.blocks] == [8, 9]
    assert [(t.block_number, t.tx_index) for t in batch.transactions] == [(8, None), (9, 0), (9, 1)]
    tokens = [(x.index, x.amount) for x in batch.transactions[1].transfers if x.kind == "token"]
    assert tokens == [(1, 7), (3, 2)]  # the last log at an index wins
    assert list(batch.skipped.items()) == [
        (rpc_bulk.SKIP_REMOVED_LOG, 1),
        (rpc_bulk.SKIP_ERC721, 1),
        (rpc_bulk.SKIP_NONSTANDARD, 1),
    ]
    assert batch.transactions[2].transfers == [] and not batch.transactions[2].success
    assert batch.warnings[1].startswith("1 pre-Byzantium")


# --- inputs the twin declines, which the importer still gets right --------------------------

CLEAN = [
    _block(7, [_tx(7, 0), _tx(7, 1)]),
    _receipt(7, 0, [_transfer_log(0, "0x" + f"{5:064x}")]),
    _receipt(7, 1),
]


def _text(docs=CLEAN):
    return _lines(docs).decode()


DECLINED = {
    "uppercase block hash": lambda: _text().replace("ffffffff", "FFFFFFFF"),
    "uppercase address": lambda: _text().replace("cdcd", "CDCD", 1),
    "uppercase 0X quantity": lambda: _text().replace('"value": "0x1"', '"value": "0X1"', 1),
    "escaped string": lambda: _text().replace('"type": "0x2"', '"type": "0x2", "note": "a\\"b"'),
    "unicode escape": lambda: _text().replace('"0x2"', '"\\u0030x2"', 1),
    "non-ASCII": lambda: _text().replace('"type": "0x2"', '"type": "0x2", "note": "é"', 1),
    "duplicate key": lambda: _text().replace('"value": "0x1"', '"value": "0x1", "value": "0x1"'),
    "missing receipt": lambda: _text(CLEAN[:2]),
    "receipt twice": lambda: _text([*CLEAN, CLEAN[2]]),
    "block twice": lambda: _text([*CLEAN, _block(7, [])]),
    "trailing garbage": lambda: _text().replace("\n", " x\n", 1),
    "number for a string": lambda: _text().replace('"value": "0x1"', '"value": 1', 1),
    "null required": lambda: _text().replace('"value": "0x1"', '"value": null', 1),
    "short address": lambda: _text().replace("0x" + "22" * 20, "0x" + "22" * 19, 1),
    "odd log data": lambda: _text().replace(f"{5:064x}", f"{5:063x}", 1),
    "truncated file": lambda: _text()[: len(_text()) // 2],
    "empty file": lambda: "",
    "blank line of spaces": lambda: _text().replace("\n", "\n   \n", 1),
    "request/response pair": lambda: json.dumps([{"request": {}, "response": {"result": None}}]),
    "error response": lambda: json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -1}}),
    "status 0x01": lambda: _text().replace('"status": "0x1"', '"status": "0x01"', 1),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_the_twin_declines_and_the_importer_still_matches_the_general_path(case, tmp_path):
    data = DECLINED[case]().encode()
    assert _bulk_native.bulk([data]) is None
    path = tmp_path / "input.jsonl"
    path.write_bytes(data)
    _compare([path])


def test_the_clean_input_of_those_cases_is_taken():
    batch = _same([_text().encode()])
    assert batch is not None and len(batch.transactions) == 2
    assert _bulk_native.bulk([]) is None and _bulk_native.bulk("not a list") is None


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(rnd=st.randoms(use_true_random=False), ops=st.lists(st.sampled_from(OPS), max_size=4))
def test_varied_documents_give_the_msgspec_paths_batch(rnd, ops):
    docs = _docs(rnd, ops)
    cut = rnd.randrange(len(docs) + 1)
    _same([_lines(docs)])
    _same([_lines(docs[:cut]), _lines(docs[cut:])])


def test_clean_varied_documents_are_taken_by_the_twin():
    import random

    rnd = random.Random(11)
    taken = sum(
        _same([_lines(_docs(rnd, ops))]) is not None
        for ops in (["shuffle"], ["receipt_list"], ["envelope", "envelope"], ["logs", "creation"])
    )
    assert taken == 4


SMALL = _text().encode()
BYTES = [b'"', b"\\", b"0", b"A", b"x", b",", b":", b"}", b"]", b" ", b"\n", b"\x00", "é".encode()]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(SMALL) - 1), st.sampled_from(BYTES), st.booleans()),
        min_size=1,
        max_size=3,
    )
)
def test_byte_mutations_of_a_clean_file(edits, tmp_path):
    """Any byte changed or inserted: the twin declines, or agrees with the msgspec path and
    the general path."""
    data = bytearray(SMALL)
    for pos, b, insert in edits:
        data[pos : pos if insert else pos + 1] = b
    data = bytes(data)
    ours = _same([data])
    if ours is not None:
        path = tmp_path / "mutated.jsonl"
        path.write_bytes(data)
        general = _outcome(lambda: rpc.assemble_records(rpc.load_json_records(path)))
        assert general == ("ok", ours.blocks, ours.transactions, ours.warnings, ours.skipped)


# --- references --------------------------------------------------------------------------------


def test_no_references_or_memory_leak_on_accepted_declined_and_failed_inputs():
    docs = [d for block, receipts in _recorded_groups() for d in (block, *receipts)]
    good = _lines(docs)
    bad = [DECLINED[c]().encode() for c in ("missing receipt", "status 0x01", "block twice")]
    shared = [Chain.ETH, TransferKind.NATIVE, TransferKind.TOKEN, NATIVE, None, True, False]

    def run():
        assert _bulk_native.bulk([good]) is not None
        for b in bad:
            assert _bulk_native.bulk([good, b]) is None

    run()
    before = [sys.getrefcount(x) for x in shared]
    tracemalloc.start()
    try:
        run()
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(30):
            run()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert [sys.getrefcount(x) for x in shared] == before
    assert grown < 10_000  # one leaked Transaction per run would be far more


def test_a_returned_batch_owns_its_objects():
    """Objects outlive the input buffers and the twin's tables."""
    data = bytearray(_lines(copy.deepcopy(CLEAN)))
    blocks, txs, skipped, unknown = _bulk_native.bulk([bytes(data)])
    del data
    assert txs[0].hash == _hash(7, 0) and txs[0].transfers[1].amount == 5
    assert blocks[0].hash == txs[1].block_hash and (skipped, unknown) == ({}, 0)


# --- inputs of the ASan/UBSan fuzzing pass -----------------------------------------------------

FUZZED = {
    "empty": b"",
    "one NUL byte": b"\x00",
    "one quote": b'"',
    "whitespace lines": b" \n\t\n\r\n",
    "CRLF only": b"\r\n\r\n",
    "nested past the tape's 64 levels": b"[" * 65 + b"]" * 65,
    "open nesting": b'{"transactions": ' + b"[" * 70,
    "quantity of 100,000 digits": SMALL.replace(
        b'"value": "0x1"', b'"value": "0x' + b"f" * 100_000 + b'"', 1
    ),
    "string cut at the end of the buffer": SMALL[: SMALL.index(b'"hash": "') + 9 + 13],
    "CRLF lines": SMALL.replace(b"\n", b"\r\n"),
    "lone CR separators": SMALL.replace(b"\n", b"\r"),
}


@pytest.mark.parametrize("case", sorted(FUZZED))
def test_fuzzed_inputs_decline_or_match_and_import_as_the_general_path(case, tmp_path):
    data = FUZZED[case]
    ours = _same([data])
    if case == "CRLF lines":
        assert ours is not None and len(ours.transactions) == 2
    elif case == "quantity of 100,000 digits":
        assert ours is not None and ours.transactions[0].value == 16**100_000 - 1
    else:
        assert ours is None
    path = tmp_path / "input.jsonl"
    path.write_bytes(data)
    _compare([path])
