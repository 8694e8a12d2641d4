"""The fast Ethereum paths agree with the reference ones.

* ``erc20.decode_log`` (direct slicing) against an eth-abi decoder of the same log, on every
  log in the fixtures and on generated logs, including high bytes in the address topics;
* ``rpc_decode`` (typed msgspec decoding) against the generic dict path, on every RPC fixture
  file, on replicated JSON lines, and on malformed documents (which must fail identically).
"""

import copy
import json

import pytest
from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from hypothesis import given
from hypothesis import strategies as st

from fundtrace.chains.eth import erc20, etl, rpc, rpc_decode
from fundtrace.chains.eth.records import LogRecord, ReceiptRecord
from fundtrace.chains.eth.rpc_records import parse_log, parse_receipt
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Transfer, TransferKind
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

RPC = FIXTURES / "eth" / "rpc"
ETL = FIXTURES / "eth" / "etl"
ZERO = "0x" + "0" * 40


def abi_reference(log: LogRecord):
    """The eth-abi decoding the fast path replaced (the previous implementation, verbatim)."""
    topics = log.topics
    if not topics or topics[0] != erc20.TRANSFER_TOPIC:
        return None
    if not (len(topics) == 3 and len(log.data) == 66):
        return (
            erc20.SKIP_ERC721
            if len(topics) == 4 and len(log.data) == 2
            else (erc20.SKIP_NONSTANDARD)
        )
    try:
        frm, to, amount = abi_decode(
            ("address", "address", "uint256"),
            bytes.fromhex(topics[1][2:] + topics[2][2:] + log.data[2:]),
        )
    except (DecodingError, ValueError):
        return erc20.SKIP_NONSTANDARD
    frm, to = frm.lower(), to.lower()
    return Transfer(
        index=log.log_index,
        kind=TransferKind.TOKEN,
        asset=log.address,
        from_address=None if frm == ZERO else frm,
        to_address=None if to == ZERO else to,
        amount=amount,
    )


def _fixture_logs() -> list[LogRecord]:
    logs: list[LogRecord] = []
    for path in sorted(RPC.glob("*.json")):
        try:
            records = rpc.load_json_records(path)
        except ParseError:
            continue
        for kind, obj in records:
            if kind == rpc.RECEIPT:
                logs.extend(parse_receipt(obj).logs or ())
            elif kind == rpc.RECEIPTS:
                for r in obj:
                    logs.extend(parse_receipt(r).logs or ())
            elif kind == rpc.LOGS:
                logs.extend(parse_log(x) for x in obj)
    for path in sorted(ETL.glob("*/logs.*")):
        logs.extend(etl.parse_logs_file(path))
    return logs


def test_fast_erc20_decoding_equals_eth_abi_on_every_fixture_log():
    logs = _fixture_logs()
    outcomes = {"transfer": 0, "skip": 0, "other": 0}
    for log in logs:
        fast = erc20.decode_log(log)
        assert fast == abi_reference(log), log
        key = "transfer" if isinstance(fast, Transfer) else "skip" if fast else "other"
        outcomes[key] += 1
    # the corpus covers every branch: ERC-20 transfers, look-alikes and other events
    assert outcomes["transfer"] >= 290 and outcomes["skip"] >= 9 and outcomes["other"] > 0


hexbytes = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
address_topic = st.tuples(
    st.sampled_from([b"\0" * 12, b"\0" * 11 + b"\1", b"\xff" * 12]),
    st.binary(min_size=20, max_size=20) | st.just(b"\0" * 20),
).map(lambda t: "0x" + (t[0] + t[1]).hex())


@given(
    t1=address_topic | hexbytes,
    t2=address_topic | hexbytes,
    data=hexbytes | st.binary(max_size=96).map(lambda b: "0x" + b.hex()),
    extra=st.lists(hexbytes, max_size=2),
    upper=st.booleans(),
    index=st.integers(min_value=0, max_value=10**6),
)
def test_fast_erc20_decoding_equals_eth_abi_on_generated_logs(t1, t2, data, extra, upper, index):
    topics = [erc20.TRANSFER_TOPIC, t1, t2, *extra]
    if upper:
        topics = [t.upper().replace("0X", "0x") for t in topics[:1]] + [
            "0x" + t[2:].upper() for t in topics[1:]
        ]
    log = LogRecord(None, index, "0x" + "ab" * 20, tuple(topics), data)
    assert erc20.decode_log(log) == abi_reference(log)


