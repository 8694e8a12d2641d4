"""Output scripts: their canonical type names and the address each one pays to.

Sources disagree on both. Bitcoin Core (and bitcoin-etl, which copies Core) name types
``pubkeyhash``/``witness_v0_keyhash``..., Esplora ``p2pkh``/``v0_p2wpkh``...; Core >= 0.20,
Esplora and mempool.space give no address for P2PK, while Core < 0.20 and bitcoin-etl give
the P2PKH address of the public key. A trace must not fork on which source was imported, so
every adapter maps to Core's names and the P2PKH address of P2PK keys, and classifies from the
script bytes with Core's own rules (``Solver`` in ``script/solver.cpp``) where a source's label
is ambiguous (Esplora's ``unknown`` is either a future witness version or non-standard).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from fundtrace.chains.btc.network import MAINNET, Network

PUBKEY = "pubkey"
PUBKEYHASH = "pubkeyhash"
SCRIPTHASH = "scripthash"
WITNESS_V0_KEYHASH = "witness_v0_keyhash"
WITNESS_V0_SCRIPTHASH = "witness_v0_scripthash"
WITNESS_V1_TAPROOT = "witness_v1_taproot"
WITNESS_UNKNOWN = "witness_unknown"
MULTISIG = "multisig"
NULLDATA = "nulldata"
NONSTANDARD = "nonstandard"

SCRIPT_TYPES = frozenset(
    {
        PUBKEY,
        PUBKEYHASH,
        SCRIPTHASH,
        WITNESS_V0_KEYHASH,
        WITNESS_V0_SCRIPTHASH,
        WITNESS_V1_TAPROOT,
        WITNESS_UNKNOWN,
        MULTISIG,
        NULLDATA,
        NONSTANDARD,
    }
)

ADDRESSLESS_TYPES = frozenset({MULTISIG, NULLDATA, NONSTANDARD})
"""Types whose outputs pay no single address: an address claimed for them is not recorded."""

# Source label -> canonical name. Core's own names map to themselves (bitcoin-etl copies them).
# Esplora's "unknown" / "op_return" / "multisig" / "p2pk" are best resolved from the script
# bytes (see ``esplora_script_type``); the table gives the answer when no script is at hand.
_TYPE_NAMES: dict[str, str] = {name: name for name in SCRIPT_TYPES}
_TYPE_NAMES.update(
    {
        # Bitcoin Core >= 28 labels pay-to-anchor (witness v1, program 0x4e73) "anchor".
        "anchor": WITNESS_UNKNOWN,
        # Esplora / mempool.space
        "p2pk": PUBKEY,
        "p2pkh": PUBKEYHASH,
        "p2sh": SCRIPTHASH,
        "v0_p2wpkh": WITNESS_V0_KEYHASH,
        "v0_p2wsh": WITNESS_V0_SCRIPTHASH,
        "v1_p2tr": WITNESS_V1_TAPROOT,
        "op_return": NULLDATA,
        "provably_unspendable": NONSTANDARD,
        "empty": NONSTANDARD,
        "unknown": NONSTANDARD,
        "p2a": WITNESS_UNKNOWN,
    }
)


class AddressError(ValueError):
    """An address string does not decode (bad alphabet, checksum, length or network)."""


def canonical_script_type(name: str) -> str:
    """Map a source's script type label to the canonical (Bitcoin Core) name.

    Raises ``KeyError`` for a label no known source uses, so a new label is noticed instead
    of being stored under a guess; callers turn it into a ``ParseError`` with the location.
    """
    try:
        return _TYPE_NAMES[name]
    except KeyError:
        raise KeyError(f"unknown script type {name!r}") from None


# --- hashing ----------------------------------------------------------------------------------


def _ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 builds without the legacy provider lack ripemd160
        from Crypto.Hash import RIPEMD160

        return RIPEMD160.new(data).digest()


def hash160(data: bytes) -> bytes:
    return _ripemd160(hashlib.sha256(data).digest())


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


# --- base58check --------------------------------------------------------------------------------

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def base58check_encode(version: int, payload: bytes) -> str:
    if not 0 <= version <= 255:
        raise ValueError(f"base58 version byte {version} is outside 0..255")
    data = bytes((version,)) + payload
    data += _sha256d(data)[:4]
    n = int.from_bytes(data, "big")
    chars = []
    while n:
        n, r = divmod(n, 58)
        chars.append(B58_ALPHABET[r])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(chars))


def base58check_decode(address: str) -> tuple[int, bytes]:
    """'1A1zP1...' -> (version byte, payload); raises ``AddressError`` on any corruption."""
    n = 0
    for c in address:
        try:
            n = n * 58 + _B58_INDEX[c]
        except KeyError:
            raise AddressError(f"{address!r}: {c!r} is not a base58 character") from None
    zeros = len(address) - len(address.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    data = b"\0" * zeros + body
    if len(data) < 5:
        raise AddressError(f"{address!r}: too short for base58check")
    if _sha256d(data[:-4])[:4] != data[-4:]:
        raise AddressError(f"{address!r}: base58check checksum mismatch")
    return data[0], data[1:-4]


# --- bech32 / bech32m (BIP-173, BIP-350; after the reference implementation) -------------------

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(BECH32_CHARSET)}
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: Sequence[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data: Sequence[int], frombits: int, tobits: int, pad: bool) -> list[int] | None:
    acc = 0
    bits = 0
    ret = []
    maxv = (1 << tobits) - 1
    max_acc = (1 << (frombits + tobits - 1)) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = ((acc << frombits) | value) & max_acc
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret


def _check_program(witver: int, program: bytes) -> None:
    if not 0 <= witver <= 16:
        raise AddressError(f"witness version {witver} is outside 0..16")
    if not 2 <= len(program) <= 40:
        raise AddressError(f"witness program of {len(program)} bytes is outside 2..40")
    if witver == 0 and len(program) not in (20, 32):
        raise AddressError(f"witness v0 program must be 20 or 32 bytes, not {len(program)}")


def segwit_encode(hrp: str, witver: int, program: bytes) -> str:
    """Segwit address: bech32 for version 0, bech32m for versions 1..16 (BIP-350)."""
    _check_program(witver, program)
    data = [witver, *_convertbits(program, 8, 5, True)]  # type: ignore[misc]
    const = _BECH32_CONST if witver == 0 else _BECH32M_CONST
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def segwit_decode(hrp: str, address: str) -> tuple[int, bytes]:
    """'bc1q...' -> (witness version, program); raises ``AddressError`` on any corruption."""
    if any(ord(x) < 33 or ord(x) > 126 for x in address) or (
        address.lower() != address and address.upper() != address
    ):
        raise AddressError(f"{address!r}: invalid characters or mixed case")
    addr = address.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr) or len(addr) > 90:
        raise AddressError(f"{address!r}: malformed bech32 string")
    if addr[:pos] != hrp:
        raise AddressError(f"{address!r}: prefix {addr[:pos]!r} is not this network's {hrp!r}")
    try:
        data = [_BECH32_INDEX[c] for c in addr[pos + 1 :]]
    except KeyError:
        raise AddressError(f"{address!r}: invalid bech32 character") from None
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        raise AddressError(f"{address!r}: bech32 checksum mismatch")
    data = data[:-6]
    if not data:
        raise AddressError(f"{address!r}: no witness version")
    witver = data[0]
    decoded = _convertbits(data[1:], 5, 8, False)
    if decoded is None:
        raise AddressError(f"{address!r}: invalid padding")
    program = bytes(decoded)
    _check_program(witver, program)
    if (witver == 0) != (const == _BECH32_CONST):
        raise AddressError(f"{address!r}: wrong checksum variant for witness v{witver}")
    return witver, program


# --- script parsing (Bitcoin Core's Solver rules) ----------------------------------------------

OP_0 = 0x00
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E
OP_1 = 0x51
OP_16 = 0x60
OP_RETURN = 0x6A
OP_DUP = 0x76
OP_EQUAL = 0x87
OP_EQUALVERIFY = 0x88
OP_HASH160 = 0xA9
OP_CHECKSIG = 0xAC
OP_CHECKMULTISIG = 0xAE


def _get_op(script: bytes, pos: int) -> tuple[int, bytes, int] | None:
    """One opcode at ``pos``: (opcode, pushed data, next position), None past the end."""
    n = len(script)
    if pos >= n:
        return None
    op = script[pos]
    pos += 1
    if op > OP_PUSHDATA4:
        return op, b"", pos
    if op < OP_PUSHDATA1:
        size = op
    else:
        width = {OP_PUSHDATA1: 1, OP_PUSHDATA2: 2, OP_PUSHDATA4: 4}[op]
        if pos + width > n:
            return None
        size = int.from_bytes(script[pos : pos + width], "little")
        pos += width
    if pos + size > n:
        return None
    return op, script[pos : pos + size], pos + size


def _is_push_only(script: bytes, pos: int) -> bool:
    while pos < len(script):
        got = _get_op(script, pos)
        if got is None or got[0] > OP_16:
            return False
        pos = got[2]
    return True


def _valid_pubkey_size(key: bytes) -> bool:
    if not key:
        return False
    first = key[0]
    if first in (2, 3):
        return len(key) == 33
    if first in (4, 6, 7):
        return len(key) == 65
    return False


def _multisig_count(op: int, data: bytes) -> int | None:
    """Core's ``GetScriptNumber(.., 1, 20)``: OP_1..OP_16, or 17..20 pushed minimally."""
    if OP_1 <= op <= OP_16:
        return op - OP_1 + 1
    if op == 1 and len(data) == 1 and 17 <= data[0] <= 20:
        return data[0]
    return None


