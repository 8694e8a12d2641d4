"""Address-first collection against a loopback Etherscan-compatible API serving recorded
mainnet answers (PROVENANCE: eth/etherscan/txlist_0xc951900c_0_778482.json: a GENESIS row and
tx 0x352b93ac... in block 307,793 sending 327400000000000000000 wei to 0x2910543a...63d2)."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from data_collection import models as m
from fundtrace.collection.address_first import BACKWARD, FORWARD, neighbours
from fundtrace.core.model import Batch, Chain, Transaction, TxInput, TxOutput
from tests.collection.loopback import json_bytes, serve
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

SEED = "0xc951900c341abbb3bafbf7ee2029377071dbc36a"
NEXT = "0x2910543af39aba0cd09dbb2d50200b3e800a63d2"
EMPTY = {"status": "0", "message": "No transactions found", "result": []}


class FakeEtherscan:
    def __init__(self) -> None:
        path = FIXTURES / "eth" / "etherscan" / "txlist_0xc951900c_0_778482.json"
        self.answers = {("txlist", SEED): json.loads(path.read_text())}
        self.asked: list[tuple[str, str]] = []

    def __call__(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        q = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        key = (q["action"], q["address"].lower())
        self.asked.append(key)
        return 200, json_bytes(self.answers.get(key, EMPTY))


def collect(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command(
        "collect",
        "--chain",
        "eth",
        "--etherscan-url",
        url,
        "--rate-limit",
        "500",
        "--no-progress",
        *args,
        stdout=out,
    )
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_forward_walk_follows_the_recorded_payment_one_hop():
    api = FakeEtherscan()
    with serve(api) as url:
        out = collect(url, "--address", SEED.upper().replace("0X", "0x"), "--depth", "1")
        assert "2 addresses" in out
        assert {a for _, a in api.asked} == {SEED, NEXT}
        tx = m.BlockchainTransaction.objects.get(transaction_hash__startswith="0x352b93ac")
        assert tx.block_number == 307_793
        (move,) = m.Transfer.objects.filter(tx_hash=tx.transaction_hash)
        assert (move.from_address, move.to_address, move.amount) == (
            SEED,
            NEXT,
            327_400_000_000_000_000_000,
        )
        # The same command again: the job is done, nothing is fetched twice.
        asked = len(api.asked)
        assert "0 addresses" in collect(url, "--address", SEED, "--depth", "1")
        assert len(api.asked) == asked


@pytest.mark.django_db(transaction=True)
def test_max_addresses_and_since_bound_the_walk():
    api = FakeEtherscan()
    with serve(api) as url:
        out = collect(url, "--address", SEED, "--depth", "3", "--max-addresses", "1")
        assert "1 addresses" in out and "1 addresses not visited" in out
        # --since after the payment: nothing to follow, nothing stored.
        out = collect(url, "--address", SEED, "--depth", "1", "--since", "2015-10-01")
        assert "1 addresses, 0 transactions" in out


def test_neighbours_in_both_directions_on_bitcoin():
    tx = Transaction(
        Chain.BTC,
        "t",
        1,
        inputs=[TxInput(0, "p", 0, 10, "a"), TxInput(1, "q", 0, 5, "b")],
        outputs=[TxOutput(0, 12, "pubkeyhash", "c"), TxOutput(1, 2, "pubkeyhash", "a")],
    )
    batch = Batch(Chain.BTC, transactions=[tx])
    assert neighbours(batch, "a", FORWARD) == ["c"]
    assert neighbours(batch, "c", BACKWARD) == ["a", "b"]
    assert neighbours(batch, "c", FORWARD) == []
