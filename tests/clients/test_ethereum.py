"""Ethereum RPC fallbacks and Etherscan account paging against scripted servers."""

from __future__ import annotations

import logging

import pytest

from fundtrace.clients.errors import IndexerError, RpcError
from fundtrace.clients.ethereum import EthereumRpc, EtherscanClient
from fundtrace.clients.http import HttpClient, JsonRpcClient
from tests.clients.conftest import Reply, policy, rpc_error, rpc_result


def eth(server, fake) -> EthereumRpc:
    return EthereumRpc(JsonRpcClient(HttpClient(server.url, retry=policy(fake))))


def by_method(table):
    """Route single calls and batches by method; each entry maps params -> result or error."""

    def answer(call):
        fn = table[call["method"]]
        out = fn(call["params"])
        if isinstance(out, tuple):
            return rpc_error(out[0], out[1], call["id"])
        return rpc_result(out, call["id"])

    def handler(seen):
        body = seen.json
        if isinstance(body, list):
            return Reply(200, [answer(c) for c in body][::-1])  # out of order on purpose
        return Reply(200, answer(body))

    return handler


def test_block_number_and_block(server, fake_time):
    server.handler = by_method(
        {
            "eth_blockNumber": lambda p: "0x1312d00",
            "eth_getBlockByNumber": lambda p: {"number": p[0], "full": p[1]},
        }
    )
    client = eth(server, fake_time)
    assert client.block_number() == 20_000_000
    assert client.get_block(20_000_000) == {"number": "0x1312d00", "full": True}
    assert client.get_block("finalized", full=False) == {"number": "finalized", "full": False}


def test_receipts_fall_back_to_batched_receipts(server, fake_time):
    hashes = ["0xaa", "0xbb", "0xcc"]
    server.handler = by_method(
        {
            "eth_getBlockReceipts": lambda p: (
                -32601,
                "the method eth_getBlockReceipts does not exist",
            ),
            "eth_getBlockByNumber": lambda p: {"transactions": hashes},
            "eth_getTransactionReceipt": lambda p: {"transactionHash": p[0], "status": "0x1"},
        }
    )
    client = eth(server, fake_time)
    receipts = client.get_block_receipts(100)
    assert [r["transactionHash"] for r in receipts] == hashes
    assert client.block_receipts_supported is False
    n = len(server.requests)
    client.get_block_receipts(101, tx_hashes=["0xdd"])
    # Known unsupported: straight to the batch, and no block fetch when hashes are given.
    assert len(server.requests) == n + 1
    assert server.requests[-1].json[0]["method"] == "eth_getTransactionReceipt"


def test_block_receipts_used_when_supported(server, fake_time):
    server.handler = by_method({"eth_getBlockReceipts": lambda p: [{"blockNumber": p[0]}]})
    client = eth(server, fake_time)
    assert client.get_block_receipts(16) == [{"blockNumber": "0x10"}]
    assert client.block_receipts_supported is True


def test_receipts_other_errors_propagate(server, fake_time):
    server.handler = by_method({"eth_getBlockReceipts": lambda p: (-32000, "header not found")})
    with pytest.raises(RpcError, match="header not found"):
        eth(server, fake_time).get_block_receipts(5)


def test_traces_fall_back_to_call_tracer(server, fake_time):
    server.handler = by_method(
        {
            "trace_block": lambda p: (-32601, "Method not found"),
            "debug_traceBlockByNumber": lambda p: [{"txHash": "0x1", "result": {"opts": p[1]}}],
        }
    )
    client = eth(server, fake_time)
    traces = client.trace_block(7)
    assert traces.style == "callTracer"
    assert traces.traces[0]["result"]["opts"] == {"tracer": "callTracer"}
    client.trace_block(8)
    assert [r.rpc_method for r in server.requests] == [
        "trace_block",
        "debug_traceBlockByNumber",
        "debug_traceBlockByNumber",
    ]


def test_trace_block_parity_style(server, fake_time):
    server.handler = by_method({"trace_block": lambda p: [{"traceAddress": [], "type": "call"}]})
    traces = eth(server, fake_time).trace_block(7)
    assert traces.style == "parity" and traces.traces[0]["type"] == "call"


def test_get_logs_splits_ranges_the_provider_refuses(server, fake_time, caplog):
    caplog.set_level(logging.INFO)
    asked = []

    def logs(params):
        lo, hi = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        asked.append((lo, hi))
        if hi - lo + 1 > 3:
            return (-32005, "query returned more than 10000 results")
        return [{"blockNumber": hex(b)} for b in range(lo, hi + 1)]

    server.handler = by_method({"eth_getLogs": logs})
    client = eth(server, fake_time)
    client.rpc.retryable_codes = frozenset()  # this provider's -32005 means "range too big"
    got = client.get_logs(0, 9, address="0xToken")
    assert [int(x["blockNumber"], 16) for x in got] == list(range(10))
    assert asked[0] == (0, 9)
    assert sorted(a for a in asked if a[1] - a[0] < 3) == [(0, 2), (3, 4), (5, 7), (8, 9)]


