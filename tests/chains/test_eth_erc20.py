"""ERC-20 Transfer log decoding and token metadata, on real logs and on generated ones."""

import json

import pytest
from eth_abi import encode
from hypothesis import given
from hypothesis import strategies as st

from fundtrace.chains.eth import erc20, rpc
from fundtrace.chains.eth.records import LogRecord
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, TransferKind
from tests.paths import FIXTURES, needs_shared

RPC = FIXTURES / "eth" / "rpc"
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def _logs(name):
    ((kind, result),) = rpc.load_json_records(RPC / name)
    assert kind == rpc.LOGS
    return result


def _topic(addr_hex: str) -> str:
    return "0x" + "0" * 24 + addr_hex[2:]


def test_transfer_topic_is_keccak_of_signature():
    assert erc20.TRANSFER_TOPIC == TRANSFER


@given(
    amount=st.integers(min_value=0, max_value=2**256 - 1),
    frm=st.binary(min_size=20, max_size=20),
    to=st.binary(min_size=20, max_size=20),
    log_index=st.integers(min_value=0, max_value=10**6),
)
def test_uint256_amount_round_trips_through_log_encoding(amount, frm, to, log_index):
    log = {
        "address": "0x" + "ab" * 20,
        "topics": [TRANSFER, _topic("0x" + frm.hex()), _topic("0x" + to.hex())],
        "data": "0x" + encode(["uint256"], [amount]).hex(),
        "logIndex": hex(log_index),
        "transactionHash": "0x" + "11" * 32,
    }
    t = erc20.decode_transfer_log(log)
    assert t is not None
    assert t.amount == amount
    assert t.index == log_index
    assert t.kind is TransferKind.TOKEN
    zero = bytes(20)
    assert t.from_address == (None if frm == zero else "0x" + frm.hex())
    assert t.to_address == (None if to == zero else "0x" + to.hex())


def test_mint_and_burn_map_to_none():
    zero = "0x" + "0" * 40
    base = {"address": "0x" + "cd" * 20, "logIndex": "0x1", "data": "0x" + "00" * 31 + "05"}
    mint = erc20.decode_transfer_log(
        {**base, "topics": [TRANSFER, _topic(zero), _topic("0x" + "22" * 20)]}
    )
    burn = erc20.decode_transfer_log(
        {**base, "topics": [TRANSFER, _topic("0x" + "22" * 20), _topic(zero)]}
    )
    assert mint.from_address is None and mint.to_address == "0x" + "22" * 20
    assert burn.to_address is None and burn.amount == 5


def test_dirty_address_topic_is_not_erc20():
    log = LogRecord(
        tx_hash=None,
        log_index=0,
        address="0x" + "cd" * 20,
        topics=(TRANSFER, "0x" + "ff" * 32, _topic("0x" + "22" * 20)),
        data="0x" + "00" * 32,
    )
    assert erc20.decode_transfer_log(log) is None
    assert erc20.decode_log(log) == erc20.SKIP_NONSTANDARD


def test_non_hex_data_is_a_parse_error_naming_the_field():
    log = {
        "address": "0x" + "cd" * 20,
        "topics": [TRANSFER, _topic("0x" + "22" * 20), _topic("0x" + "33" * 20)],
        "data": "0xzz",
        "logIndex": "0x0",
    }
    with pytest.raises(ParseError) as exc:
        erc20.decode_transfer_log(log)
    assert exc.value.field == "data"


@needs_shared
def test_getlogs_16000000_erc20_and_erc721_counts():
    logs = _logs("eth_getLogs_transfer_16000000_16000003.json")
    assert len(logs) == 431
    decoded = [erc20.decode_transfer_log(x) for x in logs]
    ok = [t for t in decoded if t is not None]
    assert len(ok) == 325
    reasons = [erc20.decode_log(erc20.coerce_log(x)) for x in logs]
    assert sum(r == erc20.SKIP_ERC721 for r in reasons) == 106
    # each decoded transfer equals its log's own fields
    for raw, t in zip(logs, decoded, strict=True):
        if t is None:
            continue
        assert t.asset == raw["address"].lower()
        assert t.amount == int(raw["data"], 16)
        assert t.index == int(raw["logIndex"], 16)
        assert (t.from_address or "0x" + "0" * 40) == "0x" + raw["topics"][1][-40:]
        assert (t.to_address or "0x" + "0" * 40) == "0x" + raw["topics"][2][-40:]
    # the ERC-721 example PROVENANCE names: token 0x31a3601a..., id 3866, is skipped
    nft = [
        x
        for x in logs
        if x["transactionHash"].startswith("0xcda28daf") and int(x["logIndex"], 16) == 15
    ]
    assert len(nft) == 1 and nft[0]["address"].startswith("0x31a3601a")
    assert int(nft[0]["topics"][3], 16) == 3866
    assert erc20.decode_transfer_log(nft[0]) is None


@needs_shared
def test_getlogs_6000000_cryptokitties_are_nonstandard():
    logs = _logs("eth_getLogs_transfer_or_other_6000000_6000002.json")
    assert len(logs) == 70
    reasons = [erc20.decode_log(erc20.coerce_log(x)) for x in logs]
    assert sum(not isinstance(r, str) and r is not None for r in reasons) == 63
    kitties = [x for x, r in zip(logs, reasons, strict=True) if r == erc20.SKIP_NONSTANDARD]
    assert len(kitties) == 2
    assert all(x["address"].lower().startswith("0x06012c8c") for x in kitties)
    assert sum(r is None for r in reasons) == 5  # the other event, not a Transfer at all


def _call(name):
    return json.loads((RPC / name).read_text())["result"]


@needs_shared
def test_token_metadata_bytes32_symbol_and_empty_name():
    a = erc20.decode_token_metadata(
        "0x86fa049857e0209aa7d9e616f7eb3b3b78ecfdb0",
        name=_call("eth_call_name_0x86fa0498_latest.json"),
        symbol=_call("eth_call_symbol_0x86fa0498_latest.json"),
        decimals=_call("eth_call_decimals_0x86fa0498_latest.json"),
    )
    assert (a.symbol, a.name, a.decimals) == ("EOS", None, 18)
    assert int(_call("eth_call_totalSupply_0x86fa0498_latest.json"), 16) == 10**27


@needs_shared
def test_token_metadata_nul_padded_strings():
    a = erc20.decode_token_metadata(
        "0xF763BE8B3263C268E9789ABFB3934564A7B80054",
        name=_call("eth_call_name_0xf763be8b_latest.json"),
        symbol=_call("eth_call_symbol_0xf763be8b_latest.json"),
        decimals=_call("eth_call_decimals_0xf763be8b_latest.json"),
    )
    assert a.asset_id == "0xf763be8b3263c268e9789abfb3934564a7b80054"
    assert (a.symbol, a.name, a.decimals) == ("ETH", "ETH", 18)
    assert a.asset_id != NATIVE
    assert int(_call("eth_call_totalSupply_0xf763be8b_latest.json"), 16) == 6547475210000000000
