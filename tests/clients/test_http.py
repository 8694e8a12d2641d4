"""Fault tests of the shared HTTP layer against a scripted loopback server."""

from __future__ import annotations

import base64
import logging
import random
import socket
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtrace.clients.errors import (
    ConfigError,
    HttpStatusError,
    MalformedResponseError,
    RpcError,
    TransportError,
)
from fundtrace.clients.http import Endpoint, HttpClient, JsonRpcClient, decode_json
from fundtrace.clients.retry import RetryPolicy, parse_retry_after
from tests.clients.conftest import WALL_CLOCK, FakeTime, Reply, policy, rpc_error, rpc_result


def rpc(server, fake: FakeTime, url: str | None = None, **kw) -> JsonRpcClient:
    retry_kw = {k: kw.pop(k) for k in list(kw) if k in RetryPolicy.__dataclass_fields__}
    http = HttpClient(url or server.url, retry=policy(fake, **retry_kw), clock=fake.clock, **kw)
    return JsonRpcClient(http)


def echo_id(result):
    """Reply with the request's own id (what a real node does)."""
    return lambda seen: Reply(200, rpc_result(result, seen.json["id"]))


# -- successful calls -------------------------------------------------------------------------


def test_call_returns_result_with_exact_decimals(server, fake_time):
    server.push(
        Reply(
            200,
            b'{"jsonrpc":"2.0","id":1,"result":{"value":0.00012345,"n":123456789012345678901}}',
        )
    )
    result = rpc(server, fake_time).call("getrawtransaction", ["ab", True])
    assert result["value"] == Decimal("0.00012345")
    assert isinstance(result["value"], Decimal)
    assert result["n"] == 123456789012345678901
    sent = server.requests[0].json
    assert sent["method"] == "getrawtransaction" and sent["params"] == ["ab", True]
    assert fake_time.sleeps == []


def test_decode_json_rejects_nan():
    with pytest.raises(ValueError):
        decode_json(b'{"value": NaN}')


# -- retries and backoff ----------------------------------------------------------------------


def test_429_honours_retry_after_seconds(server, fake_time):
    server.push(Reply(429, b"slow down", {"Retry-After": "3"}), echo_id(7))
    assert rpc(server, fake_time).call("getblockcount") == 7
    assert len(server.requests) == 2
    assert fake_time.sleeps == [3.0]


def test_429_honours_retry_after_http_date(server, fake_time):
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(WALL_CLOCK + 7))
    server.push(Reply(429, b"", {"Retry-After": when}), echo_id(1))
    assert rpc(server, fake_time).call("getblockcount") == 1
    assert fake_time.sleeps == [7.0]


def test_retry_after_is_clamped(server, fake_time):
    server.push(Reply(503, b"", {"Retry-After": "86400"}), echo_id(1))
    rpc(server, fake_time, max_retry_after=60.0).call("getblockcount")
    assert fake_time.sleeps == [60.0]


def test_500_then_success_backs_off_exponentially(server, fake_time):
    server.push(Reply(500, b"oops"), Reply(502, b"bad gateway"), Reply(500, b""), echo_id(42))
    client = rpc(server, fake_time, backoff_base=0.5, backoff_cap=30.0)
    assert client.call("getblockcount") == 42
    assert len(server.requests) == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]  # ceiling of full jitter: base * 2**n


def test_backoff_schedule_is_capped(server, fake_time):
    server.handler = lambda seen: Reply(503, b"unavailable")
    client = rpc(server, fake_time, max_retries=6, backoff_base=1.0, backoff_cap=5.0)
    with pytest.raises(HttpStatusError) as info:
        client.call("getblockcount")
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert len(server.requests) == 7
    assert info.value.status == 503


@given(
    seed=st.integers(0, 2**32),
    n=st.integers(0, 20),
    base=st.floats(0.01, 5),
    cap=st.floats(0.01, 60),
)
def test_full_jitter_stays_within_exponential_ceiling(seed, n, base, cap):
    p = RetryPolicy(backoff_base=base, backoff_cap=cap, rng=random.Random(seed))
    delay = p.backoff(n)
    assert 0.0 <= delay <= min(cap, base * 2**n)


def test_seeded_jitter_is_deterministic(server, fake_time):
    server.push(Reply(500), Reply(500), echo_id(1))
    server.push(Reply(500), Reply(500), echo_id(1))
    a, b = FakeTime(), FakeTime()
    rpc(server, a, rng=random.Random(5)).call("x")
    rpc(server, b, rng=random.Random(5)).call("x")
    assert a.sleeps == b.sleeps
    assert a.sleeps[0] <= 0.5 and a.sleeps[1] <= 1.0
    assert len(set(a.sleeps)) == 2  # really random, not the ceiling


def test_gives_up_with_one_line_error_naming_url_and_request(server, fake_time):
    server.handler = lambda seen: Reply(503, b"Service Unavailable\n<html>down</html>")
    client = rpc(server, fake_time, max_retries=3)
    with pytest.raises(HttpStatusError) as info:
        client.call("getblockhash", [840000])
    msg = str(info.value)
    assert "\n" not in msg
    assert "HTTP 503" in msg
    assert server.url in msg
    assert "last request: getblockhash [840000]" in msg
    assert "gave up after 4 attempts" in msg
    assert len(server.requests) == 4


