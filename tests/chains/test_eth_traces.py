"""Internal value transfers from Parity and geth traces, against the recorded trace fixtures."""

import pytest

from fundtrace.chains.eth import rpc, traces
from fundtrace.core.errors import ParseError
from fundtrace.core.model import TransferKind
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

RPC = FIXTURES / "eth" / "rpc"
MOVING = {"call", "create", "create2", "suicide", "selfdestruct"}


def _result(name):
    ((kind, result),) = rpc.load_json_records(RPC / name)
    return kind, result


def _parity(name):
    kind, result = _result(name)
    assert kind == rpc.PARITY_TRACES
    by_tx, rewards, orphans = traces.group_parity_traces(result)
    assert not orphans
    return result, by_tx, rewards


def _movements(transfers):
    return sorted((t.index, t.from_address, t.to_address, t.amount) for t in transfers)


def _parity_oracle(items):
    """Independent reading of a Parity trace list: value-moving, non-reverted frames.

    A frame is reverted when it or any trace whose traceAddress is a prefix of its own (same tx)
    has an error. Returns {(tx, tuple(path)): (from, to, value)} for value > 0.
    """
    errs = {(t["transactionHash"], tuple(t["traceAddress"])) for t in items if t.get("error")}
    out = {}
    for t in items:
        if t["type"] == "reward":
            continue
        h, path = t["transactionHash"], tuple(t["traceAddress"])
        if any((h, path[:k]) in errs for k in range(len(path) + 1)):
            continue
        a = t["action"]
        if t["type"] == "call":
            if a["callType"] != "call":
                continue
            frm, to, value = a["from"], a["to"], int(a["value"], 16)
        elif t["type"] == "create":
            frm, to, value = a["from"], t["result"]["address"], int(a["value"], 16)
        else:
            frm, to, value = a["address"], a["refundAddress"], int(a["balance"], 16)
        if value:
            out[(h, path)] = (frm, to, value)
    return out


def _transfers_by_path(by_tx):
    out = {}
    for h, frames in by_tx.items():
        ts, _ = traces.frames_to_transfers(frames)
        for t in ts:
            if t.amount:
                path = tuple(int(x) for x in t.trace_address.split(",")) if t.trace_address else ()
                out[(h, path)] = (t.from_address, t.to_address, t.amount)
    return out


@pytest.mark.parametrize(
    "name",
    [
        "trace_block_1000000.json",
        "trace_block_1000690.json",
        "trace_block_1000895.json",
        "trace_block_1011973.json",
        "trace_block_17073191.json",
        "trace_block_4417196.json",
        "trace_block_508110.json",
        "trace_block_2112234.json",
    ],
)
def test_parity_blocks_match_independent_reading(name):
    items, by_tx, _ = _parity(name)
    assert _transfers_by_path(by_tx) == _parity_oracle(items)


def test_block_1000000_callcode_moves_nothing_and_reward_is_skipped():
    _, by_tx, rewards = _parity("trace_block_1000000.json")
    assert rewards == 1
    ts, failed = traces.frames_to_transfers(
        by_tx["0xea1093d492a1dcb1bef708f771a99a96ff05dcab81ca76c31940300177fcf49f"]
    )
    assert not failed
    # only the 100 ETH top-level call; the nested 100 ETH CALLCODE stays in the caller's account
    assert [(t.kind, t.amount) for t in ts] == [(TransferKind.NATIVE, 100 * 10**18)]
    total = sum(t.amount for fs in by_tx.values() for t in traces.frames_to_transfers(fs)[0])
    assert total == 100 * 10**18 + 437194980000000000


def test_block_1000895_out_of_gas_call_moves_nothing():
    _, by_tx, _ = _parity("trace_block_1000895.json")
    ts, failed = traces.frames_to_transfers(
        by_tx["0xa2f089480e6fd907e786a88d928ba20feeca2ca37ffa84c2d54bae42f5d989c9"]
    )
    assert failed and ts == []
    moved = [t.amount for fs in by_tx.values() for t in traces.frames_to_transfers(fs)[0]]
    assert moved == [1100000000000000000]


