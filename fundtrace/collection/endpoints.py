"""Building fetchers and address sources from CLI options and the environment.

URLs given on the command line win; otherwise ``FUNDTRACE_<CHAIN>_RPC_URL`` and friends are
read, so API keys need not appear in shell history. The clients redact them in every message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fundtrace.chains.btc.network import network_by_name
from fundtrace.clients.bitcoin import BitcoinRpc, EsploraClient
from fundtrace.clients.errors import ConfigError
from fundtrace.clients.ethereum import EthereumRpc, EtherscanClient
from fundtrace.clients.http import Endpoint
from fundtrace.clients.solana import SolanaRpc
from fundtrace.collection.address_sources import (
    AddressSource,
    EsploraSource,
    EtherscanSource,
    SolanaSource,
)
from fundtrace.collection.blocks_btc import BtcBlockFetcher
from fundtrace.collection.blocks_eth import EthBlockFetcher
from fundtrace.collection.blocks_sol import SolBlockFetcher
from fundtrace.collection.errors import CollectionError
from fundtrace.collection.fetched import BlockFetcher
from fundtrace.core.model import Chain

RPC_ENV = {
    Chain.BTC: "FUNDTRACE_BTC_RPC_URL",
    Chain.ETH: "FUNDTRACE_ETH_RPC_URL",
    Chain.SOL: "FUNDTRACE_SOL_RPC_URL",
}


def _endpoint(url: str | None, var: str, what: str) -> Endpoint:
    if url:
        return Endpoint.parse(url, what=what)
    try:
        return Endpoint.from_env(var)
    except ConfigError as exc:
        raise ConfigError(f"give {what} or set {var}") from exc


def block_fetcher(
    chain: Chain,
    rpc_url: str | None,
    *,
    network: str = "mainnet",
    http: dict[str, Any] | None = None,
) -> BlockFetcher:
    """The chain's block fetcher on ``rpc_url`` (or ``$FUNDTRACE_<CHAIN>_RPC_URL``)."""
    endpoint = _endpoint(rpc_url, RPC_ENV[chain], "--rpc-url")
    opts = http or {}
    if chain is Chain.BTC:
        try:
            net = network_by_name(network)
        except ValueError as exc:
            raise CollectionError(str(exc)) from None
        return BtcBlockFetcher(BitcoinRpc.from_url(endpoint, **opts), network=net)
    if chain is Chain.ETH:
        return EthBlockFetcher(EthereumRpc.from_url(endpoint, **opts))
    return SolBlockFetcher(SolanaRpc.from_url(endpoint, **opts))


def address_source(
    chain: Chain,
    *,
    rpc_url: str | None = None,
    esplora_url: str | None = None,
    etherscan_url: str | None = None,
    network: str = "mainnet",
    http: dict[str, Any] | None = None,
    max_txs: int = 1000,
) -> AddressSource:
    opts = http or {}
    if chain is Chain.BTC:
        try:
            net = network_by_name(network)
        except ValueError as exc:
            raise CollectionError(str(exc)) from None
        endpoint = _endpoint(esplora_url, "FUNDTRACE_BTC_ESPLORA_URL", "--esplora-url")
        return EsploraSource(EsploraClient.from_url(endpoint, **opts), network=net, max_txs=max_txs)
    if chain is Chain.ETH:
        if etherscan_url:
            from fundtrace.clients.http import secret_from_env

            key = secret_from_env("FUNDTRACE_ETHERSCAN_API_KEY")
            client = EtherscanClient.from_url(
                Endpoint.parse(etherscan_url, secrets=[key] if key else (), what="--etherscan-url"),
                api_key=key,
                **opts,
            )
        else:
            client = EtherscanClient.from_env(**opts)
        return EtherscanSource(client, max_txs=max_txs)
    endpoint = _endpoint(rpc_url, RPC_ENV[Chain.SOL], "--rpc-url")
    return SolanaSource(SolanaRpc.from_url(endpoint, **opts), max_txs=max_txs)


def parse_since(value: str | None) -> int | None:
    """``--since``: unix seconds, or an ISO date/time (UTC unless it says otherwise)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CollectionError(
            f"--since {value!r} is neither unix seconds nor an ISO date/time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())
