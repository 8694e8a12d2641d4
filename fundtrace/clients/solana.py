"""Solana JSON-RPC: blocks by slot, transactions, and address history paging.

Skipped slots are normal on Solana (a leader missed its slot); the RPC reports them as errors
-32007 / -32009, which would abort a range collection if treated as failures, so they come
back as ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fundtrace.clients.errors import MalformedResponseError, RpcError
from fundtrace.clients.http import Endpoint, HttpClient, JsonRpcClient

SLOT_SKIPPED = -32007
"""Slot was skipped, or missing due to a ledger jump to a recent snapshot."""
LONG_TERM_STORAGE_SLOT_SKIPPED = -32009
"""Slot was skipped, or missing in long-term storage (BigTable)."""
SKIPPED_SLOT_CODES = frozenset({SLOT_SKIPPED, LONG_TERM_STORAGE_SLOT_SKIPPED})

MAX_SIGNATURES_PAGE = 1000
"""The largest ``limit`` getSignaturesForAddress accepts."""


class SolanaRpc:
    def __init__(self, rpc: JsonRpcClient, *, commitment: str = "finalized") -> None:
        self.rpc = rpc
        self.commitment = commitment

    @classmethod
    def from_url(
        cls, url: str | Endpoint, *, commitment: str = "finalized", **http_options: Any
    ) -> SolanaRpc:
        return cls(JsonRpcClient(HttpClient(url, **http_options)), commitment=commitment)

    @classmethod
    def from_env(
        cls,
        var: str = "FUNDTRACE_SOL_RPC_URL",
        *,
        environ: Mapping[str, str] | None = None,
        commitment: str = "finalized",
        **http_options: Any,
    ) -> SolanaRpc:
        """From e.g. ``FUNDTRACE_SOL_RPC_URL=https://mainnet.helius-rpc.com/?api-key=...``."""
        return cls.from_url(
            Endpoint.from_env(var, environ=environ), commitment=commitment, **http_options
        )

    @property
    def url(self) -> str:
        return self.rpc.url

    def close(self) -> None:
        self.rpc.close()

    def get_slot(self) -> int:
        return self.rpc.call("getSlot", [{"commitment": self.commitment}])

    def get_blocks(self, start_slot: int, end_slot: int) -> list[int]:
        """Slots in [start, end] that have a block (at most 500,000 apart per the RPC)."""
        return self.rpc.call("getBlocks", [start_slot, end_slot, {"commitment": self.commitment}])

    def get_block(
        self,
        slot: int,
        *,
        encoding: str = "jsonParsed",
        transaction_details: str = "full",
        rewards: bool = True,
    ) -> dict[str, Any] | None:
        """The block at ``slot`` with full transactions (v0 included), or None if skipped."""
        config = {
            "encoding": encoding,
            "maxSupportedTransactionVersion": 0,
            "transactionDetails": transaction_details,
            "rewards": rewards,
            "commitment": self.commitment,
        }
        try:
            return self.rpc.call("getBlock", [slot, config])
        except RpcError as exc:
            if exc.code in SKIPPED_SLOT_CODES:
                return None
            raise

    def get_transaction(
        self, signature: str, *, encoding: str = "jsonParsed"
    ) -> dict[str, Any] | None:
        """None when the node does not know the signature (or it is not yet finalized)."""
        config = {
            "encoding": encoding,
            "maxSupportedTransactionVersion": 0,
            "commitment": self.commitment,
        }
        return self.rpc.call("getTransaction", [signature, config])

    def get_signatures_for_address(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = MAX_SIGNATURES_PAGE,
    ) -> list[dict[str, Any]]:
        """One page, newest first: signatures older than ``before``, newer than ``until``."""
        config: dict[str, Any] = {"limit": limit, "commitment": self.commitment}
        if before is not None:
            config["before"] = before
        if until is not None:
            config["until"] = until
        page = self.rpc.call("getSignaturesForAddress", [address, config])
        if not isinstance(page, list):
            raise MalformedResponseError(
                f"getSignaturesForAddress returned {type(page).__name__}, not a list"
            ).at(url=self.url, request=f"getSignaturesForAddress {address}")
        return page

    def iter_signatures_for_address(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        page_limit: int = MAX_SIGNATURES_PAGE,
    ) -> Iterator[dict[str, Any]]:
        """The address's whole history (newest first) from ``before`` back to ``until``.

        Pages are chained on the last signature, never on slot: several transactions share a
        slot. A short page ends the history. ``until`` is enforced here too (exclusive), so a
        server that ignores it cannot make the walk run past a checkpoint.
        """
        if not 1 <= page_limit <= MAX_SIGNATURES_PAGE:
            raise ValueError(f"page_limit must be 1..{MAX_SIGNATURES_PAGE}, got {page_limit}")
        seen: set[str] = set()
        cursor = before
        last_slot: int | None = None
        while True:
            page = self.get_signatures_for_address(
                address, before=cursor, until=until, limit=page_limit
            )
            for entry in page:
                signature = entry.get("signature") if isinstance(entry, dict) else None
                if not isinstance(signature, str):
                    raise MalformedResponseError(
                        "getSignaturesForAddress entry has no signature"
                    ).at(url=self.url, request=f"getSignaturesForAddress {address}")
                if until is not None and signature == until:
                    return
                slot = entry.get("slot")
                if signature in seen or (
                    isinstance(slot, int) and last_slot is not None and slot > last_slot
                ):
                    raise MalformedResponseError(
                        f"getSignaturesForAddress paging went backwards at {signature}"
                    ).at(url=self.url, request=f"getSignaturesForAddress {address} before={cursor}")
                seen.add(signature)
                if isinstance(slot, int):
                    last_slot = slot
                yield entry
            if len(page) < page_limit:
                return
            cursor = page[-1]["signature"]