def test_block_1011973_suicide_refund():
    _, by_tx, _ = _parity("trace_block_1011973.json")
    ((_h, frames),) = by_tx.items()
    ts, _ = traces.frames_to_transfers(frames)
    assert [(t.kind, t.index, t.from_address, t.to_address, t.amount) for t in ts] == [
        (
            TransferKind.INTERNAL,
            1,
            "0x474faa5018639791952fae334e2911700ac7fe9b",
            "0x83973747eec131bf9a08ac64fb1a518e891bdf4b",
            50000000000000000,
        )
    ]


def test_block_4417196_failed_tx_and_nested_transfer():
    items, by_tx, rewards = _parity("trace_block_4417196.json")
    assert len(items) == 37 and rewards == 2 and len(by_tx) == 19
    ts, failed = traces.frames_to_transfers(by_tx["0xff8fdcd9" + _suffix(by_tx, "0xff8fdcd9")])
    assert failed and ts == []
    h = "0xd05c4230" + _suffix(by_tx, "0xd05c4230")
    ts, _ = traces.frames_to_transfers(by_tx[h])
    nested = [t for t in ts if t.trace_address == "2"]
    assert len(nested) == 1
    assert nested[0].amount == 499529919999952992
    assert nested[0].from_address.startswith("0x6fc82a5f")
    assert nested[0].to_address.startswith("0xd24400ae")


def _suffix(by_tx, prefix):
    (h,) = [h for h in by_tx if h.startswith(prefix)]
    return h[len(prefix) :]


@pytest.mark.parametrize("short", ["0xd05c4230", "0xff8fdcd9", "0x3b00d67c"])
def test_trace_transaction_equals_trace_block_items(short):
    _, block_by_tx, _ = _parity("trace_block_4417196.json")
    _, tx_by_tx, _ = _parity(f"trace_transaction_4417196_{short}.json")
    ((h, frames),) = tx_by_tx.items()
    assert frames == block_by_tx[h]
    assert traces.frames_to_transfers(frames) == traces.frames_to_transfers(block_by_tx[h])


def test_trace_transaction_create_records_new_contract():
    _, by_tx, _ = _parity("trace_transaction_4417196_0x3b00d67c.json")
    ((_, frames),) = by_tx.items()
    ts, _ = traces.frames_to_transfers(frames)
    assert [t.to_address for t in ts] == ["0x7d6ffcc0c34721e02ffc53684710709683580dee"]


def test_block_17073191_delegatecall_values_do_not_move():
    items, by_tx, rewards = _parity("trace_block_17073191.json")
    assert len(items) == 799 and rewards == 0 and len(by_tx) == 119
    delegate_with_value = [
        t
        for t in items
        if t["action"].get("callType") == "delegatecall" and int(t["action"]["value"], 16)
    ]
    assert delegate_with_value  # the fixture really has such frames
    moved = _transfers_by_path(by_tx)
    for t in delegate_with_value:
        assert (t["transactionHash"], tuple(t["traceAddress"])) not in moved
    internal = [k for k in moved if k[1]]
    assert len(internal) <= 68  # PROVENANCE: 68 value-carrying calls below the top


def _geth_frames(name):
    kind, result = _result(name)
    assert kind == rpc.GETH_BLOCK_TRACES
    if isinstance(result, dict):
        result = result["result"]
    return [traces.frames_from_geth(e["result"], tx_hash=e.get("txHash")) for e in result]


@pytest.mark.parametrize("block", [1000000, 1000690, 1000895, 1011973])
def test_geth_calltracer_agrees_with_parity(block):
    _, by_tx, _ = _parity(f"trace_block_{block}.json")
    parity = [traces.frames_to_transfers(by_tx[h]) for h in by_tx]  # block order
    skipped = {}
    geth = [
        traces.frames_to_transfers(fs, skipped=skipped)
        for fs in _geth_frames(f"debug_traceBlockByNumber_callTracer_{block}.json")
    ]
    assert len(parity) == len(geth)
    for (pt, pf), (gt, gf) in zip(parity, geth, strict=True):
        assert pf == gf
        if block == 1011973:
            # geth 2018 reported the SELFDESTRUCT frame without from/to/value: counted, not guessed
            assert _movements(gt) == [m for m in _movements(pt) if m[0] == 0]
            assert skipped == {traces.SKIP_SELFDESTRUCT_NO_VALUE: 1}
        else:
            assert _movements(pt) == _movements(gt)


