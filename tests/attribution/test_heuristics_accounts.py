"""Ethereum deposit-address heuristic and Solana owner / fee-payer links."""

import json

from fundtrace.attribution.clustering import Clustering, cluster_transactions
from fundtrace.attribution.entities import EntityResolver, make_attribution
from fundtrace.attribution.heuristics.sol_accounts import (
    fee_payer_links,
    token_account_owners_from_rpc,
    token_owner_links,
)
from fundtrace.attribution.labels import Category, Label
from fundtrace.core.model import NATIVE, Chain, Transaction, Transfer, TransferKind
from tests.paths import FIXTURES, needs_shared

ETH = 10**18
HOT = "0x" + "b1" * 20  # an exchange hot wallet (labeled)
LABELS = [Label(Chain.ETH, HOT, "Binance", Category.EXCHANGE, "test", 90)]


def addr(n):
    return "0x" + f"{n:040x}"


def etx(h, block, src, dst, amount, asset=NATIVE):
    kind = TransferKind.NATIVE if asset == NATIVE else TransferKind.TOKEN
    return Transaction(
        Chain.ETH, h, block, fee_payer=src, transfers=[Transfer(0, kind, asset, src, dst, amount)]
    )


def test_deposit_address_found_and_customers_linked_not_merged_with_exchange():
    alice, bob, dep = addr(1), addr(2), addr(3)
    txs = [
        etx("t1", 100, alice, dep, 2 * ETH),
        etx("t2", 105, dep, HOT, 2 * ETH - 21000 * 10**9),  # sweep pays gas
        etx("t3", 200, bob, dep, ETH),
        etx("t4", 210, dep, HOT, ETH - 10**15),
    ]
    c = Clustering(Chain.ETH, min_confidence=0)
    links = cluster_transactions(c, txs, attribution=make_attribution(LABELS))
    kinds = sorted((x.heuristic, x.a, x.b, x.txs) for x in links)
    assert ("eth_deposit_forward", dep, HOT, ("t1", "t2")) in kinds
    assert ("eth_deposit_reuse", alice, bob, ("t3",)) in kinds
    assert c.cluster_id(dep) == c.cluster_id(HOT)
    # the customers are one entity, and not the exchange
    assert c.cluster_id(alice) == c.cluster_id(bob) != c.cluster_id(HOT)
    attribution = make_attribution(LABELS, c)
    assert attribution(dep) == ("Binance", "exchange")
    assert attribution(alice) is None and attribution(bob) is None
    # evidence for the deposit address names the heuristic and both transactions
    view = EntityResolver(c, LABELS).resolve(dep)
    assert view.labels[0]["entity"] == "Binance" and view.labels[0]["inherited"] is True
    assert view.labels[0]["evidence"] == [
        {"a": dep, "b": HOT, "heuristic": "eth_deposit_forward", "confidence": 70,
         "txs": ["t1", "t2"]}]  # fmt: skip


def test_payment_from_fresh_address_to_exchange_does_not_make_sender_the_exchange():
    wallet, fresh = addr(10), addr(11)
    txs = [etx("f1", 100, wallet, fresh, 5 * ETH), etx("f2", 101, fresh, HOT, 5 * ETH - 10**14)]
    c = Clustering(Chain.ETH)  # default threshold
    cluster_transactions(c, txs, attribution=make_attribution(LABELS))
    assert HOT not in c.members(wallet) and fresh not in c.members(wallet)
    assert make_attribution(LABELS, c)(wallet) is None
    assert EntityResolver(c, LABELS).resolve(wallet).labels == []


def test_not_a_deposit_when_it_also_pays_elsewhere_or_amount_differs():
    a, d1, d2, shop = addr(20), addr(21), addr(22), addr(23)
    txs = [
        etx("a1", 1, a, d1, 3 * ETH),
        etx("a2", 2, d1, shop, ETH),  # d1 spends elsewhere
        etx("a3", 3, d1, HOT, 2 * ETH),
        etx("b1", 1, a, d2, 3 * ETH),
        etx("b2", 2, d2, HOT, 2 * ETH),  # 1 ETH short: no match
        etx("b3", 9000, d2, HOT, 3 * ETH),  # right amount, too late (> 3200 blocks)
    ]
    c = Clustering(Chain.ETH, min_confidence=0)
    assert cluster_transactions(c, txs, attribution=make_attribution(LABELS)) == []


