"""One canonical spelling per address, so labels, clusters and traces compare equal.

Public label sets spell the same address differently (EIP-55 mixed case and lower case, trailing
spaces, upper-cased bech32) and contain outright mistakes (broken checksums, a TRON address filed
as Bitcoin). Comparing raw strings would silently miss matches or store garbage, so every address
that enters the system goes through :func:`normalize_address`, which either returns the canonical
form or raises :class:`InvalidAddress` with a reason a user can act on.

Canonical forms: Ethereum lower-case ``0x`` + 40 hex; Bitcoin base58 as written (base58 is
case-sensitive) and bech32/bech32m lower case; Solana base58 as written.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import base58
from eth_utils import keccak

from fundtrace.core.model import Chain

__all__ = [
    "InvalidAddress",
    "Network",
    "bech32_decode",
    "bech32_encode",
    "decode_segwit",
    "encode_segwit",
    "is_valid_address",
    "normalize_address",
    "parse_chain",
]

Network = Literal["mainnet", "testnet", "signet", "regtest"]


class InvalidAddress(ValueError):
    """The text is not a valid address of the chain; ``reason`` says why in words."""

    def __init__(self, chain: Chain | str, text: str, reason: str) -> None:
        self.chain = chain
        self.text = text
        self.reason = reason
        super().__init__(f"invalid {chain} address {text!r}: {reason}")


_CHAIN_ALIASES = {
    "btc": Chain.BTC,
    "xbt": Chain.BTC,
    "bitcoin": Chain.BTC,
    "eth": Chain.ETH,
    "ethereum": Chain.ETH,
    "sol": Chain.SOL,
    "solana": Chain.SOL,
}


def parse_chain(text: str | Chain) -> Chain:
    """Chain from the names users and label files actually write ("XBT" is OFAC's Bitcoin)."""
    if isinstance(text, Chain):
        return text
    key = str(text).strip().lower()
    try:
        return _CHAIN_ALIASES[key]
    except KeyError:
        raise ValueError(
            f"unknown chain {text!r} (expected btc/xbt/bitcoin, eth/ethereum or sol/solana)"
        ) from None


# --------------------------------------------------------------------------------------------
# Ethereum


def _eip55(hex40_lower: str) -> str:
    digest = keccak(text=hex40_lower).hex()
    return "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c
        for i, c in enumerate(hex40_lower)
    )


def _normalize_eth(text: str) -> str:
    if not text.startswith("0x"):
        if text.startswith("0X"):
            raise InvalidAddress(Chain.ETH, text, "prefix must be lower-case '0x'")
        if text.startswith("T") and len(text) == 34:
            raise InvalidAddress(Chain.ETH, text, "looks like a TRON address, not Ethereum")
        raise InvalidAddress(Chain.ETH, text, "must start with '0x'")
    body = text[2:]
    if len(body) != 40:
        raise InvalidAddress(Chain.ETH, text, f"must have 40 hex digits, has {len(body)}")
    if any(c not in "0123456789abcdefABCDEF" for c in body):
        raise InvalidAddress(Chain.ETH, text, "contains a non-hex character")
    lower = body.lower()
    if body != lower and body != body.upper():
        expected = _eip55(lower)
        if body != expected:
            raise InvalidAddress(
                Chain.ETH, text, f"EIP-55 checksum mismatch (expected 0x{expected})"
            )
    return "0x" + lower


# --------------------------------------------------------------------------------------------
# Bitcoin: base58check and BIP-173 / BIP-350 bech32(m)

_B58_VERSIONS: dict[str, dict[int, str]] = {
    "mainnet": {0x00: "p2pkh", 0x05: "p2sh"},
    "testnet": {0x6F: "p2pkh", 0xC4: "p2sh"},
    "signet": {0x6F: "p2pkh", 0xC4: "p2sh"},
    "regtest": {0x6F: "p2pkh", 0xC4: "p2sh"},
}
_HRP: dict[str, str] = {"mainnet": "bc", "testnet": "tb", "signet": "tb", "regtest": "bcrt"}

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def bech32_encode(hrp: str, data: list[int], *, bech32m: bool) -> str:
    """Encode 5-bit groups with the bech32 (BIP-173) or bech32m (BIP-350) checksum."""
    const = _BECH32M_CONST if bech32m else _BECH32_CONST
    values = _hrp_expand(hrp) + data
    mod = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[d] for d in data + checksum)


