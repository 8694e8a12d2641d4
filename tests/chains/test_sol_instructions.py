"""Instruction layouts: raw bytes (json/base64) and jsonParsed objects decode to the same thing."""

from __future__ import annotations

import struct

import base58
import pytest
import solders.system_program as sp
from hypothesis import given
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from fundtrace.chains.sol.instructions import (
    Instruction,
    LamportMove,
    TokenAccountClose,
    TokenAccountInit,
    TokenMove,
    b58decode,
    b58encode,
    decode_instruction,
    decode_parsed,
    decode_raw,
)
from fundtrace.chains.sol.programs import SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM
from fundtrace.core.errors import ParseError

K = [str(Pubkey.new_unique()) for _ in range(6)]
P = [Pubkey.from_string(k) for k in K]


def raw(ix) -> LamportMove | None:
    return decode_raw(str(ix.program_id), [str(m.pubkey) for m in ix.accounts], bytes(ix.data))


def test_system_transfer_raw_and_parsed_agree():
    ix = sp.transfer(sp.TransferParams(from_pubkey=P[0], to_pubkey=P[1], lamports=2**63 + 5))
    expect = LamportMove(K[0], K[1], 2**63 + 5, "transfer")
    assert raw(ix) == expect
    info = {"source": K[0], "destination": K[1], "lamports": 2**63 + 5}
    assert decode_parsed(SYSTEM_PROGRAM, {"type": "transfer", "info": info}) == expect


def test_create_account_and_with_seed():
    ix = sp.create_account(
        sp.CreateAccountParams(
            from_pubkey=P[0], to_pubkey=P[1], lamports=2_039_280, space=165, owner=P[2]
        )
    )
    assert raw(ix) == LamportMove(K[0], K[1], 2_039_280, "createAccount")
    parsed = {
        "type": "createAccount",
        "info": {
            "source": K[0],
            "newAccount": K[1],
            "lamports": 2_039_280,
            "space": 165,
            "owner": K[2],
        },
    }
    assert decode_parsed(SYSTEM_PROGRAM, parsed) == raw(ix)
    ix = sp.create_account_with_seed(
        sp.CreateAccountWithSeedParams(
            from_pubkey=P[0],
            to_pubkey=P[3],
            base=P[4],
            seed="a seed of some length",
            lamports=77,
            space=0,
            owner=P[2],
        )
    )
    assert raw(ix) == LamportMove(K[0], K[3], 77, "createAccountWithSeed")


def test_transfer_with_seed_withdraw_nonce_and_prefund():
    ix = sp.transfer_with_seed(
        sp.TransferWithSeedParams(
            from_pubkey=P[0],
            from_base=P[1],
            from_seed="xyz",
            from_owner=P[2],
            to_pubkey=P[3],
            lamports=9,
        )
    )
    assert raw(ix) == LamportMove(K[0], K[3], 9, "transferWithSeed")
    ix = sp.withdraw_nonce_account(
        sp.WithdrawNonceAccountParams(
            nonce_pubkey=P[0], authorized_pubkey=P[1], to_pubkey=P[2], lamports=10
        )
    )
    assert raw(ix) == LamportMove(K[0], K[2], 10, "withdrawNonceAccount")
    parsed = {
        "type": "withdrawFromNonce",
        "info": {"nonceAccount": K[0], "destination": K[2], "nonceAuthority": K[1], "lamports": 10},
    }
    assert decode_parsed(SYSTEM_PROGRAM, parsed) == raw(ix)
    ix = sp.create_account_allow_prefund(
        sp.CreateAccountAllowPrefundParams(
            new_account=P[0], payer=P[1], lamports=7, space=1, owner=P[2]
        )
    )
    assert raw(ix) == LamportMove(K[1], K[0], 7, "createAccountAllowPrefund")
    # instructions that move no lamports
    assert raw(sp.assign(sp.AssignParams(pubkey=P[0], owner=P[1]))) is None
    assert decode_parsed(SYSTEM_PROGRAM, {"type": "advanceNonce", "info": {}}) is None