def test_token_deposit_requires_exact_amount_and_survives_save_load(tmp_path):
    usdt = "0x" + "da" * 20
    alice, bob, dep = addr(30), addr(31), addr(32)
    c = Clustering(Chain.ETH, min_confidence=0)
    attribution = make_attribution(LABELS)
    cluster_transactions(
        c,
        [etx("u1", 1, alice, dep, 1_000_000, usdt), etx("u2", 2, dep, HOT, 1_000_000, usdt)],
        attribution=attribution,
    )
    c.save(tmp_path / "eth.npz")
    c2 = Clustering.load(tmp_path / "eth.npz")
    links = cluster_transactions(c2, [etx("u3", 3, bob, dep, 5, usdt)], attribution=attribution)
    assert [(x.heuristic, x.a, x.b) for x in links] == [("eth_deposit_reuse", alice, bob)]
    assert c2.cluster_id(bob) == c2.cluster_id(alice)


@needs_shared
def test_solana_token_owner_and_fee_payer_on_real_transactions():
    raw = json.loads(
        (
            FIXTURES / "sol/rpc/getTransaction_jsonParsed_usdc_transferChecked_4LXpF3MC.json"
        ).read_text()
    )
    owners = token_account_owners_from_rpc(raw)
    assert owners["2e3Eb9tkT8252WhFR26Xz6SKoiatJScuMW1BHgGqPvvc"] == (
        "3V9bd3EN5aNuhE4RiHGbZ1eZakJ1F9cDb8V4YLjCG8cg"
    )
    assert owners["Efc6bp3wVC2iQpewxRmKdZM8vzt9DCFFhL7EiHYNGunv"] == (
        "B2v68t8MXb9zUms1VQKuCcvjrjKDK6fLd8ZngqmBGy1M"
    )
    mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    tx = Transaction(
        Chain.SOL,
        "4LXpF3MC",
        419685246,
        fee_payer="3V9bd3EN5aNuhE4RiHGbZ1eZakJ1F9cDb8V4YLjCG8cg",
        transfers=[
            Transfer(
                1,
                TransferKind.TOKEN,
                mint,
                "2e3Eb9tkT8252WhFR26Xz6SKoiatJScuMW1BHgGqPvvc",
                "Efc6bp3wVC2iQpewxRmKdZM8vzt9DCFFhL7EiHYNGunv",
                3_800_000,
                "1",
            )
        ],
    )
    links = token_owner_links(tx, owners)
    assert {(x.a, x.b) for x in links} == set(owners.items())
    # the payer signs for its own token account: no fee-payer link to a stranger
    assert fee_payer_links(tx, owners) == []
    c = Clustering(Chain.SOL)
    cluster_transactions(c, [tx], token_owners=owners)
    assert c.cluster_id("2e3Eb9tkT8252WhFR26Xz6SKoiatJScuMW1BHgGqPvvc") == c.cluster_id(
        "3V9bd3EN5aNuhE4RiHGbZ1eZakJ1F9cDb8V4YLjCG8cg"
    )
    assert c.cluster_id("3V9bd3EN5aNuhE4RiHGbZ1eZakJ1F9cDb8V4YLjCG8cg") != c.cluster_id(
        "B2v68t8MXb9zUms1VQKuCcvjrjKDK6fLd8ZngqmBGy1M"
    )


@needs_shared
def test_solana_owners_from_json_encoding_with_inner_transfer():
    raw = json.loads(
        (FIXTURES / "sol/rpc/getTransaction_json_usdc_bridge_deposit_4nRGgV9t.json").read_text()
    )
    owners = token_account_owners_from_rpc(raw)
    assert owners["FDDbaNtod9pt7pmR8qtmRZJtEj9NViDA7J6cazqUjXQj"] == (
        "FGyh1FfooV7AtVrYjFGmjMxbELC8RMxNp4xY5WY4L4md"
    )
    assert owners["CcquFeCYNZM48kLPyG3HWxdwgigmyxPBi6iHwve9Myhj"] == (
        "CcquFeCYNZM48kLPyG3HWxdwgigmyxPBi6iHwve9Myhj"
    )  # owner itself: no link
    tx = Transaction(
        Chain.SOL,
        "4nRG",
        1,
        fee_payer="FGyh1FfooV7AtVrYjFGmjMxbELC8RMxNp4xY5WY4L4md",
        transfers=[
            Transfer(
                3,
                TransferKind.TOKEN,
                "m",
                "FDDbaNtod9pt7pmR8qtmRZJtEj9NViDA7J6cazqUjXQj",
                "CcquFeCYNZM48kLPyG3HWxdwgigmyxPBi6iHwve9Myhj",
                2_206_478_600,
                "2.0",
            )
        ],
    )
    assert [(x.a, x.b) for x in token_owner_links(tx, owners)] == [
        ("FDDbaNtod9pt7pmR8qtmRZJtEj9NViDA7J6cazqUjXQj",
         "FGyh1FfooV7AtVrYjFGmjMxbELC8RMxNp4xY5WY4L4md")]  # fmt: skip


