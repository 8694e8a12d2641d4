"""Bitcoin heuristics on the real fixtures and on hand-built false-positive traps."""

import json

import pytest

from fundtrace.attribution.clustering import Clustering, cluster_transactions
from fundtrace.attribution.entities import EntityResolver, make_attribution
from fundtrace.attribution.heuristics.btc_change import detect_change
from fundtrace.attribution.heuristics.btc_coinjoin import coinjoin_kind
from fundtrace.attribution.heuristics.btc_multi_input import multi_input_links
from fundtrace.attribution.labels import Category, Label
from fundtrace.core.model import Chain, Transaction, TxInput, TxOutput
from tests.attribution.fixture_tx import core_block_v3, load_esplora
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared
AIE = FIXTURES / "btc/esplora/am-i-exposed"
MEMPOOL = FIXTURES / "btc/esplora/mempool"


def one(name):
    (tx,) = load_esplora(AIE / name)
    return tx


def never_seen(_a):
    return True


def test_whirlpool_is_coinjoin_and_not_merged():
    tx = one("whirlpool-coinjoin.json")
    assert tx.hash.startswith("323df21f")
    assert coinjoin_kind(tx) == "whirlpool"
    assert multi_input_links(tx) == []
    assert detect_change(tx, is_fresh=never_seen) is None
    c = Clustering(Chain.BTC)
    cluster_transactions(c, [tx])
    addrs = {i.address for i in tx.inputs}
    assert len(addrs) == 5
    assert all(len(c.members(a)) == 1 for a in addrs)


def test_joinmarket_is_coinjoin_and_not_merged():
    tx = one("joinmarket-coinjoin.json")
    assert coinjoin_kind(tx) == "joinmarket"
    c = Clustering(Chain.BTC, min_confidence=0)
    assert cluster_transactions(c, [tx]) == []
    assert len(c.clusters()) == 0


def test_ordinary_multi_input_merges_and_keeps_evidence():
    tx = one("bare-multisig.json")  # 3 P2PKH inputs from 2 addresses
    assert coinjoin_kind(tx) is None
    links = multi_input_links(tx)
    assert [(x.a, x.b, x.heuristic, x.txs) for x in links] == [
        ("1A8JiWcwvpY7tAopUkSnGuEYHmzGYfZPiq", "1JArS6jzE3AJ9sZ3aFij1BmTcpFGgN86hA",
         "btc_multi_input", (tx.hash,))]  # fmt: skip
    # output 2 pays back to an input address: change by reuse, no new link needed
    guess = detect_change(tx, is_fresh=never_seen)
    assert guess is not None and guess.output_index == 2 and guess.reasons == ("address_reuse",)


def test_change_by_reuse_on_dust_attack():
    guess = detect_change(one("dust-attack-555.json"), is_fresh=never_seen)
    assert (guess.output_index, guess.address) == (1, "1AK4LYE6PYwBmSYHQX3v2UsXXHTvCAsJeK")


def test_change_script_type_single_signal_is_weak():
    tx = next(
        t
        for t in load_esplora(MEMPOOL / "transactions-random.json")
        if t.hash.startswith("13f00724")
    )
    guess = detect_change(tx, is_fresh=never_seen)
    # 1 P2WPKH input; outputs P2PKH 344,697 and P2WPKH 265,396: only the script type decides
    assert guess is not None and guess.output_index == 1 and guess.reasons == ("script_type",)
    assert guess.confidence == 40
    c = Clustering(Chain.BTC)  # default threshold 50: recorded, not merged
    links = cluster_transactions(c, [tx])
    assert [x.heuristic for x in links] == ["btc_change"]
    assert len(c.members(tx.inputs[0].address)) == 1


def test_change_ambiguous_on_simple_legacy():
    # one P2PKH input, two P2PKH non-round outputs: nothing singles one out
    assert detect_change(one("simple-legacy-p2pkh.json"), is_fresh=never_seen) is None


def test_change_needs_two_addressed_outputs():
    assert detect_change(one("taproot-op-return.json"), is_fresh=never_seen) is None


def test_batch_withdrawal_is_not_coinjoin_but_has_no_change_guess():
    tx = one("batch-withdrawal-143.json")
    assert coinjoin_kind(tx) is None  # single input
    assert detect_change(tx, is_fresh=never_seen) is None


def _tx(h, ins, outs):
    tx = Transaction(Chain.BTC, h, 1)
    for n, (addr, val, st) in enumerate(ins):
        tx.inputs.append(TxInput(n, "00" * 32, n, val, addr, st))
    for n, (addr, val, st) in enumerate(outs):
        tx.outputs.append(TxOutput(n, val, st, addr))
    return tx


