"""One address's history from an indexer, as a canonical Batch, per chain.

Bitcoin: Esplora (inputs carry their prevouts, so the walk can go backward too). Ethereum:
the Etherscan-compatible account API (normal, internal and token rows, joined by
``parse_etherscan``). Solana: ``getSignaturesForAddress`` then ``getTransaction`` per
signature. Histories come newest first where the API allows, so ``since`` stops paging early,
and ``max_txs`` caps a busy address (an exchange hot wallet would otherwise swamp a walk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from fundtrace.chains.btc.esplora import parse_esplora_txs
from fundtrace.chains.btc.network import MAINNET, Network
from fundtrace.chains.eth.etherscan import parse_etherscan
from fundtrace.chains.sol.rpc import parse_transaction
from fundtrace.clients.bitcoin import EsploraClient
from fundtrace.clients.ethereum import EtherscanClient
from fundtrace.clients.solana import SolanaRpc
from fundtrace.core.model import Batch, Chain


@dataclass(slots=True)
class History:
    batch: Batch
    truncated: bool = False
    """True when ``max_txs`` cut the history short."""


class AddressSource(Protocol):
    chain: Chain

    @property
    def url(self) -> str: ...

    def history(self, address: str, *, since: int | None) -> History: ...

    def close(self) -> None: ...


class EsploraSource:
    chain = Chain.BTC

    def __init__(
        self, client: EsploraClient, *, network: Network = MAINNET, max_txs: int = 1000
    ) -> None:
        self.client = client
        self.network = network
        self.max_txs = max_txs

    @property
    def url(self) -> str:
        return self.client.url

    def close(self) -> None:
        self.client.close()

    def history(self, address: str, *, since: int | None) -> History:
        txs: list[dict[str, Any]] = []
        truncated = False
        for tx in self.client.iter_address_txs(address, include_mempool=False):
            block_time = (tx.get("status") or {}).get("block_time")
            if since is not None and isinstance(block_time, int) and block_time < since:
                break  # newest first: everything after this is older still
            if len(txs) >= self.max_txs:
                truncated = True
                break
            txs.append(tx)
        source = f"{self.url} /address/{address}/txs"
        return History(parse_esplora_txs(txs, network=self.network, source=source), truncated)


ETHERSCAN_ACTIONS = ("txlist", "txlistinternal", "tokentx")


class EtherscanSource:
    chain = Chain.ETH

    def __init__(self, client: EtherscanClient, *, max_txs: int = 1000) -> None:
        self.client = client
        self.max_txs = max_txs

    @property
    def url(self) -> str:
        return self.client.url

    def close(self) -> None:
        self.client.close()

    def history(self, address: str, *, since: int | None) -> History:
        bodies: list[tuple[str | None, object]] = []
        truncated = False
        for action in ETHERSCAN_ACTIONS:
            rows = []
            for row in self.client.iter_account(action, address):
                stamp = row.get("timeStamp")
                if since is not None and str(stamp).isdigit() and int(stamp) < since:
                    continue  # the account API pages oldest first
                if len(rows) >= self.max_txs:
                    truncated = True
                    break
                rows.append(row)
            body = (
                {"status": "1", "message": "OK", "result": rows}
                if rows
                else {"status": "0", "message": "No transactions found", "result": []}
            )
            bodies.append((f"{self.url} {action} {address}", body))
        return History(parse_etherscan(bodies), truncated)


class SolanaSource:
    chain = Chain.SOL

    def __init__(self, client: SolanaRpc, *, max_txs: int = 1000) -> None:
        self.client = client
        self.max_txs = max_txs

    @property
    def url(self) -> str:
        return self.client.url

    def close(self) -> None:
        self.client.close()

    def history(self, address: str, *, since: int | None) -> History:
        signatures: list[str] = []
        truncated = False
        for entry in self.client.iter_signatures_for_address(address):
            block_time = entry.get("blockTime")
            if since is not None and isinstance(block_time, int) and block_time < since:
                break  # newest first
            if len(signatures) >= self.max_txs:
                truncated = True
                break
            signatures.append(entry["signature"])
        batch = Batch(Chain.SOL)
        for sig in signatures:
            result = self.client.get_transaction(sig)
            if result is None:
                batch.warnings.append(f"sol {sig}: getTransaction returned null (not finalized?)")
                continue
            batch.extend(parse_transaction(result, source=self.url, record=sig))
        return History(batch, truncated)
