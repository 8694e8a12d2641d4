"""The typed getblock decoders (``btc.rpc_decode``: the native one where built, then msgspec)
yield exactly what the generic dict path yields: the same Batch for every document they take,
the same error for every one they do not. Every test runs twice, once with the native decoder
in front (``impl`` "native") and once without it ("msgspec").

Reference results come from the generic path itself (``parse_getblock`` over
``json.loads(..., parse_float=Decimal)``, and the importer's text reader), so these tests fail
on any difference, whichever side it is on; the block-279,671 figures are PROVENANCE.md's.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundtrace.chains.btc import rpc_decode
from fundtrace.chains.btc.core_rpc import parse_getblock, parse_getblock_bytes
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch
from fundtrace.ingest import dispatch
from tests.chains.test_btc_support import BLOCK_279671, BTC, getblock_files
from tests.paths import needs_shared

pytestmark = needs_shared

ALL_FIXTURES = sorted(p for p in BTC.rglob("*.json"))


@pytest.fixture(autouse=True, params=["native", "msgspec"])
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which typed decoder is in front: the native one (if built) or msgspec alone."""
    if request.param == "native":
        if rpc_decode.native is None:
            pytest.skip("the native extension is not built (tests/chains/test_btc_native.py)")
    else:
        monkeypatch.setattr(rpc_decode, "native", None)
    return request.param


def _generic_file(data: bytes, monkeypatch: pytest.MonkeyPatch) -> Batch | str:
    with monkeypatch.context() as m:
        m.setattr(rpc_decode, "available", lambda: False)
        return _outcome(lambda: dispatch.parse_btc_rpc_bytes(data, source="f"))


