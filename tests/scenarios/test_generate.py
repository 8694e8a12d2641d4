"""Every scenario kind imports through the real importers and is consistent chain by chain."""

import csv
import json
from pathlib import Path

import pytest

from fundtrace.core.addresses import normalize_address
from fundtrace.core.model import NATIVE, Chain, TransferKind
from fundtrace.ingest.dispatch import parse_inputs
from fundtrace.scenarios import KINDS, generate
from fundtrace.scenarios.btc import SUBSIDY
from fundtrace.scenarios.taint_account import account_taint, chain_order
from fundtrace.scenarios.taint_utxo import utxo_taint


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """Each kind once at a small size: (manifest, parsed transactions by chain, ground truth)."""
    cache = {}

    def get(kind: str):
        if kind not in cache:
            out = tmp_path_factory.mktemp(kind)
            m = generate(kind, 11, out, transfers=1500)
            parsed = {}
            for inp in m.inputs:
                txs, warnings = [], []
                for _, batch in parse_inputs(inp.chain, inp.fmt, inp.paths):
                    txs += batch.transactions
                    warnings += batch.warnings
                parsed[inp.chain] = (txs, warnings)
            truth = json.loads(m.ground_truth.read_text())
            cache[kind] = (m, parsed, truth)
        return cache[kind]

    return get


@pytest.mark.parametrize("kind", list(KINDS))
def test_imports_and_reference_matches_parsed_data(scenario, kind):
    m, parsed, truth = scenario(kind)
    assert {i.chain.value for i in m.inputs} == set(truth["chains"])
    for chain, (txs, warnings) in parsed.items():
        assert txs, chain
        assert warnings == [], warnings[:3]
        gt = truth["chains"][chain.value]
        assert len(txs) == gt["counts"]["transactions"]
        stop = {e["address"] for e in gt["labeled_endpoints"]}
        ordered = chain_order(txs)
        for spec in gt["traces"]:
            assert spec["sources"]
            for model, want in spec["models"].items():
                if chain.is_utxo:
                    got = utxo_taint(ordered, spec["sources"], model=model, stop=stop)
                else:
                    got = account_taint(
                        ordered, spec["asset"], spec["sources"], model=model, stop=stop
                    )
                # the reference over everything the importer read equals the stated figures:
                # the background never touches the incident's unlabeled addresses
                assert got.to_json() == want, (chain, spec["name"], model)


@pytest.mark.parametrize("kind", list(KINDS))
def test_ground_truth_conserves_and_reaches_endpoints(scenario, kind):
    _, _, truth = scenario(kind)
    for chain, gt in truth["chains"].items():
        labeled = {e["address"] for e in gt["labeled_endpoints"]}
        for spec in gt["traces"]:
            assert set(spec["models"]) >= {"poison", "haircut", "fifo"}
            if chain == "btc":
                assert "tiho" in spec["models"]
            for model, fig in spec["models"].items():
                total = int(fig["source_total"])
                assert total > 0
                assert set(fig["endpoints"]) <= labeled
                accounted = (
                    sum(map(int, fig["endpoints"].values()))
                    + sum(map(int, fig["held"].values()))
                    + int(fig["fees"])
                    + int(fig["burned"])
                )
                if fig["conserving"]:
                    assert accounted == total, (chain, spec["name"], model)
                else:
                    assert accounted >= total
            assert spec["models"]["poison"]["reached"], "stolen funds reach no labeled endpoint"
            hc = set(spec["models"]["haircut"]["reached"])
            assert hc <= set(spec["models"]["poison"]["reached"])


def test_btc_consistency(scenario):
    _, parsed, truth = scenario("btc-hot-wallet-drain")
    txs, _ = parsed[Chain.BTC]
    created: dict[tuple[str, int], tuple[int, str | None]] = {}
    spent: set[tuple[str, int]] = set()
    fees_by_block: dict[int, int] = {}
    coinbase_by_block: dict[int, int] = {}
    for tx in chain_order(txs):
        if tx.is_coinbase:
            coinbase_by_block[tx.block_number] = tx.output_total()
        else:
            for i in tx.inputs:
                key = (i.spent_txid, i.spent_vout)
                assert key in created, f"{tx.hash} spends unknown output {key}"
                assert key not in spent, f"{key} spent twice"
                assert created[key] == (i.value, i.address)
                spent.add(key)
            assert tx.input_total() == tx.output_total() + tx.fee
            assert 0 < tx.fee < 1_000_000
            fees_by_block[tx.block_number] = fees_by_block.get(tx.block_number, 0) + tx.fee
        for o in tx.outputs:
            created[(tx.hash, o.index)] = (o.value, o.address)
            if o.address is not None:
                assert normalize_address(Chain.BTC, o.address) == o.address
    for block, value in coinbase_by_block.items():
        assert value == SUBSIDY + fees_by_block.get(block, 0)
    facts = truth["chains"]["btc"]
    assert facts["coinjoin_txids"]
    cj = next(t for t in txs if t.hash == facts["coinjoin_txids"][0])
    values = [o.value for o in cj.outputs]
    assert max(values.count(v) for v in values) == 5  # five equal outputs