def test_geth_block_24299787_counts():
    frames_per_tx = _geth_frames("debug_traceBlockByNumber_callTracer_24299787.json")
    assert len(frames_per_tx) == 361
    all_frames = [f for fs in frames_per_tx for f in fs]
    assert len(all_frames) == 1758
    assert sum(f.error is not None for f in all_frames) == 18
    results = [traces.frames_to_transfers(fs) for fs in frames_per_tx]
    assert sum(failed for _, failed in results) == 2
    # independent count: value-carrying CALL/CREATE frames below the top with no failed ancestor
    expected = 0
    for fs in frames_per_tx:
        errs = {f.path for f in fs if f.error}
        for f in fs:
            if not f.path or f.call_type not in MOVING or not f.value:
                continue
            if any(f.path[:k] in errs for k in range(len(f.path) + 1)):
                continue
            expected += 1
    got = sum(1 for ts, _ in results for t in ts if t.kind is TransferKind.INTERNAL and t.amount)
    assert got == expected
    assert expected <= 107


def _geth_tx(name):
    kind, obj = _result(name)
    assert kind == rpc.GETH_TX_TRACE
    return traces.frames_from_geth(obj["result"], tx_hash=obj["txHash"])


def test_geth_nested_transfer_0xbeb3d09a():
    ts, failed = traces.frames_to_transfers(
        _geth_tx("debug_traceTransaction_callTracer_0xbeb3d09a.json")
    )
    assert not failed
    assert ts[0].kind is TransferKind.NATIVE and ts[0].amount == 15000000
    (nested,) = [t for t in ts if t.trace_address == "1"]
    assert nested.amount == 9305872247815172
    assert nested.from_address.startswith("0xbeefbabe")
    assert nested.to_address.startswith("0xea674fdd")


def test_geth_uniswap_weth_unwrap_0x59299b76():
    ts, _ = traces.frames_to_transfers(
        _geth_tx("debug_traceTransaction_callTracer_0x59299b76.json")
    )
    by_path = {t.trace_address: t for t in ts}
    assert by_path["3,0"].amount == by_path["4"].amount == 27974353724829870
    assert by_path["3,0"].from_address.startswith("0xc02aaa39")
    assert by_path["3,0"].to_address.startswith("0x7a250d56")
    assert by_path["4"].to_address.startswith("0xde1b8b73")
    assert [t.index for t in ts] == sorted(t.index for t in ts)


def test_geth_failed_subcall_0x0ccb5dbd():
    frames = _geth_tx("debug_traceTransaction_callTracer_0x0ccb5dbd.json")
    assert len(frames) == 4
    (bad,) = [f for f in frames if f.error]
    assert bad.path == (1, 0) and "out of gas" in bad.error
    ts, failed = traces.frames_to_transfers(frames)
    assert not failed
    assert all(t.trace_address != "1,0" for t in ts)


def test_geth_callcode_frames_move_nothing_0xa620dc5f():
    frames = _geth_tx("debug_traceTransaction_callTracer_0xa620dc5f.json")
    assert sum(f.call_type == "callcode" for f in frames) == 4
    ts, _ = traces.frames_to_transfers(frames)
    callcode_paths = {",".join(map(str, f.path)) for f in frames if f.call_type == "callcode"}
    assert not {t.trace_address for t in ts} & callcode_paths


def test_geth_top_call_value_0xa2782051():
    ts, _ = traces.frames_to_transfers(
        _geth_tx("debug_traceTransaction_callTracer_0xa2782051.json")
    )
    assert ts[0].index == 0 and ts[0].amount == 156153471
    assert ts[0].from_address.startswith("0xae2fc483")
    assert ts[0].to_address.startswith("0x6b75d8af")