def test_non_retryable_status_fails_at_once(server, fake_time):
    server.push(Reply(401, b""))
    with pytest.raises(HttpStatusError) as info:
        rpc(server, fake_time).call("getblockcount")
    assert info.value.status == 401
    assert len(server.requests) == 1 and fake_time.sleeps == []


def test_malformed_json_is_retried_a_bounded_number_of_times(server, fake_time):
    server.push(Reply(200, b'{"jsonrpc": "2.0", "id": 1, "resu'), echo_id(5))
    assert rpc(server, fake_time).call("getblockcount") == 5
    assert len(server.requests) == 2

    server.handler = lambda seen: Reply(200, b"<html>proxy error</html>")
    client = rpc(server, fake_time, max_malformed_retries=2, max_retries=10)
    with pytest.raises(MalformedResponseError) as info:
        client.call("getblockcount")
    assert len(server.requests) == 2 + 3
    msg = str(info.value)
    assert "malformed JSON" in msg and "<html>proxy error" in msg
    assert "gave up after 3 malformed responses" in msg
    assert "last request: getblockcount" in msg


def test_hang_longer_than_timeout_is_retried_then_reported(server, fake_time):
    server.handler = lambda seen: Reply(200, rpc_result(1), hang=1.5)
    client = rpc(server, fake_time, timeout=0.1, max_retries=1)
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        client.call("eth_blockNumber")
    assert time.monotonic() - started < 1.0
    assert len(server.requests) == 2
    assert "timed out after 0.1s" in str(info.value)
    assert "last request: eth_blockNumber" in str(info.value)