def test_fee_payer_link_is_weak_and_top_level_only():
    payer, other, vault = "Payer1111", "Other1111", "Vault1111"
    tx = Transaction(Chain.SOL, "s1", 1, fee_payer=payer, transfers=[
        Transfer(0, TransferKind.NATIVE, NATIVE, other, "X", 10, "0"),
        Transfer(1, TransferKind.NATIVE, NATIVE, vault, payer, 10, "1.0"),  # CPI from a vault
    ])  # fmt: skip
    links = fee_payer_links(tx)
    assert [(x.a, x.b, x.heuristic, x.confidence) for x in links] == [
        (payer, other, "sol_fee_payer", 30)
    ]
    c = Clustering(Chain.SOL)
    cluster_transactions(c, [tx])
    assert c.cluster_id(payer) != c.cluster_id(other)  # below the default merge threshold


def test_customer_forwarding_into_a_found_deposit_is_not_a_deposit_itself():
    wallet, alice, dep = addr(40), addr(41), addr(42)
    c = Clustering(Chain.ETH, min_confidence=0)
    cluster_transactions(
        c,
        [etx("d1", 1, alice, dep, ETH), etx("d2", 2, dep, HOT, ETH)],
        attribution=make_attribution(LABELS),
    )
    # Cluster-aware attribution now says dep is "Binance"; alice forwards what she got into it.
    links = cluster_transactions(
        c,
        [etx("d3", 10, wallet, alice, 2 * ETH), etx("d4", 11, alice, dep, 2 * ETH)],
        attribution=make_attribution(LABELS, c),
    )
    assert all(x.heuristic != "eth_deposit_forward" for x in links)
    assert make_attribution(LABELS, c)(alice) is None


# --- a labeled deposit address is not a hot wallet ----------------------------------------
USDT = "0x" + "da" * 20
XDEP = "0x" + "d5" * 20  # a Binance *deposit* address that the label set tags "exchange" too
COLD = "0x" + "c0" * 20
LABELS_WITH_DEPOSIT = [
    *LABELS,
    Label(Chain.ETH, XDEP, "Binance", Category.EXCHANGE, "test", 80),
    Label(Chain.ETH, COLD, "Binance", Category.EXCHANGE, "test", 90),
]


def thief_chain():
    """Demo pattern: stolen USDT -> thief T -> labeled deposit XDEP -> swept to HOT; meanwhile a
    genuine customer deposit (0.012 ETH, so HOT's 0.003 ETH gas top-up to XDEP comes within
    max_native_diff of it) sweeps into HOT and must stay detected."""
    src, thief, alice, dep = addr(50), addr(51), addr(52), addr(53)
    return (thief, alice, dep), [
        etx("s1", 100, src, thief, 7_000_000, USDT),
        etx("g1", 100, alice, dep, 12 * 10**15),
        etx("s2", 103, thief, XDEP, 7_000_000, USDT),  # looks like a deposit sweep into XDEP
        etx("g2", 104, dep, HOT, 12 * 10**15 - 21000 * 10**9),  # genuine deposit sweep
        etx("s3", 106, HOT, XDEP, 3 * 10**15),  # gas top-up for the sweep: not a forward
        etx("s4", 107, XDEP, HOT, 7_000_000, USDT),  # XDEP passes the funds on: a deposit
        etx("s5", 300, addr(54), thief, ETH),
    ]


def _result(c):
    links = {(x.heuristic, frozenset((x.a, x.b)), x.txs) for x in c.links}
    return links, {frozenset(m) for m in c.clusters().values()}


