"""Address parameters of the Bitcoin-family networks the adapter understands.

Addresses are derived from scripts whenever a source omits them (P2PK outputs, modern Core
RPC, Esplora), and the derivation differs only in these three numbers/strings per network.
Litecoin regtest is here because the node-level tests run ``litecoind -regtest`` (same RPC
formats as Bitcoin Core, different address prefixes), which catches hard-coded mainnet prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    p2pkh_version: int  # base58check version byte of P2PKH addresses
    p2sh_version: int  # base58check version byte of P2SH addresses
    hrp: str  # bech32 human-readable part of segwit addresses


MAINNET = Network("mainnet", 0, 5, "bc")
TESTNET = Network("testnet", 111, 196, "tb")
SIGNET = Network("signet", 111, 196, "tb")
REGTEST = Network("regtest", 111, 196, "bcrt")
LITECOIN_REGTEST = Network("litecoin-regtest", 111, 58, "rltc")

NETWORKS: dict[str, Network] = {
    n.name: n for n in (MAINNET, TESTNET, SIGNET, REGTEST, LITECOIN_REGTEST)
}


def network_by_name(name: str) -> Network:
    """Look up a network by the name used on the command line ("mainnet", "regtest"...)."""
    try:
        return NETWORKS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(NETWORKS))
        raise ValueError(f"unknown Bitcoin network {name!r} (known: {known})") from None
