"""Solana client against a loopback server replaying recorded mainnet-beta responses.

The two recorded getSignaturesForAddress pages (sol PROVENANCE.md, files 12-13) are 10 + 10
entries for EAQ6MUJM…, the second fetched with ``before`` = the first page's last signature.
The replay server treats those 20 entries as the address's whole history and applies the
RPC's semantics (``before`` exclusive, ``until`` exclusive, ``limit``), so paging with
limit 10 must reproduce the recorded pages exactly and then stop.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fundtrace.clients.errors import MalformedResponseError, RpcError
from fundtrace.clients.http import HttpClient, JsonRpcClient
from fundtrace.clients.solana import SolanaRpc
from tests.clients.conftest import Reply, policy, rpc_error, rpc_result
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

SOL_RPC = FIXTURES / "sol" / "rpc"
ADDRESS = "EAQ6MUJMEEd42u9xHZ8XHrwabG5NNVhndKnTgBzZcMtt"
PAGE1_LAST = (
    "2z34ySUTkZU1zsMYfDuYrwQFtkrqP46xUScX9WMcnKw5u3K3N7HeBBhXjw6AAHh8UqXssAvi9HBEbpbmr8qwWZe2"
)
PAGE2_LAST = (
    "3xdAfrJMSZA6Z1dafF8zt7qEwVW4ySsHjKBFuxZRuiidgVXmn5Q4xstAxdFvDBjUJXda36UPUQbeQqzpCG2EVjYB"
)
NEWEST = "2HGN3nGeiehoCugT2nYmcZ9XJU4Rti6MEoGhdRd8r2dVQs4pcT7ATTgmo8BphCKQr1zf7MPRNkirUPY8ZmxnYSLq"


def unwrap_bigint(value: Any) -> Any:
    """The source project's serializer wrote u64s as {"__bigint__": "..."}; the RPC sends ints."""
    if isinstance(value, dict):
        if set(value) == {"__bigint__"}:
            return int(value["__bigint__"])
        return {k: unwrap_bigint(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_bigint(v) for v in value]
    return value


def recorded_pages() -> tuple[list[dict], list[dict]]:
    p1 = json.loads((SOL_RPC / "getSignaturesForAddress_EAQ6MUJM_page1.json").read_text())
    p2 = json.loads(
        (SOL_RPC / "getSignaturesForAddress_EAQ6MUJM_page2_before_2z34ySUT.json").read_text()
    )
    return unwrap_bigint(p1), unwrap_bigint(p2)


class SignatureReplay:
    def __init__(self, history: list[dict], *, honour_until: bool = True) -> None:
        self.history = history
        self.honour_until = honour_until
        self.calls: list[dict] = []

    def __call__(self, seen):
        call = seen.json
        assert call["method"] == "getSignaturesForAddress"
        address, config = call["params"]
        assert address == ADDRESS
        self.calls.append(config)
        sigs = [e["signature"] for e in self.history]
        start = sigs.index(config["before"]) + 1 if "before" in config else 0
        end = len(sigs)
        if self.honour_until and "until" in config:
            end = sigs.index(config["until"])
        page = self.history[start:end][: config["limit"]]
        return Reply(200, rpc_result(page, call["id"]))


def sol(server, fake) -> SolanaRpc:
    return SolanaRpc(JsonRpcClient(HttpClient(server.url, retry=policy(fake))))


def test_recorded_pages_match_provenance():
    p1, p2 = recorded_pages()
    assert len(p1) == len(p2) == 10
    assert p1[0]["signature"] == NEWEST and p1[-1]["signature"] == PAGE1_LAST
    assert p2[-1]["signature"] == PAGE2_LAST
    assert min(e["slot"] for e in p1) > max(e["slot"] for e in p2)


def test_before_paging_reproduces_recording_and_stops_at_the_end(server, fake_time):
    p1, p2 = recorded_pages()
    replay = SignatureReplay(p1 + p2)
    server.handler = replay
    got = list(sol(server, fake_time).iter_signatures_for_address(ADDRESS, page_limit=10))
    assert got == p1 + p2
    assert len({e["signature"] for e in got}) == 20
    slots = [e["slot"] for e in got]
    assert slots == sorted(slots, reverse=True)
    # Page 2 was asked for with the recorded cursor; page 3 came back empty and ended it.
    assert [c.get("before") for c in replay.calls] == [None, PAGE1_LAST, PAGE2_LAST]
    assert all(c["limit"] == 10 and c["commitment"] == "finalized" for c in replay.calls)


@pytest.mark.parametrize(("limit", "requests"), [(7, 3), (19, 2), (20, 2), (1000, 1)])
def test_paging_with_other_page_sizes(server, fake_time, limit, requests):
    p1, p2 = recorded_pages()
    replay = SignatureReplay(p1 + p2)
    server.handler = replay
    got = list(sol(server, fake_time).iter_signatures_for_address(ADDRESS, page_limit=limit))
    assert got == p1 + p2
    assert len(replay.calls) == requests


def test_until_is_honoured(server, fake_time):
    p1, p2 = recorded_pages()
    # Four entries of page 2 share slot 354952736: stop at the second of them.
    assert [e["slot"] for e in p2[4:8]] == [354952736] * 4
    until = p2[5]["signature"]
    replay = SignatureReplay(p1 + p2)
    server.handler = replay
    got = list(
        sol(server, fake_time).iter_signatures_for_address(ADDRESS, until=until, page_limit=10)
    )
    assert got == p1 + p2[:5]
    assert all(c["until"] == until for c in replay.calls)


def test_until_is_enforced_even_if_the_server_ignores_it(server, fake_time):
    p1, p2 = recorded_pages()
    server.handler = SignatureReplay(p1 + p2, honour_until=False)
    until = p1[3]["signature"]
    got = list(
        sol(server, fake_time).iter_signatures_for_address(ADDRESS, until=until, page_limit=10)
    )
    assert got == p1[:3]


def test_before_starts_from_a_checkpoint(server, fake_time):
    p1, p2 = recorded_pages()
    server.handler = SignatureReplay(p1 + p2)
    got = list(
        sol(server, fake_time).iter_signatures_for_address(
            ADDRESS, before=PAGE1_LAST, page_limit=10
        )
    )
    assert got == p2


def test_paging_that_repeats_is_an_error(server, fake_time):
    p1, _ = recorded_pages()
    server.handler = lambda seen: Reply(200, rpc_result(p1, seen.json["id"]))  # ignores before
    with pytest.raises(MalformedResponseError, match="paging went backwards"):
        list(sol(server, fake_time).iter_signatures_for_address(ADDRESS, page_limit=10))


def test_retries_mid_paging_do_not_lose_entries(server, fake_time):
    p1, p2 = recorded_pages()
    replay = SignatureReplay(p1 + p2)
    server.push(replay, Reply(429, b"", {"Retry-After": "1"}), Reply(502, b""))
    server.handler = replay
    got = list(sol(server, fake_time).iter_signatures_for_address(ADDRESS, page_limit=10))
    assert got == p1 + p2
    assert fake_time.sleeps == [1.0, 1.0]  # Retry-After, then backoff ceiling 0.5 * 2


@pytest.mark.parametrize("code", [-32007, -32009])
def test_skipped_slot_is_none(server, fake_time, code):
    server.push(lambda s: Reply(200, rpc_error(code, "Slot 5 was skipped", s.json["id"])))
    assert sol(server, fake_time).get_block(5) is None
    params = server.requests[0].json["params"]
    assert params[0] == 5
    assert params[1] == {
        "encoding": "jsonParsed",
        "maxSupportedTransactionVersion": 0,
        "transactionDetails": "full",
        "rewards": True,
        "commitment": "finalized",
    }


def test_other_block_errors_raise(server, fake_time):
    server.push(lambda s: Reply(200, rpc_error(-32004, "Block not available", s.json["id"])))
    with pytest.raises(RpcError) as info:
        sol(server, fake_time).get_block(5)
    assert info.value.code == -32004


def test_get_transaction_replay_keeps_recorded_figures(server, fake_time):
    name = "getTransaction_jsonParsed_sol_transfer_2kHbPUGz.json"
    raw = json.loads((SOL_RPC / name).read_text())
    server.handler = lambda seen: Reply(200, {**raw, "id": seen.json["id"]})
    sig = raw["result"]["transaction"]["signatures"][0]
    tx = sol(server, fake_time).get_transaction(sig)
    # PROVENANCE file 1: fee 5000, one transfer of 24,922,118 lamports, slot 399683256.
    assert tx["slot"] == 399683256 and tx["meta"]["fee"] == 5000
    ix = tx["transaction"]["message"]["instructions"]
    transfers = [
        i["parsed"]["info"]["lamports"] for i in ix if i.get("parsed", {}).get("type") == "transfer"
    ]
    assert transfers == [24_922_118]
    assert server.requests[0].json["params"] == [
        sig,
        {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0, "commitment": "finalized"},
    ]


def test_get_block_replay_of_recorded_block(server, fake_time):
    data = json.loads((SOL_RPC / "getBlock_jsonParsed_slot241043141_slice.json").read_text())
    server.handler = lambda seen: Reply(200, rpc_result(data, seen.json["id"]))
    block = sol(server, fake_time).get_block(241043141)
    assert block["blockhash"] == "7UVhKXDoFXfQWHRRMNaXiEXiQsabDvU7oz4TRLHFuzd8"
    assert block["parentSlot"] == 241043140
