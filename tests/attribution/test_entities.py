import json

import numpy as np

from fundtrace.attribution.clustering import Clustering
from fundtrace.attribution.entities import EntityResolver, find_conflicts, make_attribution
from fundtrace.attribution.labels import Category, Label
from fundtrace.attribution.links import Link
from fundtrace.core.model import Chain

A, B, C, D, E = (f"1Addr{x}" for x in "ABCDE")


def lab(addr, entity, cat, conf=50, **kw):
    return Label(Chain.BTC, addr, entity, cat, "test", conf, **kw)


def chain_clustering():
    c = Clustering(Chain.BTC)
    c.add_links([
        Link(A, B, "btc_multi_input", 90, ("tx1",)),
        Link(B, C, "btc_change", 60, ("tx2",)),
        Link(C, D, "btc_multi_input", 90, ("tx3", "tx4")),
        Link(D, E, "btc_change", 40, ("tx5",)),  # weak: not merged
    ])  # fmt: skip
    return c


def test_inherited_label_with_evidence_chain_and_json_shape():
    c = chain_clustering()
    labels = [lab(D, "Kraken", Category.EXCHANGE, 90)]
    view = EntityResolver(c, labels).resolve(A)
    assert view.size == 4 and view.cluster_id == c.cluster_id(A)
    assert view.addresses[:2] == [A, D]  # queried address, then the labeled ones
    (got,) = view.labels
    assert got["entity"] == "Kraken" and got["inherited"] is True and got["address"] == D
    assert [(e["a"], e["b"], e["heuristic"]) for e in got["evidence"]] == [
        (A, B, "btc_multi_input"),
        (B, C, "btc_change"),
        (C, D, "btc_multi_input"),
    ]
    doc = json.loads(json.dumps(view.to_json()))
    assert set(doc) == {
        "address",
        "cluster_id",
        "size",
        "addresses",
        "labels",
        "links",
        "conflicts",
    }
    assert set(doc["links"][0]) == {"a", "b", "heuristic", "confidence", "txs"}
    assert E not in doc["addresses"]
    assert all(x["confidence"] >= 50 for x in doc["links"])


def test_limit_caps_lists_but_not_size():
    c = Clustering(Chain.BTC)
    hub = "1Hub"
    c.add_links([Link(hub, f"1Leaf{i}", "btc_multi_input", 90, (f"t{i}",)) for i in range(30)])
    view = EntityResolver(c, []).resolve("1Leaf7", limit=5)
    assert view.size == 31 and len(view.addresses) == 5 and len(view.links) == 5
    assert view.addresses[0] == "1Leaf7"


def test_conflicts_reported_not_merged():
    c = chain_clustering()
    labels = [
        lab(A, "Binance 14", Category.EXCHANGE, 50),
        lab(D, "Kraken", Category.EXCHANGE, 90),
        lab(B, "Binance", Category.EXCHANGE, 60),
    ]
    view = EntityResolver(c, labels).resolve(C)
    kinds = [x["kind"] for x in view.conflicts]
    assert kinds == ["multiple_operators"]
    assert view.conflicts[0]["entities"] == ["Binance 14", "Kraken"]
    name, cat = make_attribution(labels, c)(C)
    assert "conflicting" in name and "Kraken" in name and "Binance" in name and cat == "exchange"
    # a direct label still wins for its own address
    assert make_attribution(labels, c)(D) == ("Kraken", "exchange")


def test_exchange_and_hack_on_one_address_is_a_conflict_sanction_is_not():
    bter = [lab(A, "Bter.com", Category.EXCHANGE), lab(A, "Bter hack", Category.HACKER)]
    assert [x["kind"] for x in find_conflicts(bter)] == ["operator_and_perpetrator"]
    garantex = [
        lab(A, "Garantex", Category.EXCHANGE),
        lab(A, "GARANTEX EUROPE OU", Category.SANCTIONED, 90),
    ]
    assert find_conflicts(garantex) == []


def test_delisted_label_ignored_for_tracing_but_shown():
    labels = [
        lab(A, "Tornado.Cash: Router", Category.SANCTIONED, 90, valid=False, notes="delisted"),
        lab(A, "Tornado Cash", Category.MIXER, 20),
    ]
    attribution = make_attribution(labels)
    assert attribution(A) == ("Tornado Cash", "mixer")
    view = EntityResolver(None, labels, chain=Chain.BTC).resolve(A)
    assert {x["valid"] for x in view.labels} == {True, False}
    assert view.cluster_id is None and view.size == 1


def test_attribution_normalises_the_query():
    h = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    labels = [Label(Chain.ETH, h, "Lazarus Group", Category.SANCTIONED, "OFAC SDN", 90)]
    c = Clustering(Chain.ETH)
    attribution = make_attribution(labels, c)
    assert attribution("  0x098B716B8Aaf21512996dC57EB0615e2383E2f96 ") == (
        "Lazarus Group",
        "sanctioned",
    )
    assert attribution("not an address") is None


def test_save_load_round_trip_and_incremental_equals_batch(tmp_path):
    c = chain_clustering()
    c.save(tmp_path / "c.npz")
    c2 = Clustering.load(tmp_path / "c.npz")
    assert c2.clusters() == c.clusters()
    assert c2.links == c.links
    extra = [
        Link(E, "1New", "btc_multi_input", 90, ("tx9",)),
        Link(A, B, "btc_multi_input", 90, ("tx10",)),
    ]
    c2.add_links(extra)
    c.add_links(extra)
    assert c2.clusters() == c.clusters()
    ab = next(x for x in c2.links if {x.a, x.b} == {A, B})
    assert ab.txs == ("tx1", "tx10")  # evidence accumulates per pair
    assert np.array_equal(c2.to_arrays()["parent"], c.to_arrays()["parent"])