def _outcome(run: Any) -> Batch | str:
    """The batch, or the error as the user would see it."""
    try:
        return run()
    except (ParseError, ValueError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _generic_doc(text: bytes) -> Batch | str:
    return _outcome(lambda: parse_getblock(json.loads(text, parse_float=Decimal), source="s"))


def _fast_doc(text: bytes) -> Batch | str:
    return _outcome(lambda: parse_getblock_bytes(text, source="s"))


# --- the real fixtures ------------------------------------------------------------------------


@pytest.mark.parametrize("path", getblock_files(), ids=lambda p: p.name[:40])
def test_getblock_fixtures_typed_equals_generic(path: Path) -> None:
    data = path.read_bytes()
    expected = _generic_doc(data)
    assert isinstance(expected, Batch)
    assert rpc_decode.getblock_batch(data) == expected  # the typed path takes every one of them
    assert parse_getblock_bytes(data) == expected


def test_block_279671_figures_on_the_typed_path() -> None:
    batch = rpc_decode.getblock_batch(BLOCK_279671.read_bytes())
    (block,) = batch.blocks
    assert (block.number, block.tx_count, block.timestamp) == (279671, 217, 1389346531)
    txs = batch.transactions
    assert sum(len(t.inputs) for t in txs) == 1054
    assert sum(len(t.outputs) for t in txs) == 725
    coinbase, *rest = txs
    assert coinbase.is_coinbase and coinbase.output_total() == 2_505_047_000
    assert sum(t.fee for t in rest) == 5_047_000 == coinbase.output_total() - 2_500_000_000
    assert all(t.input_total() == t.output_total() + t.fee for t in rest)
    tx = next(t for t in txs if t.hash.startswith("1fb84fb6"))
    assert [(o.value, o.address) for o in tx.outputs] == [
        (30_000_000, "1CKMi4rzpcCZZ8QMitMGVMe9tY7vAgcUUF"),
        (119_900_000, "1PxP8JgfkeSHT9FgYCuEtUVabgG88SysZt"),
    ]
    assert (tx.inputs[0].value, tx.fee) == (150_000_000, 100_000)
    assert {o.script_type for t in txs for o in t.outputs} == {"pubkeyhash"}


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: str(p.relative_to(BTC))[:60])
def test_every_btc_fixture_imports_alike_as_rpc(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verbosity 2 and 3, getrawtransaction, getblockhash, Esplora and etl files alike."""
    data = path.read_bytes()
    assert _outcome(lambda: dispatch.parse_btc_rpc_bytes(data, source="f")) == _generic_file(
        data, monkeypatch
    )


def test_json_lines_mixing_shapes_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines the typed path takes, lines it leaves, blank lines; then an invalid line."""
    compact = [json.dumps(json.loads(p.read_text())).encode() for p in getblock_files()]
    good = b"\n".join(
        [
            compact[-1],
            b"",
            b'"00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048"',
            *compact[:-1],
            b"   ",
            compact[-1].replace(b"3cbc", b"3CBC"),  # uppercase hex: the generic path
        ]
    )
    fast = dispatch.parse_btc_rpc_bytes(good, source="f")
    assert fast == _generic_file(good, monkeypatch)
    assert fast.skipped == {"btc_block_hash": 1}
    assert len(fast.blocks) == len(compact) + 1
    bad = good + b"\n" + compact[0][:-5] + b"\n" + compact[0]
    got = _outcome(lambda: dispatch.parse_btc_rpc_bytes(bad, source="f"))
    assert got == _generic_file(bad, monkeypatch)
    assert isinstance(got, str) and f"record {len(good.splitlines()) + 1}" in got


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"  \n ",
        b"[1, 2]",
        b'{"result": null, "id": 1}',
        b'{"error": {"message": "boom"}, "id": 1, "result": null}',
        b"\xff",
        b'{"a": 1}\x0c{"a": 2}',
        b"{}\r\n{}",
    ],
)
def test_odd_files_behave_as_the_text_reader(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _outcome(lambda: dispatch.parse_btc_rpc_bytes(data, source="f")) == _generic_file(
        data, monkeypatch
    )


# --- hypothesis-varied documents ---------------------------------------------------------------

HEX = "0123456789abcdef"
P2PKH_ADDR = "1CKMi4rzpcCZZ8QMitMGVMe9tY7vAgcUUF"


def _h(n: int) -> st.SearchStrategy[str]:
    return st.text(HEX, min_size=n, max_size=n)


# scripts the typed path recognises, ones it hands to Core's rules, and broken ones
TEMPLATES = st.one_of(
    _h(40).map(lambda x: f"76a914{x}88ac"),
    _h(40).map(lambda x: f"a914{x}87"),
    _h(40).map(lambda x: f"0014{x}"),
    _h(64).map(lambda x: f"0020{x}"),
    _h(64).map(lambda x: f"5120{x}"),
)
ODD_SCRIPTS = st.one_of(
    _h(66).map(lambda x: f"21{x}ac"),  # P2PK (compressed key)
    _h(40).map(lambda x: f"6a14{x}"),  # OP_RETURN
    _h(40).map(lambda x: f"76a914{x}88ad"),  # P2PKH look-alike: non-standard
    _h(40).map(lambda x: f"a914{x}88"),
    st.sampled_from(["", "51", "6a", "4e73", "00", "0151"]),
    _h(40).map(lambda x: f"76A914{x}88AC"),  # uppercase hex
    _h(49),  # odd length
    st.just("76a914zz"),  # not hex
)

AMOUNTS = st.one_of(
    st.integers(0, 2_100_000_000_000_000).map(lambda s: f"{s // 10**8}.{s % 10**8:08d}"),
    st.integers(0, 10**12).map(lambda s: str(Decimal(s) / 10**8)),  # fewer decimals, "1E-8"
    st.sampled_from(["0", "50", "1e-8", "1.5E2", "0.000000001", "-1.0", "null", '"1.0"', "5e400"]),
)
ODD_ADDRESS_FIELDS = st.one_of(
    st.just({}),
    st.just({"address": ""}),
    st.just({"addresses": [P2PKH_ADDR], "reqSigs": 1}),
    st.just({"addresses": ["nonstandard0a0b"]}),
    st.just({"addresses": [P2PKH_ADDR, P2PKH_ADDR]}),
    st.just({"address": 7}),
)


def _rarely(draw: st.DrawFn, usual: st.SearchStrategy, odd: st.SearchStrategy) -> Any:
    # a middle value: hypothesis favours the ends of a range
    return draw(odd) if draw(st.integers(0, 14)) == 7 else draw(usual)


@st.composite
def _spk(draw: st.DrawFn) -> dict:
    script = _rarely(draw, TEMPLATES, ODD_SCRIPTS)
    address = _rarely(draw, st.just({"address": P2PKH_ADDR}), ODD_ADDRESS_FIELDS)
    return {"asm": "", "hex": script, **address, "type": "x"}


def _spelling(sat: int) -> st.SearchStrategy[str]:
    """How a source may spell an amount of ``sat`` satoshi as a JSON number."""
    return st.sampled_from(
        [
            f"{sat // 10**8}.{sat % 10**8:08d}",  # Bitcoin Core
            str(Decimal(sat) / 10**8),  # re-serialized: 50.0, 1E-8
            f"{sat}e-8",
        ]
    )


@st.composite
def _block(draw: st.DrawFn) -> str:
    """The JSON text of a getblock document: mostly consistent, sometimes not in one place."""
    amounts: list[str] = []

    def amount(sat: int) -> str:
        if draw(st.integers(0, 14)) == 7:
            text = draw(st.one_of(_spelling(sat), AMOUNTS))
        else:
            text = f"{sat // 10**8}.{sat % 10**8:08d}"
        amounts.append(text)
        return f"@@{len(amounts) - 1}@@"

    def odd(n: int = 20) -> bool:
        return draw(st.integers(0, n)) == n // 2

    n_tx = draw(st.integers(1, 4))
    txids = [draw(_h(64)) for _ in range(n_tx)]
    if odd():
        txids[-1] = txids[0]  # a txid twice
    verbosity = draw(st.sampled_from([2, 3, 3]))
    txs = []
    made: list[tuple[str, int, int]] = []  # (txid, n, value)
    for i, txid in enumerate(txids):
        vin: list[dict] = []
        total_in: int | None = 0
        if i == 0:
            vin = [{"coinbase": "04ffff001d0104", "sequence": 4294967295}]
            total_in = draw(st.integers(0, 50 * 10**8))
        for _ in range(0 if i == 0 else draw(st.integers(0, 3))):
            value = draw(st.integers(0, 10**10))
            if made and draw(st.booleans()):
                spent, n, value = draw(st.sampled_from(made))
                if odd():
                    value += 1
            else:
                spent, n = draw(_h(64)), draw(st.integers(0, 3))
            v: dict = {"txid": spent, "vout": n, "sequence": draw(st.integers(0, 2**32 - 1))}
            if verbosity == 3 and not odd(10):
                v["prevout"] = {"value": amount(value), "scriptPubKey": draw(_spk())}
            elif all(spent != t or n != k for t, k, _ in made):
                total_in = None  # not resolvable: the fee stays unknown
            vin.append(v)
            if total_in is not None:
                total_in += value
        spend = (total_in or 0) + (1 if odd() else 0)
        cuts = sorted(draw(st.lists(st.integers(0, spend), max_size=3)))
        values = [b - a for a, b in zip([0, *cuts], [*cuts, spend], strict=True)][:-1] or []
        vout = [
            {"value": amount(x), "n": k if not odd(30) else k + 1, "scriptPubKey": draw(_spk())}
            for k, x in enumerate(values)
        ]
        tx: dict = {"txid": txid, "hash": txid, "vin": vin, "vout": vout}
        if draw(st.integers(0, 3)) == 0:
            fee = 0 if i == 0 else (total_in or 0) - sum(values)
            tx["fee"] = amount(max(fee, 0) + (1 if odd() else 0))
        txs.append(tx)
        made += [(txid, k, x) for k, x in enumerate(values)]
    if odd():
        txs.reverse()  # the coinbase not first
    block = {
        "hash": draw(_h(64)),
        "height": draw(st.integers(0, 900_000)),
        "time": 1389346531,
        "nTx": n_tx if not odd() else n_tx + 1,
        "tx": txs,
    }
    if draw(st.booleans()):
        block["previousblockhash"] = draw(_h(64))
    doc: Any = _rarely(
        draw,
        st.sampled_from(
            [
                {"result": block, "error": None, "id": "dev"},
                {"jsonrpc": "2.0", "result": block, "id": 1},
                block,
            ]
        ),
        st.sampled_from([{"result": block}, {"result": block, "error": {"code": -1}, "id": 1}]),
    )
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 2])))
    return re.sub(r'"@@(\d+)@@"', lambda m: amounts[int(m.group(1))], text)


def _plain(a: str) -> bool:
    return a[0].isdigit()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(_block())
def test_typed_path_equals_generic_on_varied_blocks(case: str) -> None:
    text = case.encode()
    assert _fast_doc(text) == _generic_doc(text)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_block(), min_size=1, max_size=3))
def test_importer_equals_text_reader_on_varied_json_lines(cases: list[str]) -> None:
    data = b"\n".join(text.replace("\n", " ").encode() for text in cases)
    with pytest.MonkeyPatch.context() as m:
        got = _outcome(lambda: dispatch.parse_btc_rpc_bytes(data, source="f"))
        expected = _generic_file(data, m)
    assert got == expected


def test_varied_blocks_reach_the_typed_path() -> None:
    """The property tests above are only worth something if the typed path takes most blocks."""
    taken = 0
    examples = []

    @settings(max_examples=100, deadline=None, database=None)
    @given(_block())
    def collect(case: str) -> None:
        examples.append(case.encode())

    collect()
    for text in examples:
        try:
            rpc_decode.getblock_batch(text)
            taken += 1
        except rpc_decode.DecodeErrors:
            pass
    assert taken >= len(examples) // 4