def test_thief_forwarding_into_a_labeled_deposit_address_is_not_the_exchange():
    (thief, alice, dep), txs = thief_chain()
    c = Clustering(Chain.ETH, min_confidence=0)
    attribution = make_attribution(LABELS_WITH_DEPOSIT)
    links = cluster_transactions(c, txs, attribution=attribution)
    assert all(thief not in (x.a, x.b) for x in links)
    assert all(thief not in (x.a, x.b) for x in c.links)
    assert thief not in c.members(HOT) and thief not in c.members(XDEP)
    assert make_attribution(LABELS_WITH_DEPOSIT, c)(thief) is None
    assert c.eth_deposits.forwarders == {XDEP} and HOT not in c.eth_deposits.forwarders
    # the genuine deposit still sweeps into the real hot wallet
    assert ("eth_deposit_forward", dep, HOT, ("g1", "g2")) in {
        (x.heuristic, x.a, x.b, x.txs) for x in links
    }
    assert c.cluster_id(dep) == c.cluster_id(HOT) != c.cluster_id(alice)
    # XDEP is no hot wallet any more: a later forward into it does not make a deposit either
    more = [etx("s6", 400, addr(55), addr(56), 9, USDT), etx("s7", 401, addr(56), XDEP, 9, USDT)]
    assert cluster_transactions(c, more, attribution=attribution) == []


def test_retraction_across_batches_undoes_the_union_and_equals_one_batch(tmp_path):
    (thief, _alice, _dep), txs = thief_chain()
    attribution = make_attribution(LABELS_WITH_DEPOSIT)
    whole = Clustering(Chain.ETH, min_confidence=0)
    cluster_transactions(whole, txs, attribution=attribution)
    expected = _result(whole)
    for cut in range(len(txs) + 1):
        c = Clustering(Chain.ETH, min_confidence=0)
        cluster_transactions(c, txs[:cut], attribution=attribution)
        if cut == 3:  # T -> XDEP seen, XDEP's sweep not yet: provisionally the exchange's
            assert c.cluster_id(thief) == c.cluster_id(XDEP)
        c.save(tmp_path / f"eth{cut}.npz")  # the open links survive a save/load between batches
        c = Clustering.load(tmp_path / f"eth{cut}.npz")
        retracted = cluster_transactions(c, txs[cut:], attribution=attribution)
        assert all(thief not in (x.a, x.b) for x in retracted)
        assert _result(c) == expected, cut
        assert thief not in c.members(XDEP)


def test_customers_of_a_retracted_deposit_lose_their_reuse_link():
    bob, carol, thief = addr(60), addr(61), addr(62)
    txs = [
        etx("r1", 10, bob, thief, 5, USDT),
        etx("r2", 11, carol, thief, 3, USDT),
        etx("r3", 12, thief, XDEP, 3, USDT),  # the thief looks like a deposit: bob ~ carol
        etx("r4", 13, XDEP, HOT, 3, USDT),
    ]
    attribution = make_attribution(LABELS_WITH_DEPOSIT)
    c = Clustering(Chain.ETH, min_confidence=0)
    first = cluster_transactions(c, txs[:3], attribution=attribution)
    assert {x.heuristic for x in first} == {"eth_deposit_forward", "eth_deposit_reuse"}
    assert c.cluster_id(bob) == c.cluster_id(carol) != c.cluster_id(thief) == c.cluster_id(XDEP)
    cluster_transactions(c, txs[3:], attribution=attribution)
    assert c.links == []
    assert len({c.cluster_id(a) for a in (bob, carol, thief, XDEP)}) == 4
    assert c.eth_deposits.sender_deposits[bob] == set()


def test_deposit_link_is_final_once_the_sweep_window_has_passed():
    alice, dep = addr(70), addr(71)
    txs = [
        etx("w1", 10, alice, dep, 4_000, USDT),
        etx("w2", 12, dep, HOT, 4_000, USDT),
        # the hot wallet moves the same amount to its cold wallet, long after: not a sweep
        etx("w3", 12 + 3201, HOT, COLD, 4_000, USDT),
    ]
    c = Clustering(Chain.ETH)
    cluster_transactions(c, txs, attribution=make_attribution(LABELS_WITH_DEPOSIT))
    assert c.cluster_id(dep) == c.cluster_id(HOT)
    assert c.eth_deposits.open == {} and c.eth_deposits.forwarders == set()