@pytest.mark.parametrize("program", [TOKEN_PROGRAM, TOKEN_2022_PROGRAM])
def test_token_layouts_raw_and_parsed_agree(program):
    src, mint, dst, auth = K[0], K[1], K[2], K[3]
    cases = [
        (
            bytes([3]) + struct.pack("<Q", 500),
            [src, dst, auth],
            {
                "type": "transfer",
                "info": {"source": src, "destination": dst, "authority": auth, "amount": "500"},
            },
            TokenMove(program, "transfer", src, dst, 500, authority=auth),
        ),
        (
            bytes([12]) + struct.pack("<QB", 3_800_000, 6),
            [src, mint, dst, auth],
            {
                "type": "transferChecked",
                "info": {
                    "source": src,
                    "mint": mint,
                    "destination": dst,
                    "authority": auth,
                    "tokenAmount": {"amount": "3800000", "decimals": 6},
                },
            },
            TokenMove(program, "transferChecked", src, dst, 3_800_000, mint, 6, auth),
        ),
        (
            bytes([7]) + struct.pack("<Q", 2**64 - 1),
            [mint, dst, auth],
            {
                "type": "mintTo",
                "info": {
                    "mint": mint,
                    "account": dst,
                    "mintAuthority": auth,
                    "amount": str(2**64 - 1),
                },
            },
            TokenMove(program, "mintTo", None, dst, 2**64 - 1, mint, None, auth),
        ),
        (
            bytes([14]) + struct.pack("<QB", 5, 2),
            [mint, dst, auth],
            {
                "type": "mintToChecked",
                "info": {
                    "mint": mint,
                    "account": dst,
                    "mintAuthority": auth,
                    "tokenAmount": {"amount": "5", "decimals": 2},
                },
            },
            TokenMove(program, "mintToChecked", None, dst, 5, mint, 2, auth),
        ),
        (
            bytes([8]) + struct.pack("<Q", 11),
            [src, mint, auth],
            {
                "type": "burn",
                "info": {"account": src, "mint": mint, "authority": auth, "amount": "11"},
            },
            TokenMove(program, "burn", src, None, 11, mint, None, auth),
        ),
        (
            bytes([15]) + struct.pack("<QB", 12, 9),
            [src, mint, auth],
            {
                "type": "burnChecked",
                "info": {
                    "account": src,
                    "mint": mint,
                    "authority": auth,
                    "tokenAmount": {"amount": "12", "decimals": 9},
                },
            },
            TokenMove(program, "burnChecked", src, None, 12, mint, 9, auth),
        ),
        (
            bytes([1]),
            [src, mint, auth, K[5]],
            {
                "type": "initializeAccount",
                "info": {"account": src, "mint": mint, "owner": auth, "rentSysvar": K[5]},
            },
            TokenAccountInit(src, mint, auth, program),
        ),
        (
            bytes([18]) + bytes(P[3]),
            [src, mint],
            {"type": "initializeAccount3", "info": {"account": src, "mint": mint, "owner": auth}},
            TokenAccountInit(src, mint, auth, program),
        ),
        (
            bytes([16]) + bytes(P[3]),
            [src, mint, K[5]],
            {"type": "initializeAccount2", "info": {"account": src, "mint": mint, "owner": auth}},
            TokenAccountInit(src, mint, auth, program),
        ),
        (
            bytes([9]),
            [src, dst, auth],
            {"type": "closeAccount", "info": {"account": src, "destination": dst, "owner": auth}},
            TokenAccountClose(src, dst, program),
        ),
    ]
    for data, accounts, parsed, expect in cases:
        assert decode_raw(program, accounts, data) == expect, parsed["type"]
        assert decode_parsed(program, parsed) == expect, parsed["type"]
    assert decode_raw(program, [src], bytes([17])) is None  # SyncNative moves nothing itself


def test_token_2022_transfer_checked_with_fee():
    src, mint, dst, auth = K[0], K[1], K[2], K[3]
    data = bytes([26, 1]) + struct.pack("<QBQ", 1_000, 6, 10)
    expect = TokenMove(
        TOKEN_2022_PROGRAM, "transferCheckedWithFee", src, dst, 1_000, mint, 6, auth, 10
    )
    assert decode_raw(TOKEN_2022_PROGRAM, [src, mint, dst, auth], data) == expect
    parsed = {
        "type": "transferCheckedWithFee",
        "info": {
            "source": src,
            "mint": mint,
            "destination": dst,
            "authority": auth,
            "tokenAmount": {"amount": "1000", "decimals": 6},
            "feeAmount": {"amount": "10", "decimals": 6},
        },
    }
    assert decode_parsed(TOKEN_2022_PROGRAM, parsed) == expect
    assert decode_raw(TOKEN_PROGRAM, [src, mint, dst, auth], data) is None  # not in legacy Token


def test_other_programs_are_not_decoded():
    assert decode_raw(K[0], [K[1]], bytes([2, 0, 0, 0]) + struct.pack("<Q", 5)) is None
    assert (
        decode_parsed(
            "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr", {"type": "transfer", "info": {}}
        )
        is None
    )


@pytest.mark.parametrize(
    ("program", "accounts", "data", "match"),
    [
        (SYSTEM_PROGRAM, [K[0], K[1]], bytes([2, 0, 0, 0, 1, 2]), "too short"),
        (SYSTEM_PROGRAM, [K[0]], bytes([2, 0, 0, 0]) + bytes(8), "account #1"),
        (TOKEN_PROGRAM, [K[0], K[1], K[2]], bytes([12]) + bytes(8), "too short"),
        (TOKEN_PROGRAM, [K[0], K[1]], bytes([3]) + bytes(8), "account #2"),
        (TOKEN_PROGRAM, [K[0], K[1]], bytes([18]) + bytes(31), "public key"),
    ],
)
def test_malformed_instruction_names_its_field(program, accounts, data, match):
    ix = Instruction(
        4, 1, 2, program, tuple(accounts), data, None, "meta.innerInstructions[0].instructions[2]"
    )
    with pytest.raises(ParseError, match=match) as exc:
        decode_instruction(ix, source="f.json", record="sigX")
    e = exc.value
    assert (e.source, e.record, e.field) == (
        "f.json",
        "sigX",
        "meta.innerInstructions[0].instructions[2]",
    )


def test_parsed_amount_must_be_an_integer():
    bad = {"type": "transfer", "info": {"source": K[0], "destination": K[1], "lamports": "1.5"}}
    ix = Instruction(
        0, 0, None, SYSTEM_PROGRAM, (), None, bad, "transaction.message.instructions[0]"
    )
    with pytest.raises(ParseError, match="not a non-negative integer"):
        decode_instruction(ix)
    neg = {"type": "transfer", "info": {"source": K[0], "destination": K[1], "lamports": -1}}
    with pytest.raises(ParseError, match="negative"):
        decode_instruction(Instruction(0, 0, None, SYSTEM_PROGRAM, (), None, neg, "x"))


@given(st.binary(max_size=80))
def test_base58_matches_the_reference_library(data):
    text = b58encode(data)
    assert text == base58.b58encode(data).decode()
    assert b58decode(text) == data


def test_base58_rejects_foreign_characters():
    with pytest.raises(ValueError, match="invalid base58"):
        b58decode("abc0")
