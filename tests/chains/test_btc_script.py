"""Script classification and address encoding: BIP vectors, real fixture scripts, round trips."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundtrace.chains.btc import script as script_mod
from fundtrace.chains.btc.network import (
    LITECOIN_REGTEST,
    MAINNET,
    REGTEST,
    TESTNET,
    network_by_name,
)
from fundtrace.chains.btc.script import (
    AddressError,
    address_from_script,
    base58check_decode,
    base58check_encode,
    canonical_script_type,
    classify_script,
    hash160,
    script_from_address,
    script_info,
    segwit_decode,
    segwit_encode,
)
from tests.chains.test_btc_support import BLOCK_279671, ESPLORA, load_json

GENESIS_SCRIPT = (
    "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f3"
    "5504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac"
)


def test_genesis_p2pk_gets_the_p2pkh_address_of_its_key() -> None:
    assert script_info(GENESIS_SCRIPT) == ("pubkey", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")


def test_hash160_of_empty_input() -> None:
    # RIPEMD160(SHA256("")) - a widely published constant
    assert hash160(b"").hex() == "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb"
    assert hashlib.sha256(b"").hexdigest().startswith("e3b0c442")


@pytest.mark.parametrize(
    ("address", "hrp", "script_hex"),
    [  # BIP-173 / BIP-350 valid segwit address vectors
        (
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc",
            "0014751e76e8199196d454941c45d1b3a323f1433bd6",
        ),
        (
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
            "tb",
            "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
        ),
        (
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
            "bc",
            "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
        ),
        ("BC1SW50QGDZ25J", "bc", "6002751e"),
    ],
)
def test_bip350_vectors(address: str, hrp: str, script_hex: str) -> None:
    network = MAINNET if hrp == "bc" else TESTNET
    assert script_from_address(address, network).hex() == script_hex
    assert address_from_script(script_hex, network) == address.lower()


@pytest.mark.parametrize(
    "address",
    [
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # checksum
        "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",  # wrong hrp
        "bc1qw508d6qejxtdg4y5r3zarvary0C5xw7kv8f3t4",  # mixed case
    ],
)
def test_bad_segwit_addresses_are_rejected(address: str) -> None:
    with pytest.raises(AddressError):
        segwit_decode("bc", address)


def _encode_with_constant(const: int, hrp: str, version: int, program: bytes) -> str:
    data = [version, *script_mod._convertbits(program, 8, 5, True)]
    polymod = script_mod._polymod([*script_mod._hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(script_mod.BECH32_CHARSET[d] for d in data + checksum)


def test_checksum_variant_must_match_witness_version() -> None:
    """BIP-350: v0 uses bech32, v1+ bech32m; the other variant is invalid even if it checks."""
    program = bytes(range(20))
    assert _encode_with_constant(1, "bc", 0, program) == segwit_encode("bc", 0, program)
    assert _encode_with_constant(0x2BC830A3, "bc", 1, program) == segwit_encode("bc", 1, program)
    with pytest.raises(AddressError, match="checksum variant"):
        segwit_decode("bc", _encode_with_constant(0x2BC830A3, "bc", 0, program))
    with pytest.raises(AddressError, match="checksum variant"):
        segwit_decode("bc", _encode_with_constant(1, "bc", 1, program))
    with pytest.raises(AddressError):
        segwit_encode("bc", 0, bytes(25))


def test_base58check_rejects_a_typo() -> None:
    assert base58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")[0] == 0
    with pytest.raises(AddressError):
        base58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")
    with pytest.raises(AddressError):
        base58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0")  # '0' is not base58


@given(st.integers(0, 255), st.binary(max_size=40))
def test_base58check_round_trip(version: int, payload: bytes) -> None:
    assert base58check_decode(base58check_encode(version, payload)) == (version, payload)


@st.composite
def witness_programs(draw: st.DrawFn) -> tuple[int, bytes]:
    version = draw(st.integers(0, 16))
    if version == 0:
        size = draw(st.sampled_from([20, 32]))
    else:
        size = draw(st.integers(2, 40))
    return version, draw(st.binary(min_size=size, max_size=size))


@given(witness_programs(), st.sampled_from(["bc", "tb", "bcrt", "rltc"]))
def test_segwit_round_trip(prog: tuple[int, bytes], hrp: str) -> None:
    version, program = prog
    address = segwit_encode(hrp, version, program)
    assert segwit_decode(hrp, address) == (version, program)
    assert segwit_decode(hrp, address.upper()) == (version, program)


@given(
    st.sampled_from([MAINNET, TESTNET, REGTEST, LITECOIN_REGTEST]),
    st.one_of(
        st.binary(min_size=20, max_size=20).map(
            lambda h: bytes.fromhex("76a914") + h + b"\x88\xac"
        ),
        st.binary(min_size=20, max_size=20).map(lambda h: bytes.fromhex("a914") + h + b"\x87"),
        witness_programs().map(lambda p: bytes((p[0] + 0x50 if p[0] else 0, len(p[1]))) + p[1]),
    ),
)
def test_script_address_script_round_trip(network, script: bytes) -> None:
    address = address_from_script(script, network)
    assert address is not None
    assert script_from_address(address, network) == script


def test_litecoin_regtest_prefixes() -> None:
    h = bytes(range(20))
    p2sh = address_from_script(bytes.fromhex("a914") + h + b"\x87", LITECOIN_REGTEST)
    assert base58check_decode(p2sh) == (58, h)
    p2wpkh = address_from_script(b"\x00\x14" + h, LITECOIN_REGTEST)
    assert p2wpkh.startswith("rltc1q")
    assert network_by_name("REGTEST") is REGTEST
    with pytest.raises(ValueError):
        network_by_name("dogecoin")


@pytest.mark.parametrize(
    ("script_hex", "expected"),
    [
        ("6a", "nulldata"),  # bare OP_RETURN
        ("6a05616e6e6578", "nulldata"),
        ("6a4c", "nonstandard"),  # OP_RETURN then a push running past the end
        ("6a61", "nonstandard"),  # OP_RETURN OP_NOP: not push-only
        ("", "nonstandard"),
        ("0015" + "00" * 21, "nonstandard"),  # witness v0 with a 21-byte program
        ("51024e73", "witness_unknown"),  # pay-to-anchor
        ("5114" + "11" * 20, "witness_unknown"),  # v1 with a 20-byte program
        ("5120" + "11" * 32, "witness_v1_taproot"),
        ("2102" + "11" * 32 + "ac", "pubkey"),
        ("2105" + "11" * 32 + "ac", "nonstandard"),  # 0x05 is no pubkey prefix
        ("5121" + "02" + "11" * 32 + "51ae", "multisig"),  # 1-of-1
        ("5221" + "02" + "11" * 32 + "51ae", "nonstandard"),  # 2-of-1
        ("5121" + "02" + "11" * 32 + "52ae", "nonstandard"),  # claims 2 keys, has 1
    ],
)
def test_classification_follows_core(script_hex: str, expected: str) -> None:
    assert classify_script(bytes.fromhex(script_hex))[0] == expected


def test_addressless_types_have_no_address() -> None:
    for script_hex in ("6a05616e6e6578", "5121" + "02" + "11" * 32 + "51ae", "6a4c"):
        assert address_from_script(script_hex) is None


def test_source_type_labels_map_to_core_names() -> None:
    assert canonical_script_type("v0_p2wpkh") == "witness_v0_keyhash"
    assert canonical_script_type("v0_p2wsh") == "witness_v0_scripthash"
    assert canonical_script_type("v1_p2tr") == "witness_v1_taproot"
    assert canonical_script_type("p2pk") == "pubkey"
    assert canonical_script_type("p2pkh") == "pubkeyhash"
    assert canonical_script_type("p2sh") == "scripthash"
    assert canonical_script_type("op_return") == "nulldata"
    assert canonical_script_type("anchor") == "witness_unknown"
    assert canonical_script_type("nulldata") == "nulldata"
    with pytest.raises(KeyError):
        canonical_script_type("p2xyz")


def test_core_type_and_address_agree_for_every_script_of_block_279671() -> None:
    """Real Core output: our classifier and encoder reproduce Core's type and address."""
    block = load_json(BLOCK_279671)["result"]
    seen = 0
    for tx in block["tx"]:
        spks = [o["scriptPubKey"] for o in tx["vout"]]
        spks += [i["prevout"]["scriptPubKey"] for i in tx["vin"] if "prevout" in i]
        for spk in spks:
            assert script_info(spk["hex"]) == (spk["type"], spk.get("address"))
            seen += 1
    assert seen == 725 + 1053


