import base58
import pytest
from eth_utils import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from fundtrace.core.addresses import (
    InvalidAddress,
    bech32_decode,
    bech32_encode,
    decode_segwit,
    encode_segwit,
    is_valid_address,
    normalize_address,
    parse_chain,
)
from fundtrace.core.model import Chain


def test_parse_chain_aliases():
    for name, chain in [
        ("btc", Chain.BTC),
        ("XBT", Chain.BTC),
        ("Bitcoin", Chain.BTC),
        ("eth", Chain.ETH),
        ("ethereum", Chain.ETH),
        ("SOL", Chain.SOL),
        (" solana ", Chain.SOL),
    ]:
        assert parse_chain(name) is chain
    with pytest.raises(ValueError, match="unknown chain"):
        parse_chain("trx")


# PROVENANCE.md 6.2: every distinct BTC string that fails, with the reason class.
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", "TRON address"),
        ("1Mn386ue8o3mW9866octLNP8HFqcYsphJCV", "checksum"),
        ("1MFgcyJ7ZNSknbTBRaih6zWDE6V1A64tRYs", "checksum"),
        ("14bwh6gmvol5ntwbvxqjkjdtzv4y5ebtvm", "base58 alphabet"),
        ("3CD19JE8F4C48L43E3A5TH8XD45JLRXUL", "checksum"),
        ("1GL9JtXPRTPetxgiJ8UcgrEECp12spD4t", "checksum"),
        ("1MJzarWdCR8dXGt6vpK62f7MxcWYcVynM", "checksum"),
        ("1AzdzwWHaJXytimxenzi45JVtY4FsXwLZ", "checksum"),
        ("1MK4uue11JnVxjUQhq19KNSpAuyaFqBwM", "checksum"),
        ("3daa7ab7451f4215c9fe53c6c739e8e534", "checksum"),
    ],
)
def test_real_invalid_bitcoin_strings(text, reason):
    with pytest.raises(InvalidAddress, match=reason):
        normalize_address("btc", text)
    assert not is_valid_address("xbt", text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0xA0DF9CA52e8aB5DDE22C55D9B3C2CDF814B9B773", "EIP-55"),
        ("0xf299f6B031Cc4dd1BfcB86A5e5590f99336a29c6", "EIP-55"),
        ("0x9CdfC5b0ACA4527a0916412E9dbD6AD85556A49", "40 hex digits, has 39"),
        ("0X098b716b8aaf21512996dc57eb0615e2383e2f96", "lower-case '0x'"),
        ("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq", "TRON"),
    ],
)
def test_real_invalid_ethereum_strings(text, reason):
    with pytest.raises(InvalidAddress, match=reason):
        normalize_address("eth", text)


def test_bad_checksum_addresses_are_wellformed_lowercased():
    # PROVENANCE 6.2: "Lower-cased, they are well-formed."
    assert normalize_address("eth", "0xA0DF9CA52e8aB5DDE22C55D9B3C2CDF814B9B773".lower()) == (
        "0xa0df9ca52e8ab5dde22c55d9b3c2cdf814b9b773"
    )


def test_trailing_space_and_case_variants_compare_equal():
    a = normalize_address("eth", "0x4736dCf1b7A3d580672CcE6E7c65cd5cc9cFBa9D ")
    b = normalize_address("eth", "0x4736dcf1b7a3d580672cce6e7c65cd5cc9cfba9d")
    assert a == b == "0x4736dcf1b7a3d580672cce6e7c65cd5cc9cfba9d"
    assert normalize_address("eth", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96") == (
        "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    )


def test_bitcoin_forms():
    assert normalize_address("btc", " 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\n") == (
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    )
    # BIP-173 vector: upper case is valid, canonical form is lower case.
    assert normalize_address("btc", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4") == (
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    )
    # Real fixture outputs: a v1 20-byte program and a v1 2-byte program are valid bech32m.
    assert is_valid_address("btc", "bc1p6uwxc048hflxaerh5zlastpqc7ye0zpvq7gq2a")
    assert is_valid_address("btc", "bc1pfeessrawgf")
    # Mixed case bech32 is invalid; a v0 address written with the bech32m checksum is invalid.
    with pytest.raises(InvalidAddress, match="mix"):
        normalize_address("btc", "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
    v0_as_m = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh"  # BIP-350 invalid vector
    with pytest.raises(InvalidAddress, match="v0 must use bech32, not bech32m"):
        normalize_address("btc", v0_as_m)
    v1_as_bech32 = bech32_encode("bc", [1, *[0] * 52], bech32m=False)  # 32-byte program
    with pytest.raises(InvalidAddress, match="v1 must use bech32m"):
        normalize_address("btc", v1_as_bech32)


def test_bitcoin_networks():
    testnet = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"
    assert not is_valid_address("btc", testnet)
    assert normalize_address("btc", testnet, network="testnet") == testnet
    regtest_bech = encode_segwit("bcrt", 0, bytes(20))
    assert normalize_address("btc", regtest_bech, network="regtest") == regtest_bech
    assert not is_valid_address("btc", regtest_bech)


def test_solana():
    assert normalize_address("sol", "42RLPACwZPx3vYYmxSueqsogfynBDqXK298EDsNoyoHi") == (
        "42RLPACwZPx3vYYmxSueqsogfynBDqXK298EDsNoyoHi"
    )
    with pytest.raises(InvalidAddress, match="31 bytes"):
        normalize_address("sol", base58.b58encode(b"\x01" * 31).decode())
    with pytest.raises(InvalidAddress, match="Ethereum"):
        normalize_address("sol", "0x098b716b8aaf21512996dc57eb0615e2383e2f96")


@given(st.integers(0, 16), st.binary(min_size=2, max_size=40))
def test_segwit_round_trip(version, program):
    if version == 0 and len(program) not in (20, 32):
        with pytest.raises(ValueError):
            encode_segwit("bc", version, program)
        return
    text = encode_segwit("bc", version, program)
    assert decode_segwit("bc", text) == (version, program)
    assert bech32_decode(text)[2] is (version != 0)
    assert normalize_address("btc", text.upper()) == text
    # Flip one data character: the checksum must catch it (bech32 detects any 1-char error).
    pos = len(text) - 3
    alt = "q" if text[pos] != "q" else "p"
    assert not is_valid_address("btc", text[:pos] + alt + text[pos + 1 :])


@given(st.sampled_from([0x00, 0x05]), st.binary(min_size=20, max_size=20))
def test_base58check_round_trip(version, h160):
    text = base58.b58encode_check(bytes([version]) + h160).decode()
    assert normalize_address("btc", text) == text
    assert text[0] in ("1", "3")
    tron = base58.b58encode_check(b"\x41" + h160).decode()
    with pytest.raises(InvalidAddress, match="TRON"):
        normalize_address("btc", tron)


@given(st.binary(min_size=20, max_size=20))
def test_eip55_round_trip(raw):
    lower = "0x" + raw.hex()
    checksummed = to_checksum_address(lower)
    assert normalize_address("eth", checksummed) == lower
    assert normalize_address("eth", lower.upper().replace("0X", "0x")) == lower
    # Swapping the case of one letter breaks the checksum (when there is a letter to swap).
    body = checksummed[2:]
    letters = [i for i, c in enumerate(body) if c.isalpha()]
    if len(letters) >= 2:
        i = letters[0]
        bad = body[:i] + body[i].swapcase() + body[i + 1 :]
        if bad != bad.lower() and bad != bad.upper():
            assert not is_valid_address("eth", "0x" + bad)