def test_eth_balances_never_negative(scenario):
    _, parsed, truth = scenario("eth-erc20-drain")
    txs, _ = parsed[Chain.ETH]
    gt = truth["chains"]["eth"]
    token = gt["token"]["address"]
    native = {a: int(v) for a, v in gt["opening_balances"][NATIVE].items()}
    tok: dict[str, int] = {}
    for tx in chain_order(txs):
        assert tx.fee and tx.fee > 0 and tx.success
        native[tx.fee_payer] = native.get(tx.fee_payer, 0) - tx.fee
        assert native[tx.fee_payer] >= 0, tx.hash
        for t in tx.transfers:
            book = tok if t.kind is TransferKind.TOKEN else native
            assert t.asset == (token if t.kind is TransferKind.TOKEN else NATIVE)
            if t.from_address is not None:
                book[t.from_address] = book.get(t.from_address, 0) - t.amount
                assert book[t.from_address] >= 0, (tx.hash, t)
            if t.to_address is not None:
                book[t.to_address] = book.get(t.to_address, 0) + t.amount
            for a in (t.from_address, t.to_address):
                if a is not None:
                    assert normalize_address(Chain.ETH, a) == a
    assert gt["address_poisoning"]
    for p in gt["address_poisoning"]:
        look, real = p["lookalike"], p["imitates"]
        assert look != real and look[:6] == real[:6] and look[-4:] == real[-4:]
    internal = [t for tx in txs for t in tx.transfers if t.kind is TransferKind.INTERNAL]
    assert len(internal) >= 12  # disperse, swaps, mixer withdrawals


def test_sol_balances_continue_and_explain(scenario):
    m, parsed, _ = scenario("sol-spl-drain")
    lamports: dict[str, int] = {}
    tokens: dict[str, int] = {}
    for path in m.inputs[0].paths:
        for line in Path(path).read_text().splitlines():
            r = json.loads(line)
            meta = r["meta"]
            keys = [k["pubkey"] for k in r["transaction"]["message"]["accountKeys"]]
            assert sum(meta["postBalances"]) - sum(meta["preBalances"]) == -meta["fee"]
            for k, pre, post in zip(keys, meta["preBalances"], meta["postBalances"], strict=True):
                assert lamports.get(k, pre) == pre, f"{k} jumps between transactions"
                lamports[k] = post
                normalize_address(Chain.SOL, k)
            for side in ("preTokenBalances", "postTokenBalances"):
                for tb in meta[side]:
                    acct = keys[tb["accountIndex"]]
                    amt = int(tb["uiTokenAmount"]["amount"])
                    if side == "preTokenBalances":
                        assert tokens.get(acct, amt) == amt
                    else:
                        tokens[acct] = amt
    txs, warnings = parsed[Chain.SOL]
    assert warnings == []  # the importer's balance check explains every change
    assert sum(1 for tx in txs for t in tx.transfers if t.kind is TransferKind.TOKEN) > 50


def test_labels_csv_valid(scenario):
    m, _, truth = scenario("incident-3chain")
    with m.labels_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["chain", "address", "entity", "category", "source", "confidence"]
    cats = {r["category"] for r in rows}
    assert {"exchange", "mixer", "bridge"} <= cats
    for r in rows:
        assert normalize_address(r["chain"], r["address"]) == r["address"]
    for chain, gt in truth["chains"].items():
        for a in gt["thief_addresses"]:
            assert normalize_address(chain, a) == a
        deps = gt["deposit_addresses"]
        assert any(d["labeled"] for d in deps) and any(not d["labeled"] for d in deps)


def test_deterministic_per_seed(tmp_path):
    a = generate("incident-3chain", "s1", tmp_path / "a", transfers=1000)
    b = generate("incident-3chain", "s1", tmp_path / "b", transfers=1000)
    c = generate("incident-3chain", "s2", tmp_path / "c", transfers=1000)

    def files(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }

    fa, fb, fc = files(a.out_dir), files(b.out_dir), files(c.out_dir)
    assert fa == fb
    assert fa.keys() == fc.keys() and fa["ground_truth.json"] != fc["ground_truth.json"]


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario kind"):
        generate("nope", 1, tmp_path)
    with pytest.raises(ValueError, match="transfers"):
        generate("btc-hot-wallet-drain", 1, tmp_path, transfers=10)
