"""Deterministic, valid-looking identifiers: addresses with real checksums, hashes, signatures.

Everything is drawn from one ``random.Random`` per chain so that a seed fixes every byte of a
scenario. Addresses are encoded with the project's own encoders (base58check, bech32/bech32m,
EIP-55-compatible lowercase hex, 32-byte base58 keys), so the importers and the address
normaliser accept them exactly as they accept mainnet data.
"""

from __future__ import annotations

import hashlib
import random

import base58
from solders.pubkey import Pubkey

from fundtrace.chains.btc.network import MAINNET
from fundtrace.chains.btc.script import base58check_encode, script_from_address, segwit_encode
from fundtrace.chains.sol.programs import TOKEN_PROGRAM

ASSOCIATED_TOKEN_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"

# bitcoin-etl type name of each address kind we generate, and its share of new addresses
BTC_KINDS = {
    "p2wpkh": "witness_v0_keyhash",
    "p2pkh": "pubkeyhash",
    "p2sh": "scripthash",
    "p2tr": "witness_v1_taproot",
    "p2wsh": "witness_v0_scripthash",
}
_BTC_MIX = (("p2wpkh", 60), ("p2pkh", 12), ("p2sh", 16), ("p2tr", 12))

_TOKEN_PK = bytes(Pubkey.from_string(TOKEN_PROGRAM))
_ATA_PK = Pubkey.from_string(ASSOCIATED_TOKEN_PROGRAM)


class Ids:
    """Identifier factory bound to one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def raw(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    # --- Bitcoin ------------------------------------------------------------------------

    def btc_address(self, kind: str | None = None) -> str:
        if kind is None:
            r = self.rng.randrange(100)
            for k, share in _BTC_MIX:
                if r < share:
                    kind = k
                    break
                r -= share
        if kind == "p2wpkh":
            return segwit_encode(MAINNET.hrp, 0, self.raw(20))
        if kind == "p2wsh":
            return segwit_encode(MAINNET.hrp, 0, self.raw(32))
        if kind == "p2tr":
            return segwit_encode(MAINNET.hrp, 1, self.raw(32))
        if kind == "p2sh":
            return base58check_encode(MAINNET.p2sh_version, self.raw(20))
        return base58check_encode(MAINNET.p2pkh_version, self.raw(20))

    def btc_hash(self) -> str:
        """A txid-like 32-byte hash (double SHA-256 of fresh random bytes, as a txid is)."""
        return hashlib.sha256(hashlib.sha256(self.raw(32)).digest()).digest()[::-1].hex()

    def btc_block_hash(self) -> str:
        return "00000000000000000" + self.raw(24).hex()[:47]

    # --- Ethereum -----------------------------------------------------------------------

    def eth_address(self) -> str:
        return "0x" + self.raw(20).hex()

    def eth_lookalike(self, target: str, keep: int = 4) -> str:
        """Same first and last ``keep`` hex digits as ``target``: the address-poisoning trick."""
        body = target[2:]
        middle = self.raw(20).hex()[keep : 40 - keep]
        return "0x" + body[:keep] + middle + body[40 - keep :]

    def eth_hash(self) -> str:
        return "0x" + self.raw(32).hex()

    # --- Solana -------------------------------------------------------------------------

    def sol_address(self) -> str:
        return base58.b58encode(self.raw(32)).decode()

    def sol_signature(self) -> str:
        return base58.b58encode(self.raw(64)).decode()

    def sol_blockhash(self) -> str:
        return base58.b58encode(self.raw(32)).decode()


def btc_script_hex(address: str) -> str:
    return script_from_address(address, MAINNET).hex()


def btc_type(address: str) -> str:
    """bitcoin-etl's type label of an address we generated."""
    if address.startswith("bc1q"):
        return "witness_v0_keyhash" if len(address) == 42 else "witness_v0_scripthash"
    if address.startswith("bc1p"):
        return "witness_v1_taproot"
    return "scripthash" if address.startswith("3") else "pubkeyhash"


def sol_ata(wallet: str, mint: str) -> str:
    """The associated token account of ``wallet`` for ``mint`` (the real PDA derivation)."""
    pda, _bump = Pubkey.find_program_address(
        [bytes(Pubkey.from_string(wallet)), _TOKEN_PK, bytes(Pubkey.from_string(mint))], _ATA_PK
    )
    return str(pda)
