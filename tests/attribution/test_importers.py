import csv
import json

import pytest

from fundtrace.attribution.importers import (
    mark_delisted,
    read_csv_labels,
    read_dawsbot_accounts,
    read_etherscan_combined,
    read_etherscan_csv,
    read_forta_csv,
    read_mew_darklist,
    read_ofac,
    read_tagpack,
)
from fundtrace.attribution.importers.tagpack import (
    DEFAULT_CONFIDENCE_LEVELS,
    load_confidence_levels,
)
from fundtrace.attribution.labels import Category, entity_key
from fundtrace.core.model import Chain
from tests.paths import LABELS, needs_shared

OFAC = LABELS / "ofac"
BRAVE = OFAC / "brave-intl-lists-2025-12-04"
OLD = OFAC / "0xB10C-lists-2024-09-27"
PACKS = LABELS / "tagpacks" / "graphsense-tagpacks" / "packs"
ETH = LABELS / "eth"
TRON_UNDER_XBT = "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"


# ---------------------------------------------------------------- CSV (hand-made files)
def _write(path, rows):
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_csv_good_file(tmp_path):
    p = _write(tmp_path / "mine.csv", [
        ["chain", "address", "entity", "category", "source", "confidence"],
        ["eth", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "Lazarus", "hacker", "case 7", "80"],
        ["xbt", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "Satoshi", "other", "", ""],
        # case-only duplicate of row 1: one label after normalisation
        ["ETH", "0x098b716b8aaf21512996dc57eb0615e2383e2f96", "Lazarus", "HACKER", "case 7", "80"],
    ])  # fmt: skip
    labels, errors = read_csv_labels(p, created_by="alice", case_id="7")
    assert errors == []
    assert len(labels) == 2
    eth = next(x for x in labels if x.chain is Chain.ETH)
    assert eth.address == "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    assert (eth.category, eth.confidence, eth.source, eth.case_id, eth.created_by) == (
        Category.HACKER,
        80,
        "case 7",
        "7",
        "alice",
    )
    btc = next(x for x in labels if x.chain is Chain.BTC)
    assert (btc.source, btc.confidence) == ("mine.csv", 50)