def _is_multisig(script: bytes) -> bool:
    if not script or script[-1] != OP_CHECKMULTISIG:
        return False
    got = _get_op(script, 0)
    if got is None:
        return False
    required = _multisig_count(got[0], got[1])
    if required is None:
        return False
    pos = got[2]
    keys = 0
    while True:
        got = _get_op(script, pos)
        if got is None:
            return False
        op, data, pos = got
        if not _valid_pubkey_size(data):
            break
        keys += 1
    count = _multisig_count(op, data)
    if count is None or count != keys or count < required:
        return False
    return pos + 1 == len(script)


def classify_script(script: bytes) -> tuple[str, int | None, bytes]:
    """(canonical type, witness version or None, the bytes an address encodes).

    Follows Core's ``Solver`` order so that a script's type never depends on the source: the
    third item is the hash/program/public key the address is built from (empty if none).
    """
    n = len(script)
    if n == 23 and script[0] == OP_HASH160 and script[1] == 0x14 and script[22] == OP_EQUAL:
        return SCRIPTHASH, None, script[2:22]
    if 4 <= n <= 42 and (script[0] == OP_0 or OP_1 <= script[0] <= OP_16) and script[1] + 2 == n:
        version = 0 if script[0] == OP_0 else script[0] - OP_1 + 1
        program = script[2:]
        if version == 0:
            if n == 22:
                return WITNESS_V0_KEYHASH, 0, program
            if n == 34:
                return WITNESS_V0_SCRIPTHASH, 0, program
            return NONSTANDARD, None, b""
        if version == 1 and n == 34:
            return WITNESS_V1_TAPROOT, 1, program
        return WITNESS_UNKNOWN, version, program
    if n >= 1 and script[0] == OP_RETURN and _is_push_only(script, 1):
        return NULLDATA, None, b""
    if (n in (35, 67)) and script[0] == n - 2 and script[-1] == OP_CHECKSIG:
        key = script[1:-1]
        if _valid_pubkey_size(key):
            return PUBKEY, None, key
    if (
        n == 25
        and script[0] == OP_DUP
        and script[1] == OP_HASH160
        and script[2] == 0x14
        and script[23] == OP_EQUALVERIFY
        and script[24] == OP_CHECKSIG
    ):
        return PUBKEYHASH, None, script[3:23]
    if _is_multisig(script):
        return MULTISIG, None, b""
    return NONSTANDARD, None, b""


