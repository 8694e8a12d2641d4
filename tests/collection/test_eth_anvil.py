"""Round trips against a real anvil node: what the collector stores is what the node says.

The chain is made in the test (solc-js compiled ERC-20 and a forwarding contract): ETH
payments, token transfers, a reverted token transfer, internal ETH transfers through a
contract and a reverted call whose internal transfer must not count. Every stored movement
is checked against the node's own balances, receipts and traces.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from data_collection import models as m
from data_collection.collector import DjangoCollectionStore
from fundtrace.clients.ethereum import EthereumRpc
from fundtrace.clients.nodes import anvil, find_anvil
from fundtrace.collection.block_range import RangeCollector
from fundtrace.collection.blocks_eth import EthBlockFetcher
from fundtrace.collection.checkpoint import FAILED, range_job
from fundtrace.core.model import NATIVE
from tests.collection import solc
from tests.collection.eth_chain import ETH, make_activity
from tests.collection.loopback import FlakyProxy, serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_anvil() is None, reason="anvil not installed"),
    pytest.mark.skipif(
        not solc.available(), reason="solc-js missing: npm install --prefix .tools solc@0.8.26"
    ),
]


@pytest.fixture(scope="module")
def chain():
    with anvil() as node:
        client = EthereumRpc.from_url(node.url)
        try:
            activity = make_activity(client)
            yield node.url, client, activity, client.block_number()
        finally:
            client.close()


def collect(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command("collect", "--chain", "eth", "--rpc-url", url, "--no-progress", *args, stdout=out)
    return out.getvalue()


def balance(client: EthereumRpc, address: str, block: int) -> int:
    return int(client.rpc.call("eth_getBalance", [address, hex(block)]), 16)


def token_balance(client: EthereumRpc, token: str, holder: str, block: int) -> int:
    data = solc.encode_call("balanceOf(address)", holder)
    return int(client.eth_call(token, data, block), 16)


@pytest.mark.django_db(transaction=True)
def test_collected_range_matches_balances_receipts_and_traces(chain):
    url, client, act, tip = chain
    out = collect(url, "--from-block", "0", "--to-block", str(tip))
    assert f"collected eth blocks 0..{tip}" in out

    stored_blocks = dict(m.Block.objects.filter(chain="eth").values_list("number", "hash"))
    assert stored_blocks == {n: client.get_block(n, full=False)["hash"] for n in range(tip + 1)}

    txs = {
        t.transaction_hash: t
        for t in m.BlockchainTransaction.objects.filter(blockchain_network="eth")
    }
    assert len(txs) == len(act.receipts)
    for label, r in act.receipts.items():
        tx = txs[r["transactionHash"]]
        assert tx.success == (r["status"] == "0x1"), label
        assert tx.fee == int(r["gasUsed"], 16) * int(r["effectiveGasPrice"], 16), label
        assert tx.block_number == int(r["blockNumber"], 16)

    transfers = list(m.Transfer.objects.filter(chain="eth"))
    ok = {h for h, t in txs.items() if t.success}
    failed = set(txs) - ok
    # A reverted transaction moves nothing but its fee.
    assert not [t for t in transfers if t.tx_hash in failed and t.amount > 0]

    # Native ETH: every account's balance change is exactly its stored flows minus fees.
    net: Counter[str] = Counter()
    for t in transfers:
        if t.asset == NATIVE and t.tx_hash in ok:
            net[t.to_address] += t.amount
            net[t.from_address] -= t.amount
    for tx in txs.values():
        net[tx.from_address] -= tx.fee
    for who in [*act.accounts, act.forwarder]:
        who = who.lower()
        assert balance(client, who, tip) - balance(client, who, 0) == net[who], who

    # The internal transfers are the forwarder's two calls, as the node's trace shows them.
    internal = sorted(
        (t.from_address, t.to_address, t.amount, t.trace_address)
        for t in transfers
        if t.kind == "internal" and t.tx_hash in ok
    )
    a, b, c, d = (x.lower() for x in act.accounts)
    half = 7 * ETH // 20
    assert internal == sorted([(act.forwarder, c, half, "0"), (act.forwarder, d, half, "1")])

    # ERC-20: stored token flows reproduce balanceOf for every holder.
    held: Counter[str] = Counter()
    for t in transfers:
        if t.asset == act.token and t.tx_hash in ok:
            held[t.to_address] += t.amount
            if t.from_address:
                held[t.from_address] -= t.amount
    for who in (a, b, c, d):
        assert token_balance(client, act.token, who, tip) == held[who], who
    assert held[b] == 750 and held[c] == 250
    asset = m.Asset.objects.get(chain="eth", asset_id=act.token)
    assert (asset.symbol, asset.decimals, asset.name) == ("TST", 6, "Test Token")


class Crash(Exception):
    """Stands for the process dying between batches (not a FundtraceError)."""


@pytest.mark.django_db(transaction=True)
def test_interrupted_collection_resumes_without_gaps_or_duplicates(chain):
    url, _client, act, tip = chain
    store = DjangoCollectionStore(endpoint=url)
    batches = []

    def crash_after_two(fetched):
        batches.append((fetched.low, fetched.high))
        if len(batches) == 2:
            raise Crash

    fetcher = EthBlockFetcher(EthereumRpc.from_url(url))
    with pytest.raises(Crash):
        RangeCollector(
            fetcher, store, start=0, end=tip, batch_blocks=2, after_batch=crash_after_two
        ).run()
    assert batches == [(0, 1), (2, 3)]
    assert sorted(m.Block.objects.values_list("number", flat=True)) == [0, 1, 2, 3]
    cp = store.load_checkpoint(fetcher.chain, range_job(0, tip))
    assert cp.next_block == 4

    seen = []
    summary = RangeCollector(
        fetcher, store, start=0, end=tip, batch_blocks=2, after_batch=lambda f: seen.append(f.low)
    ).run()
    assert summary.first == 4 and seen[0] == 4
    assert summary.blocks == tip - 3
    assert sorted(m.Block.objects.values_list("number", flat=True)) == list(range(tip + 1))

    # Same rows as one uninterrupted pass over the whole range, each exactly once.
    whole = EthBlockFetcher(EthereumRpc.from_url(url)).fetch(0, tip).batch
    assert m.BlockchainTransaction.objects.count() == len(whole.transactions) == len(act.receipts)
    assert m.Transfer.objects.count() == sum(len(t.transfers) for t in whole.transactions)
    assert store.load_checkpoint(fetcher.chain, range_job(0, tip)).status == "done"


@pytest.mark.django_db(transaction=True)
def test_endpoint_failing_mid_run_keeps_progress_and_resumes(chain):
    url, _client, act, tip = chain
    # The node goes down when asked for block 6: blocks 0..5 (three batches) are stored.
    proxy = FlakyProxy(url, fail_from=b'"eth_getBlockByNumber","params":["0x6"')
    with serve(proxy) as flaky, pytest.raises(CommandError) as info:
        collect(
            flaky,
            "--from-block", "0", "--to-block", str(tip),
            "--batch-blocks", "2", "--max-retries", "1",
        )  # fmt: skip
    message = str(info.value)
    assert info.value.returncode == 1
    assert "\n" not in message
    assert "HTTP 500" in message and flaky in message and "last request:" in message
    assert "rerun the same command" in message
    cp = m.CollectionCheckpoint.objects.get(chain="eth", job=range_job(0, tip))
    assert cp.status == FAILED and "HTTP 500" in cp.error
    stored = sorted(m.Block.objects.values_list("number", flat=True))
    assert cp.next_block == 6 and stored == list(range(6))

    out = collect(url, "--from-block", "0", "--to-block", str(tip))
    assert f"blocks {cp.next_block}..{tip}" in out
    assert m.Block.objects.count() == tip + 1
    assert m.BlockchainTransaction.objects.count() == len(act.receipts)


@pytest.mark.django_db(transaction=True)
def test_unreachable_endpoint_is_one_clear_line():
    from fundtrace.clients.nodes import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError) as info:
        collect(dead, "--from-block", "0", "--to-block", "3", "--max-retries", "0")
    assert info.value.returncode == 1
    message = str(info.value)
    assert "connection failed" in message and dead in message and "eth_blockNumber" in message
    assert "\n" not in message