def test_csv_bad_row_rejects_whole_file_with_location(tmp_path):
    p = _write(tmp_path / "bad.csv", [
        ["chain", "address", "entity", "category"],
        ["btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "Satoshi", "other"],
        ["btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "Satoshi", "whale"],
        ["eth", "0xA0DF9CA52e8aB5DDE22C55D9B3C2CDF814B9B773", "Fake_Phishing529", "scam"],
    ])  # fmt: skip
    res = read_csv_labels(p)
    assert res.rejected and res.labels == []
    assert [(e.record, e.field) for e in res.errors] == [(3, "category"), (4, "address")]
    assert "bad.csv" in str(res.errors[0]) and "whale" in str(res.errors[0])
    assert "EIP-55" in str(res.errors[1])


def test_csv_skip_invalid_reports_address_rows_only(tmp_path):
    p = _write(tmp_path / "t.csv", [
        ["chain", "address", "entity", "category"],
        ["btc", TRON_UNDER_XBT, "Wang Mingming", "sanctioned"],
        ["btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "Satoshi", "other"],
    ])  # fmt: skip
    res = read_csv_labels(p, skip_invalid=True)
    assert not res.rejected
    assert [x.address for x in res.labels] == ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]
    assert len(res.errors) == 1 and "TRON" in str(res.errors[0]) and res.errors[0].record == 2
    # other errors still reject even with skip_invalid
    q = _write(
        tmp_path / "u.csv",
        [
            ["chain", "address", "entity", "category"],
            ["btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "S", "x"],
        ],
    )
    assert read_csv_labels(q, skip_invalid=True).rejected


def test_csv_header_problems(tmp_path):
    p = _write(tmp_path / "h.csv", [["chain", "address", "entity"]])
    res = read_csv_labels(p)
    assert res.rejected and res.errors[0].field == "category"
    p = _write(
        tmp_path / "c.csv",
        [
            ["chain", "address", "entity", "category", "confidence"],
            ["btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "S", "other", "101"],
        ],
    )
    assert read_csv_labels(p).errors[0].field == "confidence"


def test_csv_import_is_idempotent(tmp_path):
    p = _write(
        tmp_path / "i.csv",
        [
            ["chain", "address", "entity", "category"],
            [
                "sol",
                "42RLPACwZPx3vYYmxSueqsogfynBDqXK298EDsNoyoHi",
                "Sokolovski Rolan",
                "sanctioned",
            ],
        ],
    )
    a, b = read_csv_labels(p), read_csv_labels(p)
    assert [x.key for x in a.labels] == [x.key for x in b.labels]


# ---------------------------------------------------------------- OFAC (real files)
@needs_shared
def test_ofac_xbt_list_rejected_for_tron_address_then_skippable():
    res = read_ofac(BRAVE / "sanctioned_addresses_XBT.txt")
    assert res.rejected and res.labels == []
    assert len(res.errors) == 1
    assert "TRON" in str(res.errors[0]) and TRON_UNDER_XBT in str(res.errors[0])
    res = read_ofac(BRAVE / "sanctioned_addresses_XBT.txt", skip_invalid=True)
    assert not res.rejected
    assert len(res.labels) == 517 - 1
    assert all(x.category is Category.SANCTIONED and x.chain is Chain.BTC for x in res.labels)


@needs_shared
def test_ofac_slice_matches_per_asset_lists():
    res = read_ofac(OFAC / "sdn_advanced_digital_currency_slice.xml", skip_invalid=True)
    assert [e.record for e in res.errors] == ["DistinctParty 45404 Feature 65924"]
    by_chain = {c: {x.address for x in res.labels if x.chain is c} for c in Chain}

    def txt(asset):
        return [ln.strip() for ln in (BRAVE / f"sanctioned_addresses_{asset}.txt").open()]

    xbt = set(txt("XBT")) - {TRON_UNDER_XBT}
    omni = {a for a in txt("USDT") if a[0] in "13"}
    assert by_chain[Chain.BTC] == xbt | omni
    eth_like = {a.lower() for a in txt("ETH") + txt("USDT") + txt("USDC") if a.startswith("0x")}
    assert by_chain[Chain.ETH] == eth_like
    assert len(by_chain[Chain.ETH]) == 81  # PROVENANCE 6.1
    assert by_chain[Chain.SOL] == {"42RLPACwZPx3vYYmxSueqsogfynBDqXK298EDsNoyoHi"}
    assert res.skipped["asset TRX"] == 29 and res.skipped["USDT on TRON"] == 78
    sol = next(x for x in res.labels if x.chain is Chain.SOL)
    assert (sol.entity, sol.as_of) == ("Sokolovski Rolan", "2025-11-19")
    # one address, two different SDN parties: both labels kept
    two = {x.entity for x in res.labels if x.address == "1H939dom7i4WDLCKyGbXUp3fs9CSTNRzgL"}
    assert two == {"Khatibi Aghada Ahmad", "Nikaeen Ravari Amir Hossein"}
    lazarus = [x for x in res.labels if x.address == "0x098b716b8aaf21512996dc57eb0615e2383e2f96"]
    assert {x.entity for x in lazarus} == {"Lazarus Group"}


@needs_shared
def test_ofac_json_equals_txt_and_ultrasound_csv():
    a = read_ofac(BRAVE / "sanctioned_addresses_ETH.json")
    b = read_ofac(BRAVE / "sanctioned_addresses_ETH.txt")
    assert {x.key for x in a.labels} == {x.key for x in b.labels} and len(a.labels) == 77
    u = read_ofac(OFAC / "ultrasoundmoney-ofac-ethereum-addresses" / "data.csv")
    assert u.errors == [] and len(u.labels) == 97
    assert {x.entity for x in u.labels if x.address.startswith("0x098b716b")} == {"LAZARUS GROUP"}


@needs_shared
def test_ofac_delisting_tornado_router():
    old = read_ofac(OLD / "sanctioned_addresses_ETH.txt").labels
    new = read_ofac(BRAVE / "sanctioned_addresses_ETH.txt").labels
    gone = mark_delisted(old, new, as_of="2025-12-04")
    assert len(gone) == 90  # PROVENANCE 6.4: 90 removed
    router = [x for x in gone if x.address == "0xd90e2f925da726b50c4ed8d0fb90ad053324f31b"]
    assert len(router) == 1 and router[0].valid is False and "2025-12-04" in router[0].notes


# ---------------------------------------------------------------- TagPacks (real files)
@needs_shared
def test_confidence_levels_match_tagpack_tool_table():
    table = LABELS / "tagpacks/graphsense-tagpack-tool/src/tagpack/db/confidence.csv"
    assert load_confidence_levels(table) == DEFAULT_CONFIDENCE_LEVELS


@needs_shared
def test_tagpack_header_inheritance_and_levels():
    res = read_tagpack(PACKS / "hacks.yaml")
    assert not res.rejected and res.errors == []
    assert all(x.chain is Chain.BTC and x.confidence == 20 for x in res.labels)  # web_crawl
    assert all(x.as_of == "2021-11-12" for x in res.labels)
    bter = {
        (x.entity, x.category)
        for x in res.labels
        if x.address == "1Ni8z1MbaF4ri8GGE67BWtLu66YnXj2BuW"
    }
    # PROVENANCE 6.4: exchange vs hack on one address, both kept
    assert bter == {("Bter.com", Category.EXCHANGE), ("Bter hack", Category.HACKER)}


@needs_shared
def test_tagpack_ofac_pack_tron_under_btc():
    res = read_tagpack(PACKS / "ofac.yaml")
    assert res.rejected and len(res.errors) == 1 and TRON_UNDER_XBT in str(res.errors[0])
    assert res.errors[0].field == "address" and str(res.errors[0].record).startswith("tags[")
    res = read_tagpack(PACKS / "ofac.yaml", skip_invalid=True)
    assert not res.rejected
    btc = {x.address for x in res.labels if x.chain is Chain.BTC}
    assert len(btc) == 384  # 385 BTC tags, minus the TRON one
    assert all(
        x.category is Category.OTHER and x.source_category == "user" for x in res.labels
    )  # the pack's own category is "user"
    assert all(x.confidence == 50 for x in res.labels)  # pack states no confidence


@needs_shared
def test_tagpack_trailing_space_and_duplicates():
    res = read_tagpack(PACKS / "tornado_cash.yaml")
    assert not res.rejected and res.rows == 39
    assert len(res.labels) == 38  # the spaced duplicate collapses
    assert any("whitespace" in w for w in res.warnings)
    assert all(x.category is Category.MIXER for x in res.labels)


@needs_shared
@pytest.mark.parametrize(
    ("pack", "bad"),
    [
        ("plustoken.yaml", 2),
        ("sextortion_excello.yaml", 6),
        ("etherscamdb_tagpack.yaml", 1),
        ("etherscan-label-word-cloud.yaml", 2),
    ],
)
def test_tagpacks_with_broken_checksums(pack, bad):
    res = read_tagpack(PACKS / pack, skip_invalid=True)
    assert not res.rejected and len(res.errors) == bad  # PROVENANCE 6.2
    assert {e.field for e in res.errors} == {"address"}
    if pack == "plustoken.yaml":  # the default rejects the pack (re-read only the small one)
        strict = read_tagpack(PACKS / pack)
        assert strict.rejected and strict.labels == [] and len(strict.errors) == bad


@needs_shared
def test_tagpack_conflicting_labels_upbit_and_1inch():
    res = read_tagpack(PACKS / "defi-fraud-masterthesis.yaml")
    upbit = [x for x in res.labels if x.address == "0x83053c32b7819f420dcfed2d218335fe430fe3b5"]
    assert upbit and all(x.category is Category.HACKER for x in upbit)
    inch = [x for x in res.labels if x.address == "0x11111254369792b2ca5d084ab5eea397ca8fa48b"]
    assert inch and inch[0].entity == "defi fraud"


# ---------------------------------------------------------------- Ethereum lists (real files)
@needs_shared
def test_etherscan_combined_case_duplicates_and_multi_labels():
    path = ETH / "brianleect-etherscan-labels/data/etherscan/combined/combinedAllLabels.json"
    res = read_etherscan_combined(path)
    assert not res.rejected
    raw = json.loads(path.read_text())
    assert len({k.lower() for k in raw}) == len(raw) - 173  # PROVENANCE 4.1
    assert all(x.address == x.address.lower() for x in res.labels)
    keys = [x.key for x in res.labels]
    assert len(keys) == len(set(keys))
    ronin = {
        x.category for x in res.labels if x.address == "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    }
    assert Category.SANCTIONED in ronin
    # keyword trap: fraud-proof is Arbitrum's protocol, not a scam
    arb = [x for x in res.labels if x.address == "0xce81e7d009e53c02242b724819df1869da5e9fd8"]
    assert all(x.category not in (Category.SCAM, Category.HACKER) for x in arb)
    tornado_router = {
        x.category for x in res.labels if x.address == "0xd90e2f925da726b50c4ed8d0fb90ad053324f31b"
    }
    assert {Category.SANCTIONED, Category.MIXER} <= tornado_router


@needs_shared
def test_etherscan_csv_blocked_duplicates():
    res = read_etherscan_csv(
        ETH / "brianleect-etherscan-labels/data/etherscan/accounts/blocked.csv"
    )
    assert res.rows == 661 and len({x.address for x in res.labels}) == 483
    assert all(x.category is Category.OTHER for x in res.labels)
    exch = read_etherscan_csv(ETH / "brianleect-etherscan-labels/legacy-4deaaaa/data/exchange.csv")
    assert not exch.rejected and all(x.category is Category.EXCHANGE for x in exch.labels)
    heist = read_etherscan_csv(ETH / "brianleect-etherscan-labels/legacy-4deaaaa/data/heist.csv")
    yearn = [x for x in heist.labels if x.address == "0x14ec0cd2acee4ce37260b925f74648127a889a28"]
    assert yearn and yearn[0].category is Category.HACKER


@needs_shared
def test_dawsbot_exchange_entity_and_hack_vs_blocked():
    cb = read_dawsbot_accounts(ETH / "dawsbot-eth-labels/data/etherscan/coinbase/accounts.json")
    assert len(cb.labels) == 126 and {x.entity for x in cb.labels} == {"Coinbase"}
    blocked = read_dawsbot_accounts(ETH / "dawsbot-eth-labels/data/etherscan/blocked/accounts.json")
    yearn = [x for x in blocked.labels if x.address == "0x14ec0cd2acee4ce37260b925f74648127a889a28"]
    assert yearn and yearn[0].category is Category.OTHER


@needs_shared
def test_forta_bad_checksums_and_case_duplicates():
    path = ETH / "forta-labelled-datasets/labels/1/phishing_scams.csv"
    res = read_forta_csv(path)
    assert res.rejected and len(res.errors) == 2
    assert {e.field for e in res.errors} == {"address"}
    res = read_forta_csv(path, skip_invalid=True)
    bad = {
        "0xA0DF9CA52e8aB5DDE22C55D9B3C2CDF814B9B773",
        "0xf299f6B031Cc4dd1BfcB86A5e5590f99336a29c6",
    }
    with path.open() as fh:
        rows = [r["address"] for r in csv.DictReader(fh)]
    # Only the mis-checksummed rows are dropped; a lower-case copy elsewhere in the file stays.
    assert {x.address for x in res.labels} == {a.lower() for a in rows if a not in bad}
    assert len({a.lower() for a in rows}) == 6205  # PROVENANCE 4.3
    assert all(x.category is Category.SCAM for x in res.labels)


@needs_shared
def test_mew_darklist_traps():
    path = ETH / "mew-ethereum-lists/src/addresses/addresses-darklist.json"
    res = read_mew_darklist(path)
    assert res.rejected and len(res.errors) == 1
    assert res.errors[0].record == "[375]" and "39" in str(res.errors[0])
    res = read_mew_darklist(path, skip_invalid=True)
    assert len({x.address for x in res.labels}) == 630 - 1
    assert sum("whitespace" in w for w in res.warnings) == 2  # PROVENANCE 6.2
    assert "0x00e01a648ff41346cdeb873182383333d2184dd1" in {x.address for x in res.labels}


def test_entity_key():
    assert entity_key("Binance 14") == entity_key("binance") == entity_key("Binance: Hot Wallet 2")
    assert entity_key("Bter.com") == "bter" != entity_key("Kraken")