def test_flat_calltracer_insufficient_balance_moves_nothing():
    _, result = _result("debug_traceBlockByNumber_flatCallTracer_1603003.json")
    items = [i for e in result for i in e["result"]]
    assert len(result) == 21 and len(items) == 39
    by_tx, _, _ = traces.group_parity_traces(items)
    assert _transfers_by_path(by_tx) == _parity_oracle(items)
    (bad,) = [i for i in items if i.get("error")]
    assert bad["error"] == "insufficient balance for transfer"
    assert (bad["transactionHash"], tuple(bad["traceAddress"])) not in _transfers_by_path(by_tx)


def test_parity_and_geth_ordinals_agree_on_depth_first_order():
    # a synthetic tree: 0 -> [1 -> [2], 3]; Parity items given out of order
    parity_items = [
        {
            "type": "call",
            "traceAddress": [1],
            "action": {
                "callType": "call",
                "from": "0x" + "01" * 20,
                "to": "0x" + "03" * 20,
                "value": "0x3",
            },
            "transactionHash": "0x" + "aa" * 32,
        },
        {
            "type": "call",
            "traceAddress": [0, 0],
            "action": {
                "callType": "call",
                "from": "0x" + "02" * 20,
                "to": "0x" + "04" * 20,
                "value": "0x2",
            },
            "transactionHash": "0x" + "aa" * 32,
        },
        {
            "type": "call",
            "traceAddress": [],
            "action": {
                "callType": "call",
                "from": "0x" + "00" * 19 + "09",
                "to": "0x" + "01" * 20,
                "value": "0x1",
            },
            "transactionHash": "0x" + "aa" * 32,
        },
        {
            "type": "call",
            "traceAddress": [0],
            "action": {
                "callType": "delegatecall",
                "from": "0x" + "01" * 20,
                "to": "0x" + "02" * 20,
                "value": "0x7",
            },
            "transactionHash": "0x" + "aa" * 32,
        },
    ]
    geth = {
        "type": "CALL",
        "from": "0x" + "00" * 19 + "09",
        "to": "0x" + "01" * 20,
        "value": "0x1",
        "calls": [
            {
                "type": "DELEGATECALL",
                "from": "0x" + "01" * 20,
                "to": "0x" + "02" * 20,
                "value": "0x7",
                "calls": [
                    {
                        "type": "CALL",
                        "from": "0x" + "02" * 20,
                        "to": "0x" + "04" * 20,
                        "value": "0x2",
                    }
                ],
            },
            {"type": "CALL", "from": "0x" + "01" * 20, "to": "0x" + "03" * 20, "value": "0x3"},
        ],
    }
    by_tx, _, _ = traces.group_parity_traces(parity_items)
    p, _ = traces.frames_to_transfers(next(iter(by_tx.values())))
    g, _ = traces.frames_to_transfers(traces.frames_from_geth(geth))
    assert [(t.index, t.amount) for t in p] == [(0, 1), (2, 2), (3, 3)]
    assert [(t.index, t.amount) for t in g] == [(t.index, t.amount) for t in p]


def test_broken_trace_tree_is_an_error():
    items = [
        {
            "type": "call",
            "traceAddress": [],
            "action": {
                "callType": "call",
                "from": "0x" + "01" * 20,
                "to": "0x" + "02" * 20,
                "value": "0x1",
            },
            "transactionHash": "0x" + "aa" * 32,
        },
        {
            "type": "call",
            "traceAddress": [1, 0],
            "action": {
                "callType": "call",
                "from": "0x" + "01" * 20,
                "to": "0x" + "02" * 20,
                "value": "0x1",
            },
            "transactionHash": "0x" + "aa" * 32,
        },
    ]
    by_tx, _, _ = traces.group_parity_traces(items)
    with pytest.raises(ParseError, match="no parent"):
        traces.frames_to_transfers(next(iter(by_tx.values())))


def test_bad_trace_value_names_record_and_field():
    items = [
        {
            "type": "call",
            "traceAddress": [],
            "action": {
                "callType": "call",
                "from": "0x" + "01" * 20,
                "to": "0x" + "02" * 20,
                "value": "0xZZ",
            },
            "transactionHash": "0x" + "aa" * 32,
        }
    ]
    with pytest.raises(ParseError) as exc:
        traces.group_parity_traces(items)
    assert exc.value.record == "trace 0" and exc.value.field == "action.value"
