"""Address labels and the one category vocabulary every source is mapped into.

Sources disagree on vocabulary (GraphSense concepts such as ``service_hack``, Etherscan slugs such
as ``phish-hack`` or ``fraud-proof``, OFAC feature types). Tracing needs one small vocabulary to
decide where to stop and what to call an endpoint, so every importer maps into :class:`Category`
and keeps the source's own word in ``source_category`` for the explanation. Mapping is by exact
term, never by keyword: Etherscan's ``fraud-proof`` marks Arbitrum protocol contracts, and a
substring match on "fraud" would call them scams.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from fundtrace.core.model import Chain

__all__ = [
    "ETHERSCAN_EXCHANGE_NAMES",
    "ETHERSCAN_SLUG_CATEGORIES",
    "GRAPHSENSE_CATEGORIES",
    "GRAPHSENSE_OTHER",
    "Category",
    "Label",
    "entity_key",
    "map_etherscan_slug",
    "map_graphsense_concept",
    "parse_category",
]


class Category(StrEnum):
    EXCHANGE = "exchange"
    MIXER = "mixer"
    BRIDGE = "bridge"
    DEFI = "defi"
    SANCTIONED = "sanctioned"
    SCAM = "scam"
    HACKER = "hacker"
    VICTIM = "victim"
    SERVICE = "service"
    OTHER = "other"


# Categories that name who *controls* an address (an operator). Two different operators in one
# cluster is a contradiction; a perpetrator label next to an operator is one too.
OPERATOR_CATEGORIES = frozenset(
    {Category.EXCHANGE, Category.MIXER, Category.BRIDGE, Category.DEFI, Category.SERVICE}
)
PERPETRATOR_CATEGORIES = frozenset({Category.HACKER, Category.SCAM})


def parse_category(text: str) -> Category:
    """Our own vocabulary, case-insensitive; anything else is an error for the caller to report."""
    try:
        return Category(text.strip().lower())
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise ValueError(f"unknown category {text!r} (expected one of {allowed})") from None


# GraphSense TagPack concepts (tagpack-tool db/concepts.yaml, 86 ids) -> our vocabulary.
# Concepts not listed map to OTHER (e.g. user, organization, perpetrator, unknown, extremism):
# they say something about an address but not who operates it in a way tracing can act on.
GRAPHSENSE_CATEGORIES: dict[str, Category] = {
    # operators
    "exchange": Category.EXCHANGE,
    "hot_wallet": Category.EXCHANGE,
    "cold_wallet": Category.EXCHANGE,
    "warm_wallet": Category.EXCHANGE,
    "mixing_service": Category.MIXER,
    "coinjoin": Category.MIXER,
    "mixing": Category.MIXER,
    "defi_bridge": Category.BRIDGE,
    "defi": Category.DEFI,
    "defi_token": Category.DEFI,
    "defi_lending": Category.DEFI,
    "defi_dex": Category.DEFI,
    "defi_dex_pair": Category.DEFI,
    "defi_derivatives": Category.DEFI,
    "defi_dao": Category.DEFI,
    "defi_staking": Category.DEFI,
    "defi_custody": Category.DEFI,
    "service": Category.SERVICE,
    "wallet_service": Category.SERVICE,
    "escrow_wallet": Category.SERVICE,
    "ico_wallet": Category.SERVICE,
    "market": Category.SERVICE,
    "miner": Category.SERVICE,
    "mining_service": Category.SERVICE,
    "gambling": Category.SERVICE,
    "payment_processor": Category.SERVICE,
    "shop": Category.SERVICE,
    "atm": Category.SERVICE,
    "hosting": Category.SERVICE,
    "vpn": Category.SERVICE,
    "faucet": Category.SERVICE,
    "filesharing": Category.SERVICE,
    "messaging_service": Category.SERVICE,
    "search_engine": Category.SERVICE,
    "nameservice": Category.SERVICE,
    "index": Category.SERVICE,
    # abuse
    "sanction": Category.SANCTIONED,
    "hacking": Category.HACKER,
    "service_hack": Category.HACKER,
    "account_hack": Category.HACKER,
    "exploit": Category.HACKER,
    "data_breach": Category.HACKER,
    "malware": Category.HACKER,
    "ransomware": Category.HACKER,
    "scam": Category.SCAM,
    "phishing": Category.SCAM,
    "financial_crime": Category.SCAM,
    "investment_fraud": Category.SCAM,
    "ponzi_scheme": Category.SCAM,
    "pyramid_scheme": Category.SCAM,
    "extortion": Category.SCAM,
    "sextortion": Category.SCAM,
    "payment_card_fraud": Category.SCAM,
    "social_engineering": Category.SCAM,
    "victim": Category.VICTIM,
}


# Concepts that exist in GraphSense but deliberately map to OTHER (no warning on import).
GRAPHSENSE_OTHER = frozenset(
    {
        "unknown", "behaviour", "source", "mention", "website_mention", "forum_mention", "abuse",
        "gray_usage", "white_usage", "sexual_abuse", "child_sexual_abuse", "violence",
        "human_trafficking", "murder", "torture", "money_laundering", "drugs", "weapons",
        "counterfeit", "extremism", "terrorism", "terrorism_financing", "dark_web", "entity",
        "organization", "user", "perpetrator", "donation", "item", "collectible",
    }
)  # fmt: skip


def map_graphsense_concept(concept: str | None) -> Category | None:
    """None when the concept is unknown to the mapping (caller decides: OTHER + a warning)."""
    if not concept:
        return None
    return GRAPHSENSE_CATEGORIES.get(str(concept).strip().lower())


# Etherscan label-cloud slugs (brianleect / dawsbot scrapes, Forta data_source names).
ETHERSCAN_EXCHANGE_NAMES: dict[str, str] = {
    "binance": "Binance",
    "coinbase": "Coinbase",
    "kraken": "Kraken",
    "huobi": "Huobi",
    "okx": "OKX",
    "okex": "OKX",
    "kucoin": "KuCoin",
    "bitfinex": "Bitfinex",
    "bithumb": "Bithumb",
    "ftx": "FTX",
    "crypto-com": "Crypto.com",
    "poloniex": "Poloniex",
    "upbit": "Upbit",
    "gemini": "Gemini",
    "deribit": "Deribit",
    "bitstamp": "Bitstamp",
    "gate-io": "Gate.io",
    "hitbtc": "HitBTC",
    "bitget": "Bitget",
    "bitmart": "BitMart",
    "bittrex": "Bittrex",
    "bitmex": "BitMEX",
    "mexc": "MEXC",
    "bybit": "Bybit",
    "changenow": "ChangeNOW",
    "exchange": "",
}

ETHERSCAN_SLUG_CATEGORIES: dict[str, Category] = {
    **{slug: Category.EXCHANGE for slug in ETHERSCAN_EXCHANGE_NAMES},
    "hot-wallet": Category.EXCHANGE,
    "cold-wallet": Category.EXCHANGE,
    "tornado-cash": Category.MIXER,
    "typhoon-cash": Category.MIXER,
    "ethereum-mixer": Category.MIXER,
    "bridge": Category.BRIDGE,
    "wormhole": Category.BRIDGE,
    "multichain": Category.BRIDGE,
    "hop-protocol": Category.BRIDGE,
    "across-protocol": Category.BRIDGE,
    "axelar": Category.BRIDGE,
    "celer-network": Category.BRIDGE,
    "connext": Category.BRIDGE,
    "synapse": Category.BRIDGE,
    "dex": Category.DEFI,
    "ofac-sanctions-lists": Category.SANCTIONED,
    "heist": Category.HACKER,
    "exploit": Category.HACKER,
    "etherscan-heist-list": Category.HACKER,
    "etherscan-exploit-list": Category.HACKER,
    "phish-hack": Category.SCAM,
    "etherscan-phish-hack-list": Category.SCAM,
    "fiat-gateway": Category.SERVICE,
    "otc": Category.SERVICE,
    # Deliberately OTHER: issuer freezes and vague flags are not an operator or a perpetrator.
    "blocked": Category.OTHER,
    "flagged-by-sec": Category.OTHER,
    "high-risk": Category.OTHER,
    "something-fishy": Category.OTHER,
    "white-hat": Category.OTHER,
    "white-hat-group": Category.OTHER,
    "layer-2": Category.OTHER,
    "fraud-proof": Category.OTHER,  # Arbitrum protocol contracts, not fraud
}


def map_etherscan_slug(slug: str | None) -> Category | None:
    if not slug:
        return None
    return ETHERSCAN_SLUG_CATEGORIES.get(slug.strip().lower())


_ENTITY_SUFFIX = re.compile(r"(\s*:.*$)|([\s_-]*\d+$)|(\.(com|io|net|org)$)")


def entity_key(name: str) -> str:
    """Compare entity names loosely: 'Binance 14', 'Binance: Hot Wallet 2', 'binance' are one.

    Only used to decide whether two labels name the same operator; the stored names stay as the
    source wrote them.
    """
    s = name.strip().lower()
    for _ in range(3):
        new = _ENTITY_SUFFIX.sub("", s).strip()
        if new == s or not new:
            break
        s = new
    return re.sub(r"[^a-z0-9]+", "", s) or name.strip().lower()


@dataclass(frozen=True, slots=True)
class Label:
    """One claim that ``address`` belongs to ``entity``; an address may carry many.

    ``case_id`` None means shared with everyone; otherwise only that case's members see it.
    ``valid`` False keeps a label that no longer holds (an OFAC delisting) with ``notes`` saying
    why, so a trace over older transactions can still explain what was known then.
    """

    chain: Chain
    address: str  # canonical form (fundtrace.core.addresses.normalize_address)
    entity: str
    category: Category
    source: str
    confidence: int = 50  # 0..100
    case_id: str | None = None
    created_by: str | None = None
    valid: bool = True
    notes: str = ""
    source_category: str | None = None  # the source's own term, e.g. "service_hack"
    as_of: str | None = None  # the date the source states (tagpack lastmod, SDN DateOfIssue)

    def __post_init__(self) -> None:
        if isinstance(self.confidence, bool) or not isinstance(self.confidence, int):
            raise ValueError(f"confidence must be an int 0..100, got {self.confidence!r}")
        if not 0 <= self.confidence <= 100:
            raise ValueError(f"confidence {self.confidence} outside 0..100")
        if not isinstance(self.category, Category):
            object.__setattr__(self, "category", parse_category(str(self.category)))
        if not isinstance(self.chain, Chain):
            object.__setattr__(self, "chain", Chain(self.chain))

    @property
    def key(self) -> tuple[str, str, str, str, str, str | None]:
        """Identity for idempotent imports: re-importing a file yields the same keys."""
        return (
            self.chain.value,
            self.address,
            self.entity,
            self.category.value,
            self.source,
            self.case_id,
        )

    def with_(self, **changes: object) -> Label:
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, object]:
        """The ``labels show --format json`` shape plus the provenance fields."""
        d = asdict(self)
        d["chain"] = self.chain.value
        d["category"] = self.category.value
        return d
