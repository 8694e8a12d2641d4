"""The native getblock decoder (``btc._getblock_native``) is built, is what the importer runs,
and takes a document only when it gives exactly the generic path's Batch.

References come from the generic dict path (``parse_getblock`` over ``json.loads`` with
``parse_float=Decimal``, and the importer's text reader); the block-279,671 figures are
PROVENANCE.md's. Documents the native decoder must decline are checked to be declined and still
imported exactly as the generic path imports them (same Batch or same error text).
"""

from __future__ import annotations

import gc
import json
import re
import shutil
import sys
import sysconfig
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from fundtrace.chains.btc import rpc_decode
from fundtrace.chains.btc.network import MAINNET
from fundtrace.core.model import Batch, Chain
from fundtrace.ingest import dispatch
from tests.chains.test_btc_fast_path import _block, _fast_doc, _generic_doc, _outcome
from tests.chains.test_btc_support import BLOCK_279671, BTC, getblock_files
from tests.paths import needs_shared


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) or shutil.which("cc") or shutil.which("gcc")


if rpc_decode.native is None and _compiler() is None:
    pytest.skip("no C compiler here: the native extension cannot be built", allow_module_level=True)

pytestmark = needs_shared
native = rpc_decode.native


def _native(data: bytes) -> Batch | None:
    """The native decoder's batch, None where it declines."""
    batch = Batch(Chain.BTC)
    return batch if native.getblock(data, MAINNET, batch.blocks, batch.transactions) else None


def _generic_file(data: bytes) -> Batch | str:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(rpc_decode, "available", lambda: False)
        return _outcome(lambda: dispatch.parse_btc_rpc_bytes(data, source="f"))


def _importer(data: bytes) -> Batch | str:
    return _outcome(lambda: dispatch.parse_btc_rpc_bytes(data, source="f"))


def _compact(path: Path) -> bytes:
    """The file as one JSON line, amounts spelled as the node spelled them."""
    return path.read_text().replace("\n", " ").encode()


# --- built and used ------------------------------------------------------------------------


def test_extension_is_built_and_imported() -> None:
    assert native is not None, (
        "fundtrace.chains.btc._getblock_native is not built: run "
        "`.venv/bin/python -m pip install --no-deps -e .` (a C compiler is available)"
    )
    assert Path(native.__file__).parent == Path(rpc_decode.__file__).parent