def test_erc20_metadata_reverted_field_is_none(server, fake_time):
    def call(params):
        sel = params[0]["data"]
        if sel == "0x06fdde03":
            return (-32000, "execution reverted")
        return "0x" + "00" * 31 + "06" if sel == "0x313ce567" else "0x"

    server.handler = by_method({"eth_call": call})
    meta = eth(server, fake_time).erc20_metadata("0xA0b8")
    assert meta == {"name": None, "symbol": None, "decimals": "0x" + "00" * 31 + "06"}


# -- Etherscan --------------------------------------------------------------------------------

API_KEY = "ETHERSCANKEY0123456789ABCDEFGHIJ"


class FakeEtherscan:
    """Etherscan's account API semantics: block window, asc order, page/offset, result cap."""

    def __init__(self, rows, cap=10):
        self.rows = sorted(rows, key=lambda r: (int(r["blockNumber"]), r["hash"]))
        self.cap = cap
        self.windows = []

    def __call__(self, seen):
        q = {k: v[0] for k, v in seen.query.items()}
        assert q["apikey"] == API_KEY and q["module"] == "account" and q["sort"] == "asc"
        page, offset = int(q["page"]), int(q["offset"])
        if page * offset > self.cap:
            return Reply(
                200, {"status": "0", "message": "NOTOK", "result": "Result window is too large"}
            )
        lo, hi = int(q["startblock"]), int(q["endblock"])
        self.windows.append((lo, page))
        hits = [r for r in self.rows if lo <= int(r["blockNumber"]) <= hi]
        chunk = hits[(page - 1) * offset : page * offset]
        if not chunk:
            return Reply(200, {"status": "0", "message": "No transactions found", "result": []})
        return Reply(200, {"status": "1", "message": "OK", "result": chunk})


def etherscan(server, fake, **kw) -> EtherscanClient:
    return EtherscanClient.from_url(
        server.url + "/v2/api", api_key=API_KEY, retry=policy(fake), rate_limit=None, **kw
    )


def rows_over_blocks(blocks):
    out = []
    for b, n in blocks:
        out += [
            {"blockNumber": str(b), "hash": f"0x{b:04x}{i:02x}", "confirmations": "9"}
            for i in range(n)
        ]
    return out


def test_etherscan_paging_moves_the_window_at_the_result_cap(server, fake_time):
    # 23 rows; block 104 has 5 rows and straddles the first window's 9-row cut (cap 10, size 3).
    rows = rows_over_blocks([(100, 2), (101, 1), (103, 3), (104, 5), (105, 4), (106, 1), (108, 7)])
    fake = FakeEtherscan(rows, cap=10)
    server.handler = fake
    client = etherscan(server, fake_time, page_size=3, max_results=10)
    got = list(client.iter_txlist("0xVictim", start_block=0, end_block=200))
    assert got == fake.rows  # every row exactly once, oldest first
    assert len(got) == 23
    # Pages 1-3 of each window; the next window starts at the last block seen.
    assert fake.windows[:4] == [(0, 1), (0, 2), (0, 3), (104, 1)]
    assert all(page <= 3 for _, page in fake.windows)
    q = server.requests[0].query
    assert q["chainid"] == ["1"] and q["action"] == ["txlist"] and q["address"] == ["0xVictim"]


def test_etherscan_empty_history_is_empty(server, fake_time):
    server.push(Reply(200, {"status": "0", "message": "No transactions found", "result": []}))
    assert list(etherscan(server, fake_time).iter_tokentx("0xNobody")) == []
    assert len(server.requests) == 1


def test_etherscan_rate_limit_message_is_retried(server, fake_time):
    server.push(
        Reply(200, {"status": "0", "message": "NOTOK", "result": "Max rate limit reached"}),
        Reply(
            200, {"status": "1", "message": "OK", "result": [{"blockNumber": "1", "hash": "0x1"}]}
        ),
    )
    got = list(etherscan(server, fake_time).iter_txlistinternal("0xA"))
    assert got == [{"blockNumber": "1", "hash": "0x1"}]
    assert fake_time.sleeps == [0.5]


def test_etherscan_error_names_redacted_request(server, fake_time, caplog):
    caplog.set_level(logging.DEBUG)
    server.push(Reply(200, {"status": "0", "message": "NOTOK", "result": "Invalid API Key"}))
    with pytest.raises(IndexerError) as info:
        list(etherscan(server, fake_time).iter_txlist("0xA"))
    msg = str(info.value)
    assert "Invalid API Key" in msg and "action=txlist" in msg and "apikey=***" in msg
    assert API_KEY not in msg + caplog.text


def test_etherscan_too_many_rows_in_one_block_is_reported(server, fake_time):
    server.handler = FakeEtherscan(rows_over_blocks([(50, 12)]), cap=10)
    client = etherscan(server, fake_time, page_size=5, max_results=10)
    with pytest.raises(IndexerError, match="more than 10 txlist rows in block 50"):
        list(client.iter_txlist("0xA"))


def test_etherscan_from_env(server):
    env = {"FUNDTRACE_ETHERSCAN_URL": server.url + "/api", "FUNDTRACE_ETHERSCAN_API_KEY": API_KEY}
    client = EtherscanClient.from_env(environ=env, chain_id=None)
    assert client.api_key == API_KEY and API_KEY not in client.url
    server.push(Reply(200, {"status": "1", "message": "OK", "result": []}))
    assert client.account_page("txlist", "0xA") == []
    assert server.requests[0].query["apikey"] == [API_KEY]
    assert "chainid" not in server.requests[0].query