def test_connection_refused_is_retried_then_reported(fake_time):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = JsonRpcClient(
        HttpClient(f"http://127.0.0.1:{port}", retry=policy(fake_time, max_retries=2))
    )
    with pytest.raises(TransportError) as info:
        client.call("getblockcount")
    assert "connection failed" in str(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert fake_time.sleeps == [0.5, 1.0]


# -- JSON-RPC semantics -----------------------------------------------------------------------


def test_rpc_error_object_raises_rpc_error(server, fake_time):
    server.push(lambda seen: Reply(200, rpc_error(-5, "Block not found", seen.json["id"])))
    with pytest.raises(RpcError) as info:
        rpc(server, fake_time).call("getblock", ["00ff", 3])
    err = info.value
    assert (err.code, err.rpc_message, err.method) == (-5, "Block not found", "getblock")
    assert "last request: getblock" in str(err) and len(server.requests) == 1


def test_bitcoind_http_500_with_rpc_error_body_is_not_retried(server, fake_time):
    server.push(
        lambda seen: Reply(
            500, {"result": None, "error": {"code": -8, "message": "bad"}, "id": seen.json["id"]}
        )
    )
    with pytest.raises(RpcError) as info:
        rpc(server, fake_time).call("getblock", ["00", 9])
    assert info.value.code == -8
    assert len(server.requests) == 1


def test_bitcoind_http_404_method_not_found(server, fake_time):
    server.push(
        lambda seen: Reply(
            404,
            {"result": None, "error": {"code": -32601, "message": "Method not found"}, "id": 1},
        )
    )
    with pytest.raises(RpcError) as info:
        rpc(server, fake_time).call("getblockreceipts")
    assert info.value.code == -32601


def test_transient_rpc_code_is_retried(server, fake_time):
    server.push(
        lambda seen: Reply(200, rpc_error(-32005, "limit exceeded", seen.json["id"])), echo_id(3)
    )
    assert rpc(server, fake_time).call("eth_getLogs", [{}]) == 3
    assert fake_time.sleeps == [0.5]


def test_mismatched_response_id_is_malformed(server, fake_time):
    server.handler = lambda seen: Reply(200, rpc_result(1, req_id=999))
    with pytest.raises(MalformedResponseError, match="does not match request id"):
        rpc(server, fake_time, max_malformed_retries=0).call("getblockcount")


def test_batch_out_of_order_is_matched_by_id(server, fake_time):
    def reversed_reply(seen):
        return Reply(200, [rpc_result(f"r{c['params'][0]}", c["id"]) for c in seen.json[::-1]])

    server.handler = reversed_reply
    client = rpc(server, fake_time)
    calls = [("getblockhash", [h]) for h in range(5)]
    assert client.batch(calls) == ["r0", "r1", "r2", "r3", "r4"]
    sent = server.requests[0].json
    assert [c["params"] for c in sent] == [[0], [1], [2], [3], [4]]
    assert len({c["id"] for c in sent}) == 5


def test_batch_is_split_into_chunks(server, fake_time):
    server.handler = lambda seen: Reply(
        200, [rpc_result(c["params"][0], c["id"]) for c in seen.json]
    )
    client = rpc(server, fake_time)
    client.max_batch_size = 4
    assert client.batch([("m", [i]) for i in range(10)]) == list(range(10))
    assert [len(r.json) for r in server.requests] == [4, 4, 2]


def test_batch_per_item_errors(server, fake_time):
    def reply(seen):
        out = []
        for c in seen.json:
            if c["params"] == ["0xbad"]:
                out.append(rpc_error(-32000, "execution reverted", c["id"]))
            else:
                out.append(rpc_result("0x01", c["id"]))
        return Reply(200, out[::-1])

    server.handler = reply
    client = rpc(server, fake_time)
    calls = [("eth_call", ["0xa"]), ("eth_call", ["0xbad"]), ("eth_call", ["0xc"])]
    got = client.batch(calls, return_errors=True)
    assert got[0] == "0x01" and got[2] == "0x01"
    assert isinstance(got[1], RpcError)
    assert (got[1].code, got[1].method) == (-32000, "eth_call")
    assert 'last request: eth_call ["0xbad"]' in str(got[1])
    with pytest.raises(RpcError, match="execution reverted"):
        client.batch(calls)


def test_batch_missing_item_is_malformed(server, fake_time):
    server.handler = lambda seen: Reply(200, [rpc_result(1, c["id"]) for c in seen.json[1:]])
    with pytest.raises(MalformedResponseError, match="lacks 1 of 3 ids"):
        rpc(server, fake_time, max_malformed_retries=1).batch([("m", [i]) for i in range(3)])
    assert len(server.requests) == 2


def test_batch_refused_as_a_whole(server, fake_time):
    server.push(Reply(200, rpc_error(-32600, "batch too large", None)))
    with pytest.raises(RpcError, match="batch too large"):
        rpc(server, fake_time).batch([("m", [1]), ("m", [2])])


# -- rate limiting ----------------------------------------------------------------------------


def test_rate_limit_paces_requests(server, fake_time):
    server.handler = lambda seen: Reply(200, rpc_result(0, seen.json["id"]))
    client = rpc(server, fake_time, rate_limit=5.0)
    for _ in range(4):
        client.call("getblockcount")
    assert fake_time.sleeps == pytest.approx([0.2, 0.2, 0.2])


# -- secrets ----------------------------------------------------------------------------------

KEY = "9aa3d95b3bc440fa88ea12eaa4456161"
PASSWORD = "s3cret-Passw0rd"


@pytest.mark.parametrize(
    "path_and_query",
    [f"/v3/{KEY}", f"/rpc?apikey={KEY}", f"/?api-key={KEY}", f"/rpc?token={KEY}&x=1"],
)
def test_keys_never_appear_in_errors_or_logs(server, fake_time, caplog, path_and_query):
    caplog.set_level(logging.DEBUG)
    url = server.url.replace("http://", f"http://rpcuser:{PASSWORD}@") + path_and_query
    # The server echoes the request line, key included, in its error body, like some do.
    server.handler = lambda seen: Reply(
        503, f"upstream failed for {seen.path}?{KEY} user rpcuser:{PASSWORD}".encode()
    )
    client = rpc(server, fake_time, url=url, max_retries=2)
    with pytest.raises(HttpStatusError) as info:
        client.call("getblockcount")
    msg = str(info.value)
    assert "***" in msg and "last request: getblockcount" in msg
    everything = msg + "\n" + caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert KEY not in everything
    assert PASSWORD not in everything
    assert any("retry 1/2" in r.getMessage() for r in caplog.records)
    # The credentials still reached the server, as basic auth and in the path/query.
    auth = server.requests[0].headers["authorization"]
    assert base64.b64decode(auth.split()[1]).decode() == f"rpcuser:{PASSWORD}"
    seen = server.requests[0]
    assert KEY in seen.path or KEY in str(seen.query)


def test_key_redacted_from_connection_errors(fake_time, caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = JsonRpcClient(
        HttpClient(f"http://127.0.0.1:{port}/v2/{KEY}", retry=policy(fake_time, max_retries=1))
    )
    with pytest.raises(TransportError) as info:
        client.call("eth_blockNumber")
    assert KEY not in str(info.value) + caplog.text
    assert f"127.0.0.1:{port}/v2/***" in str(info.value)


def test_endpoint_from_env(monkeypatch):
    env = {"FUNDTRACE_BTC_RPC_URL": f"http://user:{PASSWORD}@127.0.0.1:8332"}
    ep = Endpoint.from_env("FUNDTRACE_BTC_RPC_URL", environ=env)
    assert ep.url == "http://127.0.0.1:8332"
    assert ep.auth == ("user", PASSWORD)
    assert ep.redacted == "http://***@127.0.0.1:8332"
    with pytest.raises(ConfigError, match="FUNDTRACE_ETH_RPC_URL is not set"):
        Endpoint.from_env("FUNDTRACE_ETH_RPC_URL", environ={})
    with pytest.raises(ConfigError) as info:
        Endpoint.from_env("X", environ={"X": f"ftp://u:{PASSWORD}@host/"})
    assert PASSWORD not in str(info.value)


def test_parse_retry_after_forms():
    assert parse_retry_after("5", now=0) == 5.0
    assert parse_retry_after("  ", now=0) is None
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after("-1", now=0) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
