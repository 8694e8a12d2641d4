"""Bitcoin Core RPC helpers (replaying recorded mainnet responses) and Esplora paging."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundtrace.clients.bitcoin import BitcoinRpc, EsploraClient, block_has_prevouts
from fundtrace.clients.errors import HttpStatusError, MalformedResponseError, RpcError
from fundtrace.clients.http import HttpClient, JsonRpcClient
from fundtrace.core.amounts import btc_to_sat
from tests.clients.conftest import Reply, policy, rpc_error, rpc_result
from tests.paths import FIXTURES, needs_shared

BTC_RPC = FIXTURES / "btc" / "rpc"
BLOCK_279671 = BTC_RPC / "ordhook" / "279671.json"
HASH_279671 = "0000000000000002fa7d943a10651794a50447c262216df7695da5d624761cbf"
HASH_50001 = "000000001c920d495e1eeef2452b6d1c6c229a919b28196c103ecffebabee141"
BLOCK_50001 = (
    BTC_RPC
    / "bitcoin-etl"
    / "block_with_transactions"
    / f"rpc_response_getblock_{HASH_50001}_2.json"
)


def bitcoin(server, fake) -> BitcoinRpc:
    return BitcoinRpc(JsonRpcClient(HttpClient(server.url, retry=policy(fake))))


def replay(results: dict[tuple, bytes]):
    """Answer like bitcoind: the recorded result text for (method, *params), with our id."""

    def handler(seen):
        call = seen.json
        key = (call["method"], *call["params"])
        if key not in results:
            return Reply(500, rpc_error(-8, f"unexpected {key}", call["id"]))
        body = b'{"result":' + results[key] + b',"error":null,"id":' + str(call["id"]).encode()
        return Reply(200, body + b"}")

    return handler


@needs_shared
def test_getblock_verbosity3_replay_keeps_amounts_exact(server, fake_time):
    raw = BLOCK_279671.read_bytes()
    assert raw.count(b'"id": "dev"') == 1
    # Serve the recorded response text untouched except for the id.
    server.handler = lambda seen: Reply(
        200, raw.replace(b'"id": "dev"', f'"id": {seen.json["id"]}'.encode())
    )
    client = bitcoin(server, fake_time)
    block = client.getblock(HASH_279671)
    assert server.requests[0].json["params"] == [HASH_279671, 3]
    assert block["height"] == 279671 and len(block["tx"]) == 217
    assert block_has_prevouts(block) is True and client.max_verbosity == 3
    coinbase = block["tx"][0]
    assert all(isinstance(o["value"], Decimal) for o in coinbase["vout"])
    # PROVENANCE: coinbase = subsidy 2,500,000,000 + the 216 fees (5,047,000 sat), exactly.
    assert sum(btc_to_sat(o["value"]) for o in coinbase["vout"]) == 2_505_047_000
    assert sum(btc_to_sat(tx["fee"]) for tx in block["tx"][1:]) == 5_047_000


@needs_shared
def test_node_that_ignores_verbosity3_is_detected(server, fake_time):
    # A v0.21 node (litecoind) answers getblock <hash> 3 at level 2, without prevouts.
    level2 = BLOCK_50001.read_bytes()
    server.handler = replay(
        {("getblock", HASH_50001, 3): level2, ("getblock", HASH_50001, 2): level2}
    )
    client = bitcoin(server, fake_time)
    block = client.getblock(HASH_50001)
    assert block["height"] == 50001 and len(block["tx"]) == 3
    assert block_has_prevouts(block) is False
    assert client.max_verbosity == 2
    client.getblock(HASH_50001)
    assert [r.json["params"][1] for r in server.requests] == [3, 2]
    # PROVENANCE: tx 1 pays one output of 10,000,000,000 sat.
    assert btc_to_sat(block["tx"][1]["vout"][0]["value"]) == 10_000_000_000


def test_getblock_falls_back_when_verbosity3_is_rejected(server, fake_time):
    server.push(
        lambda s: Reply(500, rpc_error(-8, "Verbosity was 3, must be 0..2", s.json["id"])),
        lambda s: Reply(
            200, rpc_result({"tx": [{"vin": [{"txid": "aa", "vout": 0}]}]}, s.json["id"])
        ),
        lambda s: Reply(200, rpc_result({"tx": []}, s.json["id"])),
    )
    client = bitcoin(server, fake_time)
    assert client.getblock("00aa")["tx"][0]["vin"][0]["txid"] == "aa"
    client.getblock("00bb")
    assert [r.json["params"] for r in server.requests] == [["00aa", 3], ["00aa", 2], ["00bb", 2]]


def test_getblock_other_errors_propagate(server, fake_time):
    server.push(lambda s: Reply(500, rpc_error(-5, "Block not found", s.json["id"])))
    with pytest.raises(RpcError, match="Block not found"):
        bitcoin(server, fake_time).getblock("00")
    assert len(server.requests) == 1


def test_warmup_is_retried(server, fake_time):
    server.push(
        lambda s: Reply(500, rpc_error(-28, "Loading block index...", s.json["id"])),
        lambda s: Reply(200, rpc_result(812345, s.json["id"])),
    )
    client = BitcoinRpc.from_url(server.url, retry=policy(fake_time))
    assert client.getblockcount() == 812345
    assert fake_time.sleeps == [0.5]


def test_block_has_prevouts_on_coinbase_only_block_is_unknown():
    assert block_has_prevouts({"tx": [{"vin": [{"coinbase": "04ff"}]}]}) is None
    assert block_has_prevouts({"tx": ["txid-only"]}) is False


# -- Esplora ----------------------------------------------------------------------------------


def esplora(server, fake) -> EsploraClient:
    return EsploraClient(HttpClient(server.url + "/api", retry=policy(fake)))


def test_esplora_tip_and_block_hash(server, fake_time):
    h = "00" * 32
    server.push(Reply(200, b"840000"), Reply(200, h.encode()), Reply(200, b"<html>"))
    client = esplora(server, fake_time)
    assert client.tip_height() == 840000
    assert client.block_hash(840000) == h
    assert [r.path for r in server.requests] == [
        "/api/blocks/tip/height",
        "/api/block-height/840000",
    ]
    client.http.retry.max_malformed_retries = 0
    with pytest.raises(MalformedResponseError, match="expected an integer"):
        client.tip_height()


def test_esplora_block_txs_pages_by_25(server, fake_time):
    block_hash = "ab" * 32
    txs = [{"txid": f"{i:064x}"} for i in range(60)]

    def handler(seen):
        if seen.path == f"/api/block/{block_hash}":
            return Reply(200, {"id": block_hash, "tx_count": 60})
        start = int(seen.path.rsplit("/", 1)[1])
        if start % 25 or start >= 60:
            return Reply(400, b"start index out of range")
        return Reply(200, txs[start : start + 25])

    server.handler = handler
    got = esplora(server, fake_time).block_txs(block_hash)
    assert got == txs
    assert [r.path.rsplit("/", 1)[1] for r in server.requests[1:]] == ["0", "25", "50"]


def test_esplora_short_block_page_is_malformed(server, fake_time):
    server.push(Reply(200, [{"txid": "1"}] * 24))
    with pytest.raises(MalformedResponseError, match="has 24 transactions, expected 25"):
        esplora(server, fake_time).block_txs("cd" * 32, tx_count=30)


def tx(i: int, confirmed: bool = True) -> dict:
    return {"txid": f"{i:064x}", "status": {"confirmed": confirmed}}


def test_esplora_address_paging_follows_last_seen_txid(server, fake_time):
    addr = "bc1qexample"
    chain = [tx(i) for i in range(100, 40, -1)]  # 60 confirmed, newest first
    mempool = [tx(1000 + i, confirmed=False) for i in range(3)]

    def handler(seen):
        if seen.path == f"/api/address/{addr}/txs":
            return Reply(200, mempool + chain[:25])
        last = seen.path.rsplit("/", 1)[1]
        pos = next(i for i, t in enumerate(chain) if t["txid"] == last)
        return Reply(200, chain[pos + 1 : pos + 26])

    server.handler = handler
    got = list(esplora(server, fake_time).iter_address_txs(addr))
    assert got == mempool + chain
    assert [r.path.split(addr)[1] for r in server.requests] == [
        "/txs",
        f"/txs/chain/{chain[24]['txid']}",
        f"/txs/chain/{chain[49]['txid']}",
    ]
    confirmed_only = list(esplora(server, fake_time).iter_address_txs(addr, include_mempool=False))
    assert confirmed_only == chain


def test_esplora_address_paging_that_does_not_advance_is_an_error(server, fake_time):
    page = [tx(i) for i in range(25)]
    server.handler = lambda seen: Reply(200, page)
    with pytest.raises(MalformedResponseError, match="did not advance"):
        list(esplora(server, fake_time).iter_address_txs("addr"))
    assert len(server.requests) == 2


def test_esplora_404_is_not_retried(server, fake_time):
    server.push(Reply(404, b"Block not found"))
    with pytest.raises(HttpStatusError, match="404") as info:
        esplora(server, fake_time).block_hash(99_999_999)
    assert "GET /block-height/99999999" in str(info.value)
    assert len(server.requests) == 1
