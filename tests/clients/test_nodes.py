"""Smoke tests: real dev nodes on loopback answer through the fundtrace clients."""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

from fundtrace.clients.bitcoin import BitcoinRpc, block_has_prevouts
from fundtrace.clients.ethereum import EthereumRpc
from fundtrace.clients.nodes import anvil, find_anvil, find_litecoind, litecoind_regtest
from fundtrace.clients.redact import redact_url
from fundtrace.core.amounts import btc_to_sat

pytestmark = pytest.mark.slow

ONE_ETH = 10**18


def wait_receipt(client: EthereumRpc, tx_hash: str, timeout: float = 5.0) -> dict:
    """anvil mines eth_sendTransaction in the background: poll instead of assuming."""
    deadline = time.monotonic() + timeout
    while (receipt := client.get_transaction_receipt(tx_hash)) is None:
        assert time.monotonic() < deadline, f"{tx_hash} not mined"
        time.sleep(0.02)
    return receipt


@pytest.mark.skipif(
    find_anvil() is None,
    reason="anvil not installed (npm install --prefix .tools @foundry-rs/anvil)",
)
def test_anvil_answers_through_the_ethereum_client():
    with anvil() as node:
        client = EthereumRpc.from_url(node.url)
        try:
            assert client.block_number() == 0
            assert client.chain_id() == 31337
            sender, receiver = client.rpc.call("eth_accounts")[:2]
            tx_hash = client.rpc.call(
                "eth_sendTransaction", [{"from": sender, "to": receiver, "value": hex(ONE_ETH)}]
            )
            number = int(wait_receipt(client, tx_hash)["blockNumber"], 16)
            receipts = client.get_block_receipts(number)
            assert [r["transactionHash"] for r in receipts] == [tx_hash]
            traces = client.trace_block(number)
            assert traces.style == "parity"
            assert int(traces.traces[0]["action"]["value"], 16) == ONE_ETH
            pid = node.pid
        finally:
            client.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.skipif(
    find_litecoind() is None, reason="litecoind not installed (apt-get install litecoind)"
)
def test_litecoind_regtest_answers_through_the_bitcoin_client():
    with litecoind_regtest() as node:
        assert "***@" in redact_url(node.url)
        client = BitcoinRpc.from_url(node.url)
        try:
            assert client.getblockcount() == 0
            client.rpc.call("createwallet", ["fundtrace"])
            addr = client.rpc.call("getnewaddress", ["", "bech32"])
            client.rpc.call("generatetoaddress", [101, addr])
            txid = client.rpc.call("sendtoaddress", [addr, Decimal("1.5")])
            (block_hash,) = client.rpc.call("generatetoaddress", [1, addr])
            block = client.getblock(block_hash)
            # A 0.21 node answers verbosity 3 at level 2: detected, not assumed.
            assert block_has_prevouts(block) is False and client.max_verbosity == 2
            (tx,) = [t for t in block["tx"] if t["txid"] == txid]
            assert 150_000_000 in [btc_to_sat(o["value"]) for o in tx["vout"]]
            assert client.getrawtransaction(txid)["txid"] == txid
        finally:
            client.close()
        datadir = node.datadir
    assert not datadir.exists()