def address_for(kind: str, witver: int | None, data: bytes, network: Network) -> str | None:
    """Encode the address of a ``classify_script`` result (None for addressless types)."""
    if kind == PUBKEYHASH:
        return base58check_encode(network.p2pkh_version, data)
    if kind == SCRIPTHASH:
        return base58check_encode(network.p2sh_version, data)
    if witver is not None:
        return segwit_encode(network.hrp, witver, data)
    if kind == PUBKEY:
        return base58check_encode(network.p2pkh_version, hash160(data))
    return None


def script_info(script: bytes | str, network: Network = MAINNET) -> tuple[str, str | None]:
    """(canonical type, address or None) of an output script given as bytes or hex.

    Raises ``ValueError`` if a hex string is not hex.
    """
    raw = bytes.fromhex(script) if isinstance(script, str) else script
    kind, witver, data = classify_script(raw)
    return kind, address_for(kind, witver, data, network)


def address_from_script(script: bytes | str, network: Network = MAINNET) -> str | None:
    """The address an output script pays, None for OP_RETURN, bare multisig and non-standard.

    P2PK yields the P2PKH address of its key, as Bitcoin Core < 0.20 and bitcoin-etl report.
    """
    return script_info(script, network)[1]


def script_from_address(address: str, network: Network = MAINNET) -> bytes:
    """The output script an address stands for (inverse of ``address_from_script``)."""
    if address.lower().startswith(network.hrp + "1"):
        witver, program = segwit_decode(network.hrp, address)
        return bytes((OP_0 if witver == 0 else OP_1 + witver - 1, len(program))) + program
    version, payload = base58check_decode(address)
    if len(payload) != 20:
        raise AddressError(f"{address!r}: payload of {len(payload)} bytes, expected 20")
    if version == network.p2pkh_version:
        return bytes((OP_DUP, OP_HASH160, 20)) + payload + bytes((OP_EQUALVERIFY, OP_CHECKSIG))
    if version == network.p2sh_version:
        return bytes((OP_HASH160, 20)) + payload + bytes((OP_EQUAL,))
    raise AddressError(f"{address!r}: version byte {version} is not used on {network.name}")