def _outcome(fn):
    try:
        batch = fn()
    except ParseError as exc:
        return ("error", str(exc))
    return ("ok", batch.blocks, batch.transactions, batch.warnings, batch.skipped)


def _same(paths):
    source = str(paths[0]) if len(paths) == 1 else None  # as parse_rpc_files names it
    slow = _outcome(
        lambda: rpc.assemble_records(
            [r for p in paths for r in rpc.load_json_records(p)], source=source
        )
    )
    fast = _outcome(lambda: rpc.parse_rpc_files(paths))
    assert fast == slow, paths
    return fast


def test_typed_decoding_equals_generic_path_on_every_rpc_fixture():
    files = sorted(RPC.glob("*.json"))
    assert len(files) > 50
    for path in files:
        _same([path])


def test_typed_decoding_equals_generic_path_on_joined_blocks_and_receipts():
    for n in (483920, 1755635):
        paths = sorted(RPC.glob(f"eth_getTransactionReceipt_{n}_*.json"))
        paths.append(RPC / f"eth_getBlockByNumber_{n}_full.json")
        kind, _, txs, *_ = _same(paths)
        assert kind == "ok" and txs
        # the typed decoder really handled them (not a silent fallback to dicts)
        for p in paths:
            for _, obj in rpc_decode.records_from_bytes(p.read_bytes()):
                assert type(obj) in (tuple, ReceiptRecord)


def _json_lines(tmp_path, mutate=None):
    block = json.loads((RPC / "eth_getBlockByNumber_483920_full.json").read_text())["result"]
    receipts = [
        json.loads(p.read_text())["result"]
        for p in sorted(RPC.glob("eth_getTransactionReceipt_483920_*.json"))
    ]
    # a receipt list too, as eth_getBlockReceipts gives
    docs = [block, *receipts, copy.deepcopy(receipts)]
    if mutate:
        mutate(docs)
    path = tmp_path / "lines.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    return path


def test_typed_decoding_equals_generic_path_on_json_lines(tmp_path):
    kind, _, txs, *_ = _same([_json_lines(tmp_path)])
    assert kind == "ok" and len(txs) == 4


def _set(path, value):
    def mutate(docs):
        obj = docs
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return mutate


def test_malformed_documents_fail_exactly_as_on_the_generic_path(tmp_path):
    bad = [
        ((0, "transactions", 1, "from"), "0x123"),
        ((0, "transactions", 1, "value"), "-0x1"),
        ((0, "transactions", 1, "value"), "12"),  # decimal string: the generic reader's rule
        ((0, "transactions", 2, "hash"), "0x" + "g" * 64),
        ((0, "number"), 483920),  # JSON int
        ((0, "transactions", 0, "blockNumber"), "0x1"),  # names another block
        ((1, "status"), "0x2"),
        ((1, "logs", 0, "topics", 1), "0x" + "Z" * 64),
        ((1, "logs", 0, "data"), "0x123"),
        ((1, "gasUsed"), None),
        ((2, "transactionHash"), "0x12"),
        ((5, 0, "logs", 0, "logIndex"), "0xzz"),
    ]
    errors = 0
    for n, (where, value) in enumerate(bad):
        d = tmp_path / str(n)
        d.mkdir()
        kind, *_ = _same([_json_lines(d, _set(where, value))])
        errors += kind == "error"
    assert errors >= len(bad) - 2  # "12" and the int number are valid input, differently spelt


def test_a_block_without_a_timestamp_is_an_error_naming_the_field(tmp_path):
    """Found by fuzzing the native path: the typed decoder raised a bare TypeError here."""

    def drop(docs):
        del docs[0]["timestamp"]

    path = _json_lines(tmp_path, drop)
    kind, *_ = _same([path])
    assert kind == "error"
    with pytest.raises(ParseError, match="field 'timestamp': missing field"):
        rpc.parse_rpc_bytes(path.read_bytes(), source=str(path))


def test_a_stray_nul_byte_is_invalid_json_not_a_utf16_codec_error(tmp_path):
    """Given bytes, ``json.loads`` guesses UTF-16 from a NUL and words a codec error."""
    good = _json_lines(tmp_path).read_bytes()
    path = tmp_path / "nul.jsonl"
    path.write_bytes(b"\x00" + good[1:])
    kind, *_ = _same([path])
    assert kind == "error"
    with pytest.raises(ParseError, match="record 1: invalid JSON: Expecting value") as err:
        rpc.parse_rpc_files([path])
    assert "utf-16" not in str(err.value)