def test_importer_runs_the_native_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the msgspec decoder made to fail, the importer still reads block 279,671 typed."""

    def no_msgspec(*args: object) -> Batch:
        raise AssertionError("the msgspec decoder was used")

    monkeypatch.setattr(rpc_decode, "typed_getblock_batch", no_msgspec)
    batch = dispatch.parse_btc_rpc_bytes(BLOCK_279671.read_bytes() * 1, source="f")
    assert len(batch.transactions) == 217
    lines = b"\n".join([_compact(BLOCK_279671)] * 3)
    assert len(dispatch.parse_btc_rpc_bytes(lines, source="f").blocks) == 3
    assert len(rpc_decode.getblock_batch(BLOCK_279671.read_bytes()).transactions) == 217


def test_objects_filled_in_equal_objects_the_classes_make() -> None:
    """Model objects are made by filling their slots; calling the classes gives the same."""
    data = _compact(BLOCK_279671)
    (p2pk,) = BTC.glob("rpc/bitcoin-etl/block_with_transactions/*1c920d495e1eeef2*.json")
    assert rpc_decode.init_native() is True
    filled = [_native(data), _native(p2pk.read_bytes())]
    try:
        assert rpc_decode.init_native(direct=False) is False
        called = [_native(data), _native(p2pk.read_bytes())]
    finally:
        rpc_decode.init_native()
    assert filled == called and None not in filled
    assert [repr(b) for b in filled] == [repr(b) for b in called]


# --- the real fixtures ---------------------------------------------------------------------


@pytest.mark.parametrize("path", getblock_files(), ids=lambda p: p.name[:40])
def test_native_takes_every_getblock_fixture_exactly(path: Path) -> None:
    data = path.read_bytes()
    expected = _generic_doc(data)
    assert isinstance(expected, Batch)
    assert _native(data) == expected
    assert _native(_compact(path)) == expected


def test_block_279671_figures_natively() -> None:
    batch = _native(BLOCK_279671.read_bytes())
    assert batch is not None
    (block,) = batch.blocks
    assert (block.number, block.tx_count, block.timestamp) == (279671, 217, 1389346531)
    assert block.hash == "0000000000000002fa7d943a10651794a50447c262216df7695da5d624761cbf"
    txs = batch.transactions
    assert sum(len(t.inputs) for t in txs) == 1054
    assert sum(len(t.outputs) for t in txs) == 725
    coinbase, *rest = txs
    assert coinbase.is_coinbase and coinbase.output_total() == 2_505_047_000
    assert coinbase.inputs[0].spent_txid is None and coinbase.fee == 0
    assert sum(t.fee for t in rest) == 5_047_000
    tx = next(t for t in txs if t.hash.startswith("663949f0"))
    assert (len(tx.inputs), len(tx.outputs), tx.fee) == (402, 2, 730_000)
    tx = next(t for t in txs if t.hash.startswith("5de8d57b"))
    assert any(i.value == 631_006_419 and i.spent_vout == 1 for i in tx.inputs)
    assert all(type(o.value) is int for t in txs for o in t.outputs)


def test_block_50001_verbosity_2_natively() -> None:
    """Pre-v22 scripts (``addresses``), P2PK outputs (classified in Python), no prevouts."""
    (path,) = BTC.glob("rpc/bitcoin-etl/block_with_transactions/*1c920d495e1eeef2*.json")
    batch = _native(path.read_bytes())
    assert batch is not None and batch == _generic_doc(path.read_bytes())
    coinbase, tx1, _ = batch.transactions
    assert (coinbase.outputs[0].script_type, coinbase.outputs[0].address) == (
        "pubkey",
        "1PkqKGbNLDdDJGveCcNUMV9CEFH77ADrPQ",
    )
    assert [i.value for i in tx1.inputs] == [None, None] and tx1.fee is None
    assert tx1.outputs[0].value == 10_000_000_000
    assert tx1.outputs[0].script_type == "pubkeyhash"


@pytest.mark.parametrize("path", sorted(BTC.rglob("*.json")), ids=lambda p: p.name[:40])
def test_every_btc_fixture_native_or_declined(path: Path) -> None:
    """Files that are not getblock documents are declined; getblock ones taken exactly."""
    data = path.read_bytes()
    got = _native(data)
    if path in getblock_files():
        assert got == _generic_doc(data)
    else:
        assert got is None
    assert _importer(data) == _generic_file(data)


# --- documents the native decoder declines, and the importer still gets right -------------

TEXT = _compact(BLOCK_279671).decode()
TXID = json.loads(TEXT)["result"]["tx"][1]["txid"]
SPENT = json.loads(TEXT)["result"]["tx"][1]["vin"][0]["txid"]  # from block 279,385
EDITS = {  # what to replace (its first occurrence) and by what
    "uppercase txid": (TXID, TXID.upper()),
    "escape": ('"dev"', '"d\\u0065v"'),
    "non-ascii": ('"dev"', '"d\u00e9v"'),
    "duplicate key": (f'"txid": "{TXID}"', f'"txid": "{TXID}", "txid": "{TXID}"'),
    "nine decimals": ('"value": 0.30000000', '"value": 0.300000001'),
    "negative": ('"value": 0.30000000', '"value": -0.30000000'),
    "amount as string": ('"value": 0.30000000', '"value": "0.30000000"'),
    "jsonrpc without id": ('"id": "dev"', '"jsonrpc": "2.0"'),
    "error set": ('"error": null', '"error": {"code": -1, "message": "boom"}'),
    "fee mismatch": ('"fee": 0.00100000', '"fee": 0.00100001'),
    "txid missing": (f'"txid": "{TXID}"', '"txod": "x"'),
    "input txid missing": (f'"txid": "{SPENT}"', '"txod": "x"'),
    "vout numbered wrong": ('"n": 1', '"n": 2'),
}


def _variant(edit: str) -> bytes:
    """Block 279,671 (one line) with one thing changed."""
    if edit == "truncated":
        return TEXT[: len(TEXT) // 2].encode()
    if edit == "trailing garbage":
        return TEXT.encode() + b" x"
    if edit == "input vout missing":
        text, n = re.subn(f'("txid": "{SPENT}",\\s*)"vout": 0,', r"\1", TEXT, count=1)
        assert n == 1
        return text.encode()
    old, new = EDITS[edit]
    assert old in TEXT
    return TEXT.replace(old, new, 1).encode("utf-8")


DECLINED = [*EDITS, "truncated", "trailing garbage", "input vout missing"]


@pytest.mark.parametrize("edit", DECLINED)
def test_declined_documents_import_as_the_generic_path(edit: str) -> None:
    data = _variant(edit)
    assert _native(data) is None
    assert _fast_doc(data) == _generic_doc(data)
    assert _importer(data) == _generic_file(data)
    # and as a line between lines the native decoder takes
    lines = b"\n".join([_compact(BLOCK_279671), data, _compact(BLOCK_279671)])
    assert _importer(lines) == _generic_file(lines)


def test_amounts_spelled_otherwise_are_converted_exactly() -> None:
    """Exponents and fewer decimals are valid JSON numbers: converted by Python, exactly."""
    for spelling in ("0.3", "3e-1", "0.30000000E0", "30000000e-8"):
        data = TEXT.replace('"value": 0.30000000', f'"value": {spelling}', 1).encode()
        got = _native(data)
        assert got is not None and got == _generic_doc(data)
        assert got.transactions[1].outputs[0].value == 30_000_000


def test_verbosity_2_without_prevouts_resolves_in_block_spends() -> None:
    """Prevouts dropped: same-block spends get their values here, the rest stay unknown."""
    doc = json.loads(BLOCK_279671.read_text(), parse_float=Decimal)
    for tx in doc["result"]["tx"]:
        for vin in tx["vin"]:
            vin.pop("prevout", None)
        tx.pop("fee", None)
    text = json.dumps(doc, default=lambda d: f"@@{d}@@")  # Decimals: their text, as numbers
    data = re.sub(r'"@@([^@"]+)@@"', r"\1", text).encode()
    assert b"@@" not in data
    expected = _generic_doc(data)
    assert isinstance(expected, Batch)
    got = _native(data)
    assert got == expected
    resolved = [i for t in got.transactions for i in t.inputs if i.value is not None]
    assert len(resolved) == 36  # PROVENANCE: 36 inputs spend outputs of earlier txs in the block
    tx = next(t for t in got.transactions if t.hash.startswith("5de8d57b"))
    assert any(i.value == 631_006_419 and i.spent_txid.startswith("3c40c057") for i in tx.inputs)
    assert _importer(data) == _generic_file(data)


def test_json_lines_crlf_blank_and_failing_lines() -> None:
    good = _compact(BLOCK_279671)
    data = b"\r\n".join([good, b"", b"  \t", good.replace(b"3cbc", b"3CBC"), good]) + b"\r\n"
    assert _importer(data) == _generic_file(data)
    assert len(dispatch.parse_btc_rpc_bytes(data).blocks) == 3
    bad = b"\n".join([good, good[:-3], good])
    got = _importer(bad)
    assert got == _generic_file(bad) and isinstance(got, str) and "record 2" in got
    # bytes that are not ASCII, after lines the native decoder took: the file is read as text
    for odd in (b"\xff", b'"\xc3\xa9"', b"\x0c"):
        data = b"\n".join([good, odd, good])
        assert _importer(data) == _generic_file(data)
    assert "not UTF-8" in str(_importer(b"\n".join([good, b"\xff"])))


# --- varied documents ----------------------------------------------------------------------


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_block())
def test_native_equals_generic_on_varied_blocks(case: str) -> None:
    text = case.encode()
    got = _native(text)
    if got is not None:
        assert got == _generic_doc(text)


def test_varied_blocks_reach_the_native_decoder() -> None:
    examples: list[bytes] = []

    @settings(max_examples=100, deadline=None, database=None)
    @given(_block())
    def collect(case: str) -> None:
        examples.append(case.encode())

    collect()
    taken = [text for text in examples if _native(text) is not None]
    assert len(taken) >= len(examples) // 4
    assert all(_native(text) == _generic_doc(text) for text in taken)


# --- reference counting ----------------------------------------------------------------------


def test_no_objects_leak() -> None:
    """Taken, declined (after Python callbacks) and JSON-lines calls leave nothing behind."""
    (p2pk,) = BTC.glob("rpc/bitcoin-etl/block_with_transactions/*1c920d495e1eeef2*.json")
    cases = [
        BLOCK_279671.read_bytes(),
        p2pk.read_bytes(),  # scripts classified by the Python callback
        p2pk.read_text().replace('"n": 0', '"n": 1', 1).encode(),  # declined after callbacks
        _variant("fee mismatch"),
    ]
    lines = b"\n".join([_compact(BLOCK_279671), b"[1]", _compact(p2pk)])

    def once() -> None:
        for data in cases:
            _native(data)
        blocks: list = []
        txs: list = []
        native.getblock_lines(lines, MAINNET, blocks, txs, lambda *a: True)

    once()
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(20):
        once()
    gc.collect()
    assert sys.getallocatedblocks() - before < 200


# --- found by fuzzing an ASan/UBSan build of the decoder -------------------------------------


def _in_block_spend(prevouts: bool, shift: int = 0) -> tuple[bytes, int]:
    """Block 279,671 cut to the coinbase and its first in-block spend (the spent transaction,
    then the spender), stated fees dropped; prevouts kept (verbosity 3) or dropped (2). The
    in-block input's prevout value is moved by ``shift`` satoshi. Returns the document and the
    value the spent output holds."""
    doc = json.loads(BLOCK_279671.read_text(), parse_float=Decimal)
    txs = doc["result"]["tx"]
    at = {tx["txid"]: i for i, tx in enumerate(txs)}
    spender, spent, vin = next(
        (i, at[v["txid"]], v) for i, tx in enumerate(txs) for v in tx["vin"] if v.get("txid") in at
    )
    value = int(txs[spent]["vout"][vin["vout"]]["value"] * 100_000_000)
    vin["prevout"]["value"] += Decimal(shift) / 100_000_000
    doc["result"]["tx"] = [txs[0], txs[spent], txs[spender]]
    doc["result"]["nTx"] = 3
    for tx in doc["result"]["tx"]:
        tx.pop("fee", None)
        for v in tx["vin"]:
            if not prevouts:
                v.pop("prevout", None)
    text = json.dumps(doc, default=lambda d: f"@@{d:f}@@")  # Decimals: their text, as numbers
    return re.sub(r'"@@([^@"]+)@@"', r"\1", text).encode(), value


def test_in_block_spends_after_a_larger_block_in_the_same_file() -> None:
    """The txid table of a line was probed with the mask of the largest table of the file:
    after block 279,671 (217 transactions) an in-block spend was left unresolved (verbosity
    2) or unchecked (verbosity 3)."""
    small, value = _in_block_spend(prevouts=False)
    alone = _native(small)
    assert alone is not None and alone == _generic_doc(small)
    assert [i.value for i in alone.transactions[2].inputs] == [value]
    lines = _compact(BLOCK_279671) + b"\n" + small + b"\n"
    blocks: list = []
    txs: list = []
    assert native.getblock_lines(lines, MAINNET, blocks, txs, lambda *a: False) == 0
    assert txs[217:] == alone.transactions
    assert _importer(lines) == _generic_file(lines)
    # a prevout that disagrees with the in-block output: declined, alone and after the block
    wrong, _ = _in_block_spend(prevouts=True, shift=1)
    assert _native(wrong) is None
    seen: list = []
    lines = _compact(BLOCK_279671) + b"\n" + wrong
    native.getblock_lines(lines, MAINNET, [], [], lambda *a: seen.append(a[0]) or True)
    assert seen == [2]
    assert _importer(lines) == _generic_file(lines)


SPECIAL = [b'"', b"\\", b"\x00", b"\x1f", b"\x7f", b"\x80", b"\xff", b"\n"]


@pytest.mark.parametrize("offset", range(17))
def test_a_special_byte_at_each_offset_of_a_string(offset: int) -> None:
    """The string scanner reads eight bytes at a time: a quote, backslash, control or
    non-ASCII byte at each offset of a chunk, and a string cut at the end of the buffer."""
    (path,) = BTC.glob("rpc/bitcoin-etl/block_1/rpc_response_getblock_*.json")
    good = _compact(path)
    at = good.index(b'"hex": "') + 8 + offset
    for byte in SPECIAL:
        for data in (good[:at] + byte + good[at + 1 :], good[:at] + byte, good[:at]):
            got = _native(data)
            assert got is None or got == _generic_doc(data)
            if byte in (b'"', b"\\", b"\xff"):
                assert _importer(data) == _generic_file(data)


def test_a_bad_line_before_a_non_utf8_line_is_worded_as_the_generic_path() -> None:
    (path,) = BTC.glob("rpc/bitcoin-etl/block_1/rpc_response_getblock_*.json")
    data = _compact(path) + b'\n{\n"\xff"\n'
    assert "not UTF-8" in str(_generic_file(data))
    assert _importer(data) == _generic_file(data)
