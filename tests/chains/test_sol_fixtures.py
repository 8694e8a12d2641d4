"""Every recorded mainnet response under fixtures/sol/rpc parses, and the figures its
PROVENANCE.md fixes (fees, exact lamport and token amounts, owners) come out of the parser."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from solders.hash import Hash
from solders.instruction import CompiledInstruction
from solders.message import MessageAddressTableLookup, MessageHeader, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from fundtrace.chains.sol.balances import check_balances, lamport_deltas, token_deltas
from fundtrace.chains.sol.instructions import b58decode
from fundtrace.chains.sol.message import read_transaction
from fundtrace.chains.sol.rpc import (
    classify,
    parse_block,
    parse_signatures,
    parse_transaction,
    unwrap,
)
from fundtrace.chains.sol.transfers import decode_transfers
from fundtrace.core.model import NATIVE, Batch, Chain, TransferKind
from tests.paths import FIXTURES, needs_shared

pytestmark = needs_shared

RPC = FIXTURES / "sol" / "rpc"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
WSOL = "So11111111111111111111111111111111111111112"
USDT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"


def load(name: str) -> object:
    return json.loads((RPC / name).read_text(), parse_float=Decimal)


def one_tx(name: str) -> Batch:
    batch = parse_transaction(load(name), source=name)
    assert len(batch.transactions) == 1
    batch.transactions[0].validate()
    return batch


def view_of(name: str):
    return read_transaction(unwrap(load(name)), source=name)


def moves(tx) -> list[tuple[int, str, str, str | None, str | None, int, str | None]]:
    return [
        (t.index, t.kind.value, t.asset, t.from_address, t.to_address, t.amount, t.trace_address)
        for t in tx.transfers
    ]


# --- every file -----------------------------------------------------------------------------

EXPECTED_KIND = {
    "getBlock_base64_blockheight339954329_slice.json": "sol.block",
    "getBlock_jsonParsed_slot241043141_slice.json": "sol.block",
    "getBlock_signatures_slot138802069.json": "sol.block",
    "getSignaturesForAddress_EAQ6MUJM_page1.json": "sol.signatures",
    "getSignaturesForAddress_EAQ6MUJM_page2_before_2z34ySUT.json": "sol.signatures",
    "getTransaction_base64_v0_alt_jupiter_swap_494hTE5g.json": "sol.transaction",
    "getTransaction_jsonParsed_failed_swap_376DxeSP.json": "sol.transaction",
    "getTransaction_jsonParsed_nonce_two_sol_transfers_2msqMqeU.json": "sol.transaction",
    "getTransaction_jsonParsed_sol_transfer_2kHbPUGz.json": "sol.transaction",
    "getTransaction_jsonParsed_usdc_transferChecked_4LXpF3MC.json": "sol.transaction",
    "getTransaction_jsonParsed_v0_usdc_bridge_deposit_hSCrDMhM.json": "sol.transaction",
    "getTransaction_json_usdc_bridge_deposit_4nRGgV9t.json": "sol.transaction",
    "getTransaction_json_v0_alt_jupiter_swap_2ML2h2Yw.json": "sol.transaction",
}


def test_fixture_list_is_complete():
    assert sorted(p.name for p in RPC.iterdir()) == sorted(EXPECTED_KIND)


@pytest.mark.parametrize("name", sorted(EXPECTED_KIND))
def test_every_file_classifies_and_parses(name):
    obj = load(name)
    if isinstance(obj, list) and obj and isinstance(obj[0], dict) and "jsonrpc" in obj[0]:
        assert len(obj) == 1  # a one-response batch
        obj = obj[0]
    kind = classify(obj)
    assert kind == EXPECTED_KIND[name]
    if kind == "sol.signatures":
        assert len(parse_signatures(obj, source=name)) == 10
        return
    batch = parse_block(obj, source=name) if kind == "sol.block" else parse_transaction(obj)
    assert batch.chain is Chain.SOL
    for tx in batch.transactions:
        tx.validate()
        if not tx.success:
            assert tx.transfers == []
        assert tx.fee_payer and tx.fee is not None and tx.fee > 0


def all_views():
    for name, kind in EXPECTED_KIND.items():
        if kind == "sol.transaction":
            yield name, view_of(name)
        elif name.startswith("getBlock_") and "signatures" not in name:
            for i, entry in enumerate(unwrap(load(name))["transactions"]):
                yield f"{name}[{i}]", read_transaction(entry, source=name, record=i)


def test_lamports_sum_to_minus_fee_and_tokens_balance_except_wsol():
    """PROVENANCE: sum(post) - sum(pre) == -fee everywhere; per-mint token deltas are zero
    except WSOL in exactly five transactions (no MintTo/Burn anywhere)."""
    wsol_nonzero = {}
    count = 0
    for name, view in all_views():
        count += 1
        assert sum(view.post_balances) - sum(view.pre_balances) == -view.fee, name
        report = check_balances(view, decode_transfers(view))
        assert report.lamport_sum_ok
        per_mint: dict[str, int] = {}
        for (_acct, mint), d in token_deltas(view).items():
            per_mint[mint] = per_mint.get(mint, 0) + d
        for mint, d in per_mint.items():
            if d:
                assert mint == WSOL, (name, mint, d)
                wsol_nonzero[view.signature[:8]] = d
                assert report.unexplained_mints == {WSOL: d}
    assert count == 8 + 1 + 16
    assert wsol_nonzero == {
        "494hTE5g": 516,
        "47ZhPRXs": 101_785_743,
        "265wfrhd": -250_868_135,
        "54qTQpVA": 9_900_000_000,
        "aLKjam64": -67_368_065,
    }


# --- getTransaction files -------------------------------------------------------------------


def test_single_sol_transfer_2kHbPUGz():
    batch = one_tx("getTransaction_jsonParsed_sol_transfer_2kHbPUGz.json")
    tx = batch.transactions[0]
    a, b = (
        "4Y5YjAPB4hMdCsiFy7BaBSscyiAvB7cuAbhxnBZ5xmgy",
        "3eF3iBQqi2DmDLS7o9y8gG7necF5VBbwYy5gqF7sh899",
    )
    assert tx.hash.startswith("2kHbPUGzehenUXQbBfAVZGcu")
    assert (tx.block_number, tx.timestamp, tx.tx_index) == (399683256, 1770867996, 775)
    assert (tx.fee, tx.fee_payer, tx.success) == (5000, a, True)
    assert moves(tx) == [(0, "native", NATIVE, a, b, 24_922_118, "0")]
    assert batch.warnings == []
    assert [x.asset_id for x in batch.assets] == [NATIVE]
    view = view_of("getTransaction_jsonParsed_sol_transfer_2kHbPUGz.json")
    assert lamport_deltas(view) == {a: -24_927_118, b: 24_922_118}


def test_nonce_and_two_sol_transfers_2msqMqeU():
    name = "getTransaction_jsonParsed_nonce_two_sol_transfers_2msqMqeU.json"
    tx = one_tx(name).transactions[0]
    src = "5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9"
    assert (tx.fee, tx.fee_payer) == (11_000, src)
    assert [(t.kind, t.from_address, t.to_address, t.amount) for t in tx.transfers] == [
        (TransferKind.NATIVE, src, "9AcRtqNTy4wUD9KKuB2mKrP5n6U3i2dMqeJchrsQU4ke", 105_673_070),
        (TransferKind.NATIVE, src, "Ah6ubKzHJMDStLD1i6P51bugRMggARUhDCc8Gxfsg4sU", 30_923_508_650),
    ]
    view = view_of(name)
    deltas = lamport_deltas(view)
    assert deltas[src] == -31_029_192_720 == -(105_673_070 + 30_923_508_650 + 11_000)
    assert "Cj8BhxUwTjmtMk76Mc7NmhpgTgnQU9162UPrG7LBqFpi" not in deltas  # nonce account
    # the transfers are the 4th and 5th instruction: advanceNonce and 2 ComputeBudget come first
    assert [view.instructions[t.index].program_id for t in tx.transfers] == ["1" * 32] * 2
    assert check_balances(view, decode_transfers(view)).explained


def test_usdc_transfer_checked_goes_to_owner_wallets_4LXpF3MC():
    name = "getTransaction_jsonParsed_usdc_transferChecked_4LXpF3MC.json"
    batch = one_tx(name)
    tx = batch.transactions[0]
    owner_from = "3V9bd3EN5aNuhE4RiHGbZ1eZakJ1F9cDb8V4YLjCG8cg"
    owner_to = "B2v68t8MXb9zUms1VQKuCcvjrjKDK6fLd8ZngqmBGy1M"
    assert (tx.fee, tx.fee_payer) == (48_370, owner_from)
    assert moves(tx) == [(1, "token", USDC, owner_from, owner_to, 3_800_000, "1")]
    assert {(x.asset_id, x.decimals) for x in batch.assets} == {(NATIVE, 9), (USDC, 6)}
    view = view_of(name)
    assert lamport_deltas(view) == {owner_from: -48_370}
    assert token_deltas(view) == {
        ("2e3Eb9tkT8252WhFR26Xz6SKoiatJScuMW1BHgGqPvvc", USDC): -3_800_000,
        ("Efc6bp3wVC2iQpewxRmKdZM8vzt9DCFFhL7EiHYNGunv", USDC): 3_800_000,
    }
    assert batch.warnings == []


PAYER_4 = "EPvHL5ZBdqFqx7E3LJEjkApzbhHXaXjgsPs6X2PGqC4v"
PAYER_5 = "FGyh1FfooV7AtVrYjFGmjMxbELC8RMxNp4xY5WY4L4md"
WARP = "CcquFeCYNZM48kLPyG3HWxdwgigmyxPBi6iHwve9Myhj"
JAV = "JAvHW21tYXE9dtdG83DReqU2b4LUexFuCbtJT5tF8X6M"


def test_v0_bridge_deposit_jsonParsed_hSCrDMhM():
    name = "getTransaction_jsonParsed_v0_usdc_bridge_deposit_hSCrDMhM.json"
    batch = one_tx(name)
    tx = batch.transactions[0]
    assert (tx.fee, tx.fee_payer, tx.block_number) == (60_000, PAYER_4, 322677794)
    assert moves(tx) == [
        (3, "token", USDC, PAYER_4, WARP, 138_551_462, "2.0"),
        (
            6,
            "internal",
            NATIVE,
            PAYER_4,
            "6Aa9FgfMZ1Yn2vsNzfzDsjCUE1ZGwrkzpP5GLg11ME37",
            2_241_120,
            "2.3",
        ),
        (8, "internal", NATIVE, PAYER_4, JAV, 3_107_338, "2.5"),
        (
            9,
            "internal",
            NATIVE,
            PAYER_4,
            "91kzpmP5hotEwM8F4YnZkDJbjMQwmW73hRttFGJm33Gj",
            1_872_240,
            "2.6",
        ),
        (10, "token", USDC, PAYER_4, "6KFjWcLbGE6cRafEfzRAQJNpncTCYGoty8rPZnqAQ4uu", 696_238, "3"),
    ]
    assert batch.skipped == {"sol_zero_amount_movement": 1}  # the inner 0-lamport transfer
    sol_out = sum(t.amount for t in tx.transfers if t.asset == NATIVE)
    assert sol_out + tx.fee == 7_280_698 == -lamport_deltas(view_of(name))[PAYER_4]
    assert sum(t.amount for t in tx.transfers if t.asset == USDC) == 139_247_783 - 83
    assert batch.warnings == []


def test_json_bridge_deposit_4nRGgV9t_inner_transfer_via_indexes():
    name = "getTransaction_json_usdc_bridge_deposit_4nRGgV9t.json"
    batch = one_tx(name)
    tx = batch.transactions[0]
    assert (tx.fee, tx.fee_payer) == (3_564_950, PAYER_5)
    assert moves(tx) == [
        (3, "token", USDC, PAYER_5, WARP, 2_206_478_600, "2.0"),
        (
            6,
            "internal",
            NATIVE,
            PAYER_5,
            "6eG8PheL41qLFFUtPjSYMtsp4aoAQsMgcsYwkGCB8kwT",
            2_241_120,
            "2.3",
        ),
        (8, "internal", NATIVE, PAYER_5, JAV, 2_158_134, "2.5"),
        (
            9,
            "internal",
            NATIVE,
            PAYER_5,
            "9yMwrDqHsbmmvYPS9h4MLPbe2biEykcL51W7qJSDL5hF",
            1_872_240,
            "2.6",
        ),
    ]
    view = view_of(name)
    assert -lamport_deltas(view)[PAYER_5] == 9_836_444
    assert token_deltas(view) == {
        ("FDDbaNtod9pt7pmR8qtmRZJtEj9NViDA7J6cazqUjXQj", USDC): 94 - 2_206_478_694,
        (WARP, USDC): 2_206_478_600,
    }
    assert check_balances(view, decode_transfers(view)).explained


def test_json_and_jsonParsed_of_the_same_deposit_agree():
    """The same Hyperlane deposit instruction, once in json and once in jsonParsed encoding,
    yields the same transfer positions, kinds and assets and the same payer-side pattern."""
    a = one_tx("getTransaction_jsonParsed_v0_usdc_bridge_deposit_hSCrDMhM.json").transactions[0]
    b = one_tx("getTransaction_json_usdc_bridge_deposit_4nRGgV9t.json").transactions[0]

    def shape(tx, payer):
        return [
            (t.index, t.kind, t.asset, t.trace_address, t.from_address == payer)
            for t in tx.transfers
            if t.trace_address.startswith("2.")
        ]

    assert shape(a, PAYER_4) == shape(b, PAYER_5)
    assert all(t.to_address == WARP for t in (a.transfers[0], b.transfers[0]))


JUP_WALLET = "8dbEDtUgZZ3EFFGfeAg65cCiBCrj4ccxGeijQFiVwxjt"
JUP_AUTH = "2MFoS3MPtvyQ4Wh4M9pdfPjz6UhVoNbFbGJAskCPCj3h"


def test_v0_lookup_table_jupiter_swap_2ML2h2Yw():
    name = "getTransaction_json_v0_alt_jupiter_swap_2ML2h2Yw.json"
    batch = one_tx(name)
    tx = batch.transactions[0]
    view = view_of(name)
    assert len(view.account_keys) == 42 and view.version == "0"
    raw = unwrap(load(name))
    loaded = raw["meta"]["loadedAddresses"]
    static = raw["transaction"]["message"]["accountKeys"]
    assert view.account_keys == static + loaded["writable"] + loaded["readonly"]
    inner_programs = {ix.program_id for ix in view.instructions if ix.outer == 2 and ix.is_inner}
    dexes = {
        "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8",
        "PhoeNiXZ8ByJGLkxNfZRnkUfjvmuYqLR89jjFHGqdXY",
        "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",
    }
    assert dexes <= inner_programs
    assert sum(1 for ix in view.instructions if ix.is_inner) == 19
    # the DEX programs are not static keys: they resolve only through loadedAddresses
    assert all(view.account_keys.index(p) >= len(static) == 16 for p in dexes)
    assert (
        sum(
            1
            for ix in unwrap(load(name))["meta"]["innerInstructions"][0]["instructions"]
            if ix["programIdIndex"] >= 16
        )
        > 19 // 2
    )

    assert (tx.fee, tx.fee_payer) == (5_014, JUP_WALLET)
    sent = [t for t in tx.transfers if t.from_address == JUP_WALLET]
    got = [t for t in tx.transfers if t.to_address == JUP_WALLET]
    assert [(t.asset, t.amount) for t in sent] == [
        ("9LzCMqDgTKYz9Drzqnpgee3SGa89up3a247ypMj2xrqM", 35_612_273_038)
    ]
    assert [(t.asset, t.amount) for t in got] == [
        ("iotEVVZLEywoTn1QdwNPddxPWszn3zFhEot3MfL9fns", 125_330_271_683)
    ]
    usdc_net = sum(
        (t.amount if t.to_address == JUP_AUTH else -t.amount)
        for t in tx.transfers
        if t.asset == USDC and JUP_AUTH in (t.from_address, t.to_address)
    )
    assert usdc_net == 14_516
    pool_owners = {t.to_address for t in tx.transfers} | {t.from_address for t in tx.transfers}
    assert {
        "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1",
        "FpCMFDFGYotvufJ7HrFHsWEiiQCGbkLCtwHiDnh7o28Q",
        "3HSYXeGc3LjEPCuzoNDjQN37F1ebsSiR4CqXVqQCdekZ",
        "8g4Z9d6PqGkgH31tMW6FwxGhwYJrXpxZHQrkikpLJKrG",
        "Cx6WqD4ViGZArdA3nPcneNBJxECftm36CZbtdb7jw9gP",
    } <= pool_owners
    # WSOL vault lamports move with their WSOL amounts, so everything is explained
    report = check_balances(view, decode_transfers(view))
    assert report.explained, report.warnings()
    wsol_lamports = sorted(d for a, d in lamport_deltas(view).items() if a != JUP_WALLET)
    assert wsol_lamports == [-2_400_000_000, -266_763_069, 2_666_763_069]
    assert batch.warnings == []


def test_json_and_base64_encodings_of_the_same_v0_tx_agree():
    """Re-encode the json v0 transaction as its wire bytes (same message and signatures) and
    parse it as a base64 result: the canonical transaction must be identical."""
    obj = load("getTransaction_json_v0_alt_jupiter_swap_2ML2h2Yw.json")
    result = unwrap(obj)
    m = result["transaction"]["message"]
    h = m["header"]
    msg = MessageV0(
        MessageHeader(
            h["numRequiredSignatures"],
            h["numReadonlySignedAccounts"],
            h["numReadonlyUnsignedAccounts"],
        ),
        [Pubkey.from_string(k) for k in m["accountKeys"]],
        Hash.from_string(m["recentBlockhash"]),
        [
            CompiledInstruction(ix["programIdIndex"], b58decode(ix["data"]), bytes(ix["accounts"]))
            for ix in m["instructions"]
        ],
        [
            MessageAddressTableLookup(
                Pubkey.from_string(lu["accountKey"]),
                bytes(lu["writableIndexes"]),
                bytes(lu["readonlyIndexes"]),
            )
            for lu in m["addressTableLookups"]
        ],
    )
    sigs = [Signature.from_string(s) for s in result["transaction"]["signatures"]]
    wire = VersionedTransaction.populate(msg, sigs)
    b64 = dict(result, transaction=[base64.b64encode(bytes(wire)).decode(), "base64"])
    a = parse_transaction(result).transactions[0]
    b = parse_transaction(b64).transactions[0]
    assert a == b
    assert len(a.transfers) == 10


def test_base64_v0_lookup_table_wrap_swap_494hTE5g():
    name = "getTransaction_base64_v0_alt_jupiter_swap_494hTE5g.json"
    batch = one_tx(name)
    tx = batch.transactions[0]
    view = view_of(name)
    payer = "DTxiJSXQN8giDMevcTQ7VGUYwLeDK98vDEa8KsuvxBqJ"
    assert tx.hash == (
        "494hTE5gUFKQ3tLkn8nwCNv8zyj7kSshU4FcEhta3916ShJNkvn7mkD8PD2pCtbMhzBfxkokpaNJLKs8g8L2PLMu"
    )
    assert (view.encoding, view.version, len(view.account_keys)) == ("base64", "0", 22)
    assert view.account_keys[1] == "69S97K72JsQ3mLvWZPDD7p6RutEJcFaba3roQYVK8Ftm"
    assert view.account_keys[11] == "bHHnvxhkzBebvqxpnzVaXSdQ1GdFeZFg8yi9YKgL7zE"  # loaded
    assert view.account_keys[-1] == "HpNfyc2Saw7RKkQd8nEL4khUcuPhQ7WwY1B2qjx8jxFq"
    inner = {}
    for ix in view.instructions:
        if ix.is_inner:
            inner[ix.outer] = inner.get(ix.outer, 0) + 1
    assert inner == {2: 4, 5: 6}
    assert (tx.fee, tx.fee_payer) == (7_072, payer)
    assert lamport_deltas(view)[payer] == -7_588
    pool = "DJNtGuBGEQiUCWE8F981M2C3ZghZt2XLD8f2sQdZ6rsZ"
    tokens = [
        (t.asset, t.from_address, t.to_address, t.amount) for t in tx.transfers if t.kind == "token"
    ]
    assert tokens == [(WSOL, payer, pool, 516), (USDC, pool, payer, 100)]
    # the temporary WSOL account is funded (rent + 516), then closed: its rent comes back
    sol = [(t.from_address, t.to_address, t.amount) for t in tx.transfers if t.asset == NATIVE]
    tmp = view.account_keys[1]
    assert sol == [(payer, tmp, 2_039_280), (payer, tmp, 516), (tmp, payer, 2_039_280)]
    assert any("+516 (wrapped SOL" in w for w in batch.warnings)
    report = check_balances(view, decode_transfers(view))
    assert report.unexplained_lamports == {} and report.unexplained_mints == {WSOL: 516}


def test_failed_swap_has_only_the_fee_376DxeSP():
    name = "getTransaction_jsonParsed_failed_swap_376DxeSP.json"
    batch = one_tx(name)
    tx = batch.transactions[0]
    payer = "G8PrkEwmVx3kt3rXBin5o1bdDC1cvz7oBnXbHksNg7R4"
    assert (tx.success, tx.fee, tx.fee_payer, tx.transfers) == (False, 15_000, payer, [])
    assert tx.block_number == 83929593
    assert lamport_deltas(view_of(name)) == {payer: -15_000}
    assert batch.warnings == []


# --- getBlock files --------------------------------------------------------------------------


def test_jsonParsed_block_with_failed_tx_241043141():
    batch = parse_block(load("getBlock_jsonParsed_slot241043141_slice.json"), slot=241043141)
    (block,) = batch.blocks
    assert (block.number, block.hash, block.timestamp, block.tx_count) == (
        241043141,
        "7UVhKXDoFXfQWHRRMNaXiEXiQsabDvU7oz4TRLHFuzd8",
        1704919455,
        1,
    )
    assert block.parent_hash == "8KrXYfWrGMBJg6owJ5U5X1c6rxh3iVxbybvSK5hbTZtA"
    (tx,) = batch.transactions
    assert tx.hash.startswith("7ynjNWxA4yAQGXD5U9gh")
    assert (tx.success, tx.fee, tx.transfers, tx.block_number, tx.tx_index) == (
        False,
        5000,
        [],
        241043141,
        0,
    )
    assert tx.fee_payer == "5yKF9m4HwZPA1cibk7JGEVtAGBL2Jx8PxcuB5EbHXRKq"
    assert batch.warnings == []


@pytest.fixture(scope="module")
def base64_block():
    obj = load("getBlock_base64_blockheight339954329_slice.json")
    return parse_block(obj, slot=361774429, source="b64"), unwrap(obj)


def test_block_without_slot_keeps_transactions_but_makes_no_block():
    batch = parse_block(load("getBlock_base64_blockheight339954329_slice.json"))
    assert batch.blocks == [] and len(batch.transactions) == 16
    assert all(t.block_number is None for t in batch.transactions)
    assert all(
        t.block_hash == "8qSPsbs79i4UvK7dqxHYSPBX1u1BU4pTEewnsrQnogQw" for t in batch.transactions
    )
    assert any("do not carry their slot" in w for w in batch.warnings)


def test_base64_block_header(base64_block):
    batch, _ = base64_block
    (block,) = batch.blocks
    assert block.hash == "8qSPsbs79i4UvK7dqxHYSPBX1u1BU4pTEewnsrQnogQw"
    assert (block.timestamp, block.tx_count) == (1755872986, 16)
    assert block.miner == "ChorusmmK7i1AxXeiTtQgQZhQNiXYU84ULeaYF1EH15n"
    assert [t.tx_index for t in batch.transactions] == list(range(16))


BLOCK_ENTRIES = {
    # position: (signature prefix, fee, fee payer, success)
    0: ("2SNQK1kv", 6_109, "FVnv5qH7dsrBzEDwJ8dN2m9PFtKTBAQFtqWF3M9LpwMg", True),
    1: ("4A21Y3yk", 5_150, "7dGrdJRYtsNR8UYxZ3TnifXGjGc9eRYLq9sELwYpuuUu", False),
    2: ("4erVw6Na", 5_000, "BNFeevU8uB8xtMSVXMDddzLQvPdKoV82S8dSWVv1KQre", True),
    3: ("36uSH32x", 5_650, None, True),
    4: ("5ytRMGie", 7_590, None, False),
    5: ("47ZhPRXs", 5_000, "HkQ3yiLSmPvdWqrJjz25uVhfDYRh8xRV3eTzQPAvDJfr", True),
    6: ("5L5BE5W7", 2_005_000, "6mAHkEZ8iPcPQyXvEF73GeFbXVg6WDqrNe2u1bVsYUUP", True),
    7: ("3mFK6yq1", 5_000, "FWSHEWDt9ufmg3JtmWzhay5zncUiJHA7Xz9hBmdx2pCU", True),
    8: ("3sMhYN19", 5_000, "DiC3rRo1ReR4Xs4MB6cveyUTdT2TUKLMDKjzp37ZWLMj", True),
    9: ("3hf9SCA8", 5_700, "B2DrFL3Fz4xA2MbAjbrfWq7JR7Qp92GYJwPHTN1jGZBT", False),
    10: ("3pE1gKdR", 5_000, "Dsgx2cghMsBfckydkLyYMTbUM8q3hPqaS9UUTFkPZyAy", True),
    11: ("265wfrhd", 1_005_000, "9SgN4mSPUgXZ3478JRjGNcWmFg51H2oSHiW15hdsQThe", True),
    12: ("54qTQpVA", 8_005_000, "7wHL61XTMPX9se3f7F9JqoDtXaTMfikx8un8xqj57DjZ", True),
    13: ("279LW4Ag", 5_000, "8H1Lqr6t7kvx5BY1zLkkARj8pksoXvixwjKBdvVC1y6U", True),
    14: ("aLKjam64", 47_500, "454ExG7GWwARzKUG5HrGhBA75jpFCyegFiFtANQs51UH", True),
    15: ("YHBcm9jg", 15_001, "MfDuWeqSHEqTFVYZ7LoexgAK9dxk7cy4DFJWjWMGVWa", False),
}


@pytest.mark.parametrize("pos", sorted(BLOCK_ENTRIES))
def test_base64_block_entry_fee_and_status(base64_block, pos):
    batch, result = base64_block
    tx = batch.transactions[pos]
    sig, fee, payer, ok = BLOCK_ENTRIES[pos]
    assert tx.hash.startswith(sig)
    assert (tx.fee, tx.success) == (fee, ok)
    if payer is not None:
        assert tx.fee_payer == payer
    if not ok:
        assert tx.transfers == []
    view = read_transaction(result["transactions"][pos])
    if pos in (0, 1, 3, 4, 7, 9, 15):  # PROVENANCE: only the fee changes balances
        assert lamport_deltas(view) == {view.fee_payer: -fee}
        assert tx.transfers == []


def block_tx(base64_block, pos):
    batch, result = base64_block
    return batch.transactions[pos], read_transaction(result["transactions"][pos])


def test_block_entry_2_program_debit_is_reported(base64_block):
    _, view = block_tx(base64_block, 2)
    a, b = (
        "4UbvZRv9dUFym3AczdbNs88CEZBvhqxcsmWATPvXr1Ls",
        "Av9HDZnWjzpr4xuxz3AdNM1uyM8f27gBzg332hDiHMtG",
    )
    d = lamport_deltas(view)
    assert (d[a], d[b]) == (-20_870, 20_870)
    report = check_balances(view, decode_transfers(view))
    assert report.unexplained_lamports == {a: -20_870, b: 20_870}
    assert any(f"{a} -20870" in w and f"{b} +20870" in w for w in base64_block[0].warnings)


def test_block_entry_5_pump_amm_buy(base64_block):
    tx, view = block_tx(base64_block, 5)
    wallet = "HkQ3yiLSmPvdWqrJjz25uVhfDYRh8xRV3eTzQPAvDJfr"
    assert lamport_deltas(view)[wallet] == -103_940_023
    mint = "qqEpuiXTp43YaFEhQnaRRwCe58EtjiQEMiKW28xpump"
    got = [(t.from_address, t.amount) for t in tx.transfers if t.asset == mint]
    assert got == [("CXQwtgyRYDvmf8AuvmHbCXTWqCEA2HEkAqtyWQGKMAwe", 146_584_165_998)]
    assert all(t.to_address == wallet for t in tx.transfers if t.asset == mint)
    rent = [
        t for t in tx.transfers if t.to_address == "7XRFb8P1tCyX6tBTbsEzCRLHxY6ULZrx9rcedQg6CYzt"
    ]
    assert [(t.from_address, t.amount, t.kind) for t in rent] == [
        (wallet, 2_039_280, TransferKind.INTERNAL)
    ]
    report = check_balances(view, decode_transfers(view))
    assert report.unexplained_lamports == {}
    assert report.unexplained_mints == {WSOL: 101_785_743}


def test_block_entry_6_pump_fun_sell(base64_block):
    tx, view = block_tx(base64_block, 6)
    wallet = "6mAHkEZ8iPcPQyXvEF73GeFbXVg6WDqrNe2u1bVsYUUP"
    curve = "B9wQJbZrLufWzWtK3VJUJ7mrqNM3uqzYHzYpd8QGGmXx"
    mint = "8fFuHso3BTXoY1kNJBuVrz8fGhW24d7WNMxhMssWpump"
    toks = [(t.from_address, t.to_address, t.amount) for t in tx.transfers if t.asset == mint]
    assert toks == [(wallet, curve, 9_683_323_887_015)]
    d = lamport_deltas(view)
    assert (d[wallet], d[curve]) == (444_528_194, -457_763_645)
    # the curve program pays the seller by debiting its own account: not a System transfer
    report = check_balances(view, decode_transfers(view))
    assert report.unexplained_lamports[curve] == -457_763_645


def test_block_system_transfers_8_and_10(base64_block):
    t8, v8 = block_tx(base64_block, 8)
    assert moves(t8) == [
        (
            0,
            "native",
            NATIVE,
            "DiC3rRo1ReR4Xs4MB6cveyUTdT2TUKLMDKjzp37ZWLMj",
            "J2PfK9fz3LecdwH2ra2tdPHpm4mhRNAjAC3xSR3nxG4N",
            1_000,
            "0",
        ),
    ]
    assert lamport_deltas(v8)["DiC3rRo1ReR4Xs4MB6cveyUTdT2TUKLMDKjzp37ZWLMj"] == -6_000
    t10, v10 = block_tx(base64_block, 10)
    assert [(t.from_address, t.to_address, t.amount) for t in t10.transfers] == [
        (
            "Dsgx2cghMsBfckydkLyYMTbUM8q3hPqaS9UUTFkPZyAy",
            "DttWaMuVvTiduZRnguLF7jNxTgiMBZ1hyAumKUiL2KRL",
            1_000,
        )
    ]
    for v in (v8, v10):
        assert check_balances(v, decode_transfers(v)).explained


def test_block_entry_11_token_2022_sell(base64_block):
    tx, view = block_tx(base64_block, 11)
    mint = "C5JSpJfe3h73TW8cQnTY6iggJAgm7L2j4sjFFZbgf777"
    seller = "9SgN4mSPUgXZ3478JRjGNcWmFg51H2oSHiW15hdsQThe"
    toks = [(t.from_address, t.to_address, t.amount) for t in tx.transfers if t.asset == mint]
    assert toks == [(seller, "42mepa9xLCtuerAEnnDY43KLRN5dgkrkKvoCT6nDZsyj", 1_471_924_694_970_344)]
    assert lamport_deltas(view)[seller] == 246_354_454
    assert (
        token_deltas(view)[("B3GPPWAh2SJk74H6vnn1U83HfTPHtCK69jzponadrT21", WSOL)] == -250_868_135
    )
    programs = {tb.program_id for tb in view.post_token_balances if tb.mint == mint}
    assert programs == {"TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"}
    batch = base64_block[0]
    assert any(a.asset_id == mint and a.decimals == 9 for a in batch.assets)
    assert check_balances(view, decode_transfers(view)).unexplained_lamports == {}


def test_block_entry_12_token_2022_buy(base64_block):
    tx, view = block_tx(base64_block, 12)
    wallet = "7wHL61XTMPX9se3f7F9JqoDtXaTMfikx8un8xqj57DjZ"
    mint = "ARxf6vS5wRhfxuWagMDd67T5keaBcdtTCMVV74un6777"
    assert lamport_deltas(view)[wallet] == -10_020_005_000
    toks = [(t.from_address, t.to_address, t.amount) for t in tx.transfers if t.asset == mint]
    assert toks == [("KpXrCt3pjJYFind2kgk7nQ3dS6bqjC2Ze3zzE5MQ78v", wallet, 518_959_851_926_016)]
    sol = {(t.to_address, t.amount) for t in tx.transfers if t.asset == NATIVE}
    assert {
        ("7ks326H4LbMVaUC8nW5FpC5EoAf5eK5pf4Dsx4HDQLpq", 12_000_000),
        ("AVUCZyuT35YSuj4RH7fwiyPu82Djn2Hfg7y2ND2XcnZH", 100_000_000),
    } <= sol
    assert (
        token_deltas(view)[("HBw4rhjiJ1cXDNQz7395QJ51DskLknwHRAjxYzgBsYnK", WSOL)] == 9_900_000_000
    )


def test_block_entry_13_jupiter_multi_hop(base64_block):
    tx, view = block_tx(base64_block, 13)
    signer = "8H1Lqr6t7kvx5BY1zLkkARj8pksoXvixwjKBdvVC1y6U"
    usdc_net = sum(
        (t.amount if t.to_address == signer else -t.amount)
        for t in tx.transfers
        if t.asset == USDC and signer in (t.from_address, t.to_address)
    )
    assert usdc_net == 11_853
    assert token_deltas(view)[("7w8JVGjRxdxA6ro8UzKW2m5CdJSxQ1HAAkF65FkZwAef", USDC)] == 11_853
    assert lamport_deltas(view)[signer] == -1_016_134
    sol = [(t.from_address, t.to_address, t.amount) for t in tx.transfers if t.asset == NATIVE]
    assert sol == [(signer, "3SpKG18vd8nKqDdXka9hryfZ9aGMh1aoNxiMeLJ2xm5K", 1_011_134)]
    assets = {t.asset for t in tx.transfers}
    assert {USDC, USDT, "2u1tszSeqZ3qBWF3uNGPFc8TzMk2tdiwknnRMWGWjGWH"} <= assets
    assert check_balances(view, decode_transfers(view)).explained


def test_block_entry_14_fee_claim(base64_block):
    tx, view = block_tx(base64_block, 14)
    d = lamport_deltas(view)
    assert d["B3GPPWAh2SJk74H6vnn1U83HfTPHtCK69jzponadrT21"] == -67_368_065
    assert d["34h9xBFX2fTpVXW2XfeFLquJ5pp1mhfPTNqzfAHc8vpF"] == 67_368_065
    # unwrapping: WSOL out of the vault, account closed, SOL paid on to the claimer
    assert ("34h9xBFX2fTpVXW2XfeFLquJ5pp1mhfPTNqzfAHc8vpF", 67_368_065) in {
        (t.to_address, t.amount) for t in tx.transfers if t.asset == NATIVE
    }
    assert check_balances(view, decode_transfers(view)).unexplained_lamports == {}


def test_signatures_only_block_138802069():
    obj = load("getBlock_signatures_slot138802069.json")
    assert isinstance(obj, list) and len(obj) == 1
    batch = parse_block(obj[0], slot=138802069, source="sigs")
    (block,) = batch.blocks
    assert (block.number, block.hash, block.timestamp, block.tx_count) == (
        138802069,
        "Ahk6VF4e4HwvafzDPdTgkSZYgXF13CW8Y9Ac7EtVbLo6",
        1656057273,
        3039,
    )
    assert block.miner == "Awes4Tr6TX8JDzEhCZY2QVNimT6iD1zWHzf1vNyGvpLM"
    assert batch.transactions == []
    assert any("3039 signatures only" in w for w in batch.warnings)


def test_signature_pages_EAQ6MUJM():
    p1 = parse_signatures(load("getSignaturesForAddress_EAQ6MUJM_page1.json"))
    p2 = parse_signatures(load("getSignaturesForAddress_EAQ6MUJM_page2_before_2z34ySUT.json"))
    assert (p1[0].slot, p1[0].block_time, p1[-1].slot) == (363986238, 1756745261, 356917040)
    assert p1[-1].block_time == 1753954194
    assert p1[0].signature.startswith("2HGN3nGeiehoCugT2nYm")
    assert p1[-1].signature.startswith("2z34ySUTkZU1zsMYfDuY")
    assert (p2[0].slot, p2[-1].slot) == (355445524, 352140982)
    assert p2[0].signature.startswith("tuy9w4v2TNaE2naUE9h7")
    assert p2[-1].signature.startswith("3xdAfrJMSZA6Z1dafF8z")
    for page in (p1, p2):
        assert [e.slot for e in page] == sorted((e.slot for e in page), reverse=True)
    assert max(e.slot for e in p2) < min(e.slot for e in p1)
    both = p1 + p2
    assert len({e.signature for e in both}) == 20
    assert all(e.success and e.memo is None and e.confirmation_status == "finalized" for e in both)
    assert sum(e.slot == 357798988 for e in p1) == 3
    assert sum(e.slot == 354952736 for e in p2) == 4