ESPLORA_LABEL_EXCEPTIONS = {
    # (label, our type) pairs where Esplora's coarse label is refined by Core's rules
    ("unknown", "witness_unknown"),
    ("op_return", "nonstandard"),
}


def test_esplora_types_and_addresses_agree_with_the_scripts() -> None:
    """Every Esplora script: our type is Esplora's label (mapped) or a known refinement, and
    our address equals Esplora's wherever Esplora gives one."""
    checked = 0
    refined = set()
    for path in sorted(ESPLORA.glob("*/*.json")):
        data = load_json(path)
        txs = data if isinstance(data, list) else [data]
        for tx in txs:
            if "vout" not in tx:
                continue
            objs = list(tx["vout"]) + [v["prevout"] for v in tx["vin"] if v.get("prevout")]
            for o in objs:
                kind, address = script_info(o["scriptpubkey"])
                label = o["scriptpubkey_type"]
                if canonical_script_type(label) != kind:
                    assert (label, kind) in ESPLORA_LABEL_EXCEPTIONS, (path.name, label, kind)
                    refined.add((label, kind))
                if o.get("scriptpubkey_address"):
                    assert address == o["scriptpubkey_address"]
                elif kind == "pubkey":
                    assert address is not None and address.startswith("1")
                else:
                    assert address is None
                checked += 1
    assert refined == ESPLORA_LABEL_EXCEPTIONS
    assert checked > 500
