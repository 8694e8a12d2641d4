"""Per-chain checks of what users type: chains, addresses, tx hashes, ``hash:index`` refs.

Addresses go through ``fundtrace.core.addresses.normalize_address`` (full checksum validation
and one canonical spelling) when that module is present; the regex shapes below are the
fallback. Every function returns the canonical text or raises ``ValueError`` with a reason the
API returns as the field's message.
"""

from __future__ import annotations

import re

import base58

CHAINS = ("btc", "eth", "sol")
CHAIN_NAMES = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana"}

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ETH_TX = re.compile(r"^0x[0-9a-f]{64}$")
_ETH_ADDR = re.compile(r"^0x[0-9a-fA-F]{40}$")
_B58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")
_BTC_B58_ADDR = re.compile(r"^[13][1-9A-HJ-NP-Za-km-z]{25,34}$")
_BTC_BECH32 = re.compile(r"^(bc1)[02-9ac-hj-np-z]{11,71}$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def check_chain(chain: str) -> str:
    text = str(chain).strip().lower()
    if text not in CHAINS:
        raise ValueError(f"unknown chain {chain!r}; expected one of {', '.join(CHAINS)}")
    return text


def _b58_len(text: str) -> int | None:
    if not _B58.match(text):
        return None
    try:
        return len(base58.b58decode(text))
    except ValueError:
        return None


def _regex_address(chain: str, text: str) -> str:
    if chain == "eth":
        if not _ETH_ADDR.match(text):
            raise ValueError("an Ethereum address is 0x followed by 40 hex digits")
        return text.lower()
    if chain == "sol":
        if _b58_len(text) != 32:
            raise ValueError("a Solana address is base58 text decoding to 32 bytes")
        return text
    lowered = text.lower()
    if _BTC_BECH32.match(lowered) and text in {lowered, text.upper()}:
        return lowered
    if _BTC_B58_ADDR.match(text) and _b58_len(text) == 25:
        return text
    raise ValueError("a Bitcoin address is base58 (1..., 3...) or bech32 (bc1...)")


def check_address(chain: str, text: str) -> str:
    chain = check_chain(chain)
    text = str(text).strip()
    if not text:
        raise ValueError("the address is empty")
    try:
        from fundtrace.core.addresses import normalize_address
    except ImportError:
        return _regex_address(chain, text)
    try:
        return normalize_address(chain, text)
    except ValueError as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        raise ValueError(f"not a valid {CHAIN_NAMES[chain]} address: {reason}") from None


def check_tx_hash(chain: str, text: str) -> str:
    chain = check_chain(chain)
    text = str(text).strip()
    if chain == "btc":
        if not _HEX64.match(text.lower()):
            raise ValueError("a Bitcoin txid is 64 hex digits")
        return text.lower()
    if chain == "eth":
        if not _ETH_TX.match(text.lower()):
            raise ValueError("an Ethereum transaction hash is 0x followed by 64 hex digits")
        return text.lower()
    if _b58_len(text) != 64:
        raise ValueError("a Solana transaction signature is base58 text decoding to 64 bytes")
    return text


def check_ref(chain: str, text: str) -> str:
    """``hash:index``: a Bitcoin output (txid:vout) or an account-chain transfer."""
    text = str(text).strip()
    head, sep, index = text.rpartition(":")
    if not sep or not index.isdigit() or len(index) > 9:
        raise ValueError("expected HASH:INDEX with a non-negative integer index")
    return f"{check_tx_hash(chain, head)}:{int(index)}"


def classify_source(chain: str, text: str) -> tuple[str, str]:
    """A trace source as ``("ref", HASH:INDEX)``, ``("tx", HASH)`` or ``("address", ADDR)``.

    A bare tx hash means every transfer in it; an address (backward tracing only) asks where
    its holdings came from.
    """
    text = str(text).strip()
    for kind, check in (("ref", check_ref), ("tx", check_tx_hash), ("address", check_address)):
        try:
            return kind, check(chain, text)
        except ValueError:
            continue
    raise ValueError(
        f"{text!r} is neither a HASH:INDEX reference, a transaction hash nor an address"
    )


def check_source(chain: str, text: str) -> str:
    return classify_source(chain, text)[1]


def check_asset(chain: str, text: str) -> str:
    """``native`` or a token: an ERC-20 contract (Ethereum) / SPL mint (Solana)."""
    chain = check_chain(chain)
    text = str(text).strip()
    if text.lower() == "native" or text == "":
        return "native"
    if chain == "btc":
        raise ValueError("Bitcoin has only the native asset")
    try:
        return check_address(chain, text)
    except ValueError:
        kind = "an ERC-20 contract address" if chain == "eth" else "an SPL mint address"
        raise ValueError(f"asset must be 'native' or {kind}") from None


def check_category(text: str) -> str:
    text = str(text).strip().lower()
    if not _CATEGORY.match(text):
        raise ValueError("a category is a lower-case word such as 'bridge' or 'mixer'")
    return text
