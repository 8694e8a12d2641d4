"""Bad input is a 400 whose message names the field and the reason."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import BTC_ADDR, BTC_TX, World
from transaction_tracking import validation as v

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


def post(w: World, url: str, body: dict[str, Any]) -> Any:
    return w.client(w.owner).post(url, body, format="json")


@pytest.mark.parametrize(
    ("suffix", "body", "field", "reason"),
    [
        ("seeds/", {"chain": "doge", "kind": "tx", "value": BTC_TX}, "chain", "not a valid choice"),
        ("seeds/", {"chain": "btc", "kind": "tx", "value": "xyz"}, "value", "64 hex"),
        ("seeds/", {"chain": "eth", "kind": "address", "value": "0x1234"}, "value", "Ethereum"),
        (
            "seeds/",
            {"chain": "btc", "kind": "address", "value": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"},
            "value",
            "checksum",
        ),
        ("seeds/", {"chain": "sol", "kind": "address", "value": "0OIl"}, "value", "Solana"),
        ("seeds/", {"chain": "btc", "kind": "output", "value": BTC_TX}, "value", "HASH:INDEX"),
        ("seeds/", {"chain": "btc", "kind": "tx", "value": BTC_TX}, "value", "already"),
        ("stolen-amounts/", {"chain": "btc", "amount": 1.5}, "amount", "decimal string"),
        ("stolen-amounts/", {"chain": "btc", "amount": "-5"}, "amount", "decimal string"),
        ("stolen-amounts/", {"chain": "btc", "amount": str(2**256)}, "amount", "2**256-1"),
        (
            "stolen-amounts/",
            {"chain": "btc", "amount": "1", "asset": "0x" + "aa" * 20},
            "asset",
            "only the native",
        ),
        ("watchlist/", {"chain": "eth", "address": "0xZZ" + "a" * 38}, "address", "Ethereum"),
        ("watchlist/", {"chain": "btc", "address": BTC_ADDR}, "address", "already"),
        (
            "annotations/",
            {"chain": "btc", "target_kind": "tx", "target": "0x" + "a" * 64, "text": "x"},
            "target",
            "txid",
        ),
        (
            "annotations/",
            {"chain": "btc", "target_kind": "tx", "target": BTC_TX, "text": "x", "tags": ["a\x00"]},
            "tags",
            "",
        ),
        (
            "runs/",
            {"chain": "eth", "model": "tiho", "sources": [ETH := "0x" + "cd" * 32]},
            "model",
            "only for btc",
        ),
        ("runs/", {"chain": "btc", "model": "fifo", "sources": []}, "sources", ""),
        ("runs/", {"chain": "btc", "model": "magic", "sources": [BTC_TX]}, "model", ""),
        ("runs/", {"chain": "xrp", "model": "fifo", "sources": [BTC_TX]}, "chain", ""),
        ("runs/", {"chain": "btc", "model": "fifo", "sources": ["nonsense"]}, "sources", "[0]"),
        (
            "runs/",
            {"chain": "btc", "model": "fifo", "direction": "sideways", "sources": [BTC_TX]},
            "direction",
            "",
        ),
        (
            "runs/",
            {"chain": "btc", "model": "fifo", "sources": [BTC_TX], "max_hops": 0},
            "max_hops",
            "",
        ),
        (
            "runs/",
            {"chain": "btc", "model": "fifo", "sources": [BTC_TX], "min_amount": "1e3"},
            "min_amount",
            "",
        ),
        (
            "runs/",
            {"chain": "eth", "model": "fifo", "sources": [ETH], "asset": "USDT"},
            "asset",
            "ERC-20",
        ),
        (
            "runs/",
            {"chain": "btc", "model": "fifo", "sources": [BTC_TX], "through": ["Bridge!"]},
            "through",
            "category",
        ),
    ],
)
def test_bad_input_is_400_with_a_field_message(
    world: World, suffix: str, body: dict, field: str, reason: str
) -> None:
    r = post(world, f"{V1}/cases/{world.case.pk}/{suffix}", body)
    assert r.status_code == 400, r.content
    errors = r.json()
    assert field in errors, errors
    assert reason in str(errors[field]), errors[field]


def test_case_chains_must_be_known(world: World) -> None:
    r = post(world, f"{V1}/cases/", {"title": "x", "chains": ["btc", "ltc"]})
    assert r.status_code == 400
    assert "chains" in r.json()


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/addresses/ltc/abc/", "chain"),
        ("/addresses/eth/0x12/", "address"),
        ("/transactions/btc/zz/", "tx_hash"),
        ("/transactions/sol/" + BTC_TX + "/", "tx_hash"),
    ],
)
def test_chain_data_rejects_bad_formats(world: World, url: str, field: str) -> None:
    r = world.client(world.viewer).get(V1 + url)
    assert r.status_code == 400
    assert field in r.json()


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("runs/{run}/flows/?hop=x", "hop"),
        ("runs/{run}/flows/?min_amount=-1", "min_amount"),
        ("runs/{run}/endpoints/?kind=stolen", "kind"),
        ("watchlist/?active=maybe", "active"),
        ("runs/{run}/compare/?other=abc", "other"),
    ],
)
def test_bad_filters_are_400(world: World, url: str, param: str) -> None:
    r = world.client(world.owner).get(f"{V1}/cases/{world.case.pk}/" + url.format(run=world.run.pk))
    assert r.status_code == 400
    assert param in r.json()


def test_member_must_be_an_existing_user_and_not_the_owner(world: World) -> None:
    url = f"{V1}/cases/{world.case.pk}/members/"
    assert "username" in post(world, url, {"username": "nobody", "role": "viewer"}).json()
    assert "username" in post(world, url, {"username": "olga", "role": "viewer"}).json()
    assert "username" in post(world, url, {"username": "vera", "role": "viewer"}).json()
    r = post(world, url, {"username": "oscar", "role": "owner"})
    assert r.status_code == 400 and "role" in r.json()


# --- the validation module on its own --------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "text", "expected"),
    [
        ("eth", "0x" + "AB" * 20, "0x" + "ab" * 20),
        ("btc", BTC_ADDR, BTC_ADDR),
        (
            "btc",
            "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        ),
        ("sol", "11111111111111111111111111111111", "11111111111111111111111111111111"),
    ],
)
def test_addresses_normalize(chain: str, text: str, expected: str) -> None:
    assert v.check_address(chain, text) == expected


@pytest.mark.parametrize(
    ("chain", "text"),
    [
        ("eth", "0x" + "ab" * 19),
        ("eth", "ab" * 20),
        ("btc", "0x" + "ab" * 20),
        ("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdb"),  # b is not bech32
        ("sol", "0x" + "ab" * 20),
        ("sol", "1111111111111111111111111111111"),  # decodes to 31 bytes
    ],
)
def test_bad_addresses_are_refused_in_both_validators(chain: str, text: str) -> None:
    with pytest.raises(ValueError):
        v.check_address(chain, text)
    with pytest.raises(ValueError):
        v._regex_address(chain, text)


def test_sources_accept_refs_hashes_and_addresses() -> None:
    assert v.check_source("btc", BTC_TX.upper() + ":3") == BTC_TX + ":3"
    assert v.check_source("btc", BTC_TX) == BTC_TX
    assert v.check_source("btc", BTC_ADDR) == BTC_ADDR
    with pytest.raises(ValueError, match="neither"):
        v.check_source("eth", BTC_TX)


def test_checksums_are_checked_by_the_full_validator() -> None:
    """The regex fallback only checks shapes; fundtrace.core.addresses checks checksums."""
    with pytest.raises(ValueError, match="checksum"):
        v.check_address("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx")


@pytest.mark.parametrize("suffix", ["members/", "seeds/", "runs/{run}/flows/"])
def test_huge_offsets_give_an_empty_page_not_a_server_error(world: World, suffix: str) -> None:
    """Found by schemathesis: an offset beyond 2**63 used to reach the database."""
    url = f"{V1}/cases/{world.case.pk}/" + suffix.format(run=world.run.pk)
    r = world.client(world.owner).get(url + "?offset=" + "9" * 30 + "&limit=5000")
    assert r.status_code == 200
    assert r.json()["results"] == [] and r.json()["count"] > 0