WPKH, SH = "witness_v0_keyhash", "scripthash"


def test_payment_to_exchange_from_fresh_address_does_not_make_sender_the_exchange():
    sender, deposit, change = "bc1q-sender", "3Exchange-deposit", "bc1q-change"
    labels = [Label(Chain.BTC, deposit, "Binance", Category.EXCHANGE, "test", 90)]
    attribution = make_attribution(labels)
    # Fresh sender pays a round 0.05 BTC to a (fresh) exchange deposit address of another
    # script type; the change is non-round and of the sender's type.
    pay = _tx(
        "pay",
        [(sender, 7_345_678, WPKH)],
        [(deposit, 5_000_000, SH), (change, 2_340_000 + 5_555, WPKH)],
    )
    c = Clustering(Chain.BTC, min_confidence=0)
    links = cluster_transactions(c, [pay], attribution=attribution)
    assert [(x.a, x.b, x.heuristic) for x in links] == [(sender, change, "btc_change")]
    assert deposit not in c.members(sender)
    assert make_attribution(labels, c)(sender) is None
    view = EntityResolver(c, labels).resolve(sender)
    assert view.labels == [] and view.conflicts == []
    # Same payment when the heuristic cannot see the label: the exchange output is still not
    # taken for change, because signals disagree (round vs script type both point at `change`,
    # but the exchange address is the only P2SH; it never scores).
    c2 = Clustering(Chain.BTC, min_confidence=0)
    cluster_transactions(c2, [pay])
    assert deposit not in c2.members(sender)


def test_labeled_output_is_never_change_even_if_it_looks_like_it():
    sender, hot = "bc1q-a", "bc1q-exchange-hot"
    labels = [Label(Chain.BTC, hot, "Kraken", Category.EXCHANGE, "test", 90)]
    # The exchange output looks like change (same type, non-round, smaller than the input),
    # the other output is round and P2SH.
    tx = _tx("t", [(sender, 10_000_000, WPKH)], [(hot, 1_234_567, WPKH), ("3Pay", 8_000_000, SH)])
    assert detect_change(tx, is_fresh=never_seen).address == hot
    is_attr = lambda a: make_attribution(labels)(a) is not None  # noqa: E731
    assert detect_change(tx, is_fresh=never_seen, is_attributed=is_attr) is None


def test_fresh_signal_uses_history():
    a, old, new = "bc1q-a", "bc1q-old", "bc1q-new"
    seen_before = _tx("t0", [("bc1q-z", 50_000, WPKH)], [(old, 40_000, WPKH)])
    pay = _tx("t1", [(a, 1_000_000, WPKH)], [(old, 600_000, WPKH), (new, 398_765, WPKH)])
    c = Clustering(Chain.BTC)
    links = cluster_transactions(c, [seen_before, pay])
    change = [x for x in links if x.heuristic == "btc_change"]
    assert [(x.b, x.confidence) for x in change] == [(new, 60)]  # fresh + non_round
    assert c.cluster_id(new) == c.cluster_id(a)


def test_full_real_block_multi_input_clusters():
    txs = core_block_v3(FIXTURES / "btc/rpc/ordhook/279671.json")
    assert len(txs) == 217
    c = Clustering(Chain.BTC, min_confidence=90)  # multi-input only
    cluster_transactions(c, txs)
    big = next(t for t in txs if t.hash.startswith("663949f0"))
    assert len(big.inputs) == 402 and coinjoin_kind(big) is None
    addrs = {i.address for i in big.inputs}
    assert set(c.members(next(iter(addrs)))) >= addrs
    # Independent check: components of the "inputs of one tx" graph, computed naively.
    groups = [
        {i.address for i in t.inputs if i.address}
        for t in txs
        if not t.is_coinbase and coinjoin_kind(t) is None
    ]
    comps: list[set] = []
    for g in groups:
        hit = [s for s in comps if s & g]
        merged = set(g).union(*hit)
        comps = [s for s in comps if not (s & g)] + [merged]
    expected = sorted(sorted(s) for s in comps if len(s) > 1)
    assert sorted(sorted(v) for v in c.clusters().values()) == expected


@pytest.mark.parametrize("name", ["whirlpool-coinjoin.json", "joinmarket-coinjoin.json"])
def test_fixture_values_as_documented(name):
    raw = json.loads((AIE / name).read_text())
    assert sum(v["value"] for v in raw["vout"]) + raw["fee"] == sum(
        v["prevout"]["value"] for v in raw["vin"]
    )