def bech32_decode(text: str) -> tuple[str, list[int], bool]:
    """(hrp, 5-bit data without checksum, is_bech32m); raises ValueError with the reason."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise ValueError("contains a character outside printable ASCII")
    if text.lower() != text and text.upper() != text:
        raise ValueError("bech32 must not mix upper and lower case")
    s = text.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s):
        raise ValueError("no valid bech32 separator/checksum")
    if len(s) > 90:
        raise ValueError(f"bech32 string too long ({len(s)} > 90)")
    hrp = s[:pos]
    try:
        data = [_BECH32_CHARSET.index(c) for c in s[pos + 1 :]]
    except ValueError:
        raise ValueError("contains a character outside the bech32 alphabet") from None
    check = _polymod(_hrp_expand(hrp) + data)
    if check == _BECH32_CONST:
        return hrp, data[:-6], False
    if check == _BECH32M_CONST:
        return hrp, data[:-6], True
    raise ValueError("bech32 checksum mismatch")


def _convertbits(data: list[int] | bytes, frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    ret: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            raise ValueError("invalid data value")
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        raise ValueError("invalid padding in witness program")
    return ret


def decode_segwit(hrp: str, text: str) -> tuple[int, bytes]:
    """(witness version, program) of a segwit address, enforcing BIP-173/BIP-350 rules."""
    got_hrp, data, is_m = bech32_decode(text)
    if got_hrp != hrp:
        raise ValueError(f"human-readable part {got_hrp!r}, expected {hrp!r}")
    if not data:
        raise ValueError("empty witness data")
    version = data[0]
    if version > 16:
        raise ValueError(f"witness version {version} > 16")
    program = bytes(_convertbits(data[1:], 5, 8, False))
    if not 2 <= len(program) <= 40:
        raise ValueError(f"witness program length {len(program)} outside 2..40")
    if version == 0 and len(program) not in (20, 32):
        raise ValueError(f"segwit v0 program must be 20 or 32 bytes, is {len(program)}")
    if version == 0 and is_m:
        raise ValueError("segwit v0 must use bech32, not bech32m")
    if version != 0 and not is_m:
        raise ValueError(f"segwit v{version} must use bech32m, not bech32")
    return version, program


def encode_segwit(hrp: str, version: int, program: bytes) -> str:
    """Segwit address for a witness program (bech32 for v0, bech32m for v1+)."""
    text = bech32_encode(hrp, [version, *_convertbits(program, 8, 5, True)], bech32m=version != 0)
    decode_segwit(hrp, text)  # refuse to produce what we would reject
    return text


def _b58check_decode(text: str) -> bytes:
    try:
        raw = base58.b58decode(text)
    except ValueError:
        raise ValueError("contains a character outside the base58 alphabet") from None
    if len(raw) < 5:
        raise ValueError("too short for base58check")
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise ValueError("base58check checksum mismatch")
    return payload


def _normalize_btc(text: str, network: str) -> str:
    if network not in _HRP:
        raise ValueError(f"unknown bitcoin network {network!r}")
    hrp = _HRP[network]
    if text.lower().startswith(hrp + "1"):
        try:
            decode_segwit(hrp, text)
        except ValueError as exc:
            raise InvalidAddress(Chain.BTC, text, str(exc)) from None
        return text.lower()
    if text.startswith("0x") and len(text) == 42:
        raise InvalidAddress(Chain.BTC, text, "looks like an Ethereum address, not Bitcoin")
    try:
        payload = _b58check_decode(text)
    except ValueError as exc:
        raise InvalidAddress(Chain.BTC, text, str(exc)) from None
    if len(payload) != 21:
        raise InvalidAddress(
            Chain.BTC, text, f"base58check payload is {len(payload)} bytes, expected 21"
        )
    version = payload[0]
    if version == 0x41:
        raise InvalidAddress(
            Chain.BTC, text, "this is a TRON address (base58check version 0x41), not Bitcoin"
        )
    if version not in _B58_VERSIONS[network]:
        raise InvalidAddress(
            Chain.BTC, text, f"base58 version byte 0x{version:02x} is not a {network} P2PKH/P2SH"
        )
    return text


# --------------------------------------------------------------------------------------------
# Solana


def _normalize_sol(text: str) -> str:
    if text.startswith("0x"):
        raise InvalidAddress(Chain.SOL, text, "looks like an Ethereum address, not Solana")
    try:
        raw = base58.b58decode(text)
    except ValueError:
        raise InvalidAddress(
            Chain.SOL, text, "contains a character outside the base58 alphabet"
        ) from None
    if len(raw) != 32:
        raise InvalidAddress(Chain.SOL, text, f"decodes to {len(raw)} bytes, expected 32")
    return text


# --------------------------------------------------------------------------------------------


def normalize_address(chain: Chain | str, text: str, *, network: Network = "mainnet") -> str:
    """Canonical form of ``text`` on ``chain`` or :class:`InvalidAddress` with the reason.

    ``network`` only matters for Bitcoin (testnet/signet/regtest prefixes and HRPs).
    """
    c = parse_chain(chain)
    if not isinstance(text, str):
        raise InvalidAddress(c, repr(text), f"expected a string, got {type(text).__name__}")
    s = text.strip()
    if not s:
        raise InvalidAddress(c, text, "empty")
    if c is Chain.ETH:
        return _normalize_eth(s)
    if c is Chain.BTC:
        return _normalize_btc(s, network)
    return _normalize_sol(s)


def is_valid_address(chain: Chain | str, text: str, *, network: Network = "mainnet") -> bool:
    try:
        normalize_address(chain, text, network=network)
    except InvalidAddress:
        return False
    return True
