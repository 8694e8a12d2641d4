"""Ethereum node JSON-RPC and the Etherscan-compatible account API.

Nodes differ in what they expose: ``eth_getBlockReceipts`` and ``trace_block`` are missing on
some clients and providers, so each has a fallback that yields the same information
(per-transaction receipts in one batch; geth's ``callTracer``). The fallbacks are remembered
per client so a long range does not pay for a failed call on every block.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fundtrace.clients.errors import (
    IndexerError,
    MalformedResponseError,
    RetryableResponse,
    RpcError,
)
from fundtrace.clients.http import Endpoint, HttpClient, JsonRpcClient, secret_from_env

log = logging.getLogger("fundtrace.clients.ethereum")

BlockId = int | str
"""A block number, or a tag such as ``"latest"`` / ``"finalized"``."""

# ERC-20 metadata selectors: name(), symbol(), decimals().
ERC20_SELECTORS = {"name": "0x06fdde03", "symbol": "0x95d89b41", "decimals": "0x313ce567"}

_UNSUPPORTED_CODES = frozenset({-32601, -32604})
_UNSUPPORTED_WORDS = (
    "not supported",
    "does not exist",
    "not found",
    "unsupported",
    "not available",
)
_LOG_RANGE_WORDS = (
    "more than",
    "too many",
    "range",
    "limit exceeded",
    "response size",
    "query returned",
    "exceed",
)


def block_tag(block: BlockId) -> str:
    if isinstance(block, bool):
        raise TypeError("block must be an int or a tag")
    if isinstance(block, int):
        if block < 0:
            raise ValueError(f"block number must be non-negative, got {block}")
        return hex(block)
    return block


def method_unsupported(exc: RpcError) -> bool:
    """Whether an RPC error says the *method* is unavailable (so a fallback should be used)."""
    if exc.code in _UNSUPPORTED_CODES:
        return True
    text = exc.rpc_message.lower()
    return "method" in text and any(w in text for w in _UNSUPPORTED_WORDS)


@dataclass(frozen=True)
class BlockTraces:
    """A block's call traces in the style the node produced them.

    ``parity``: ``trace_block`` output, a flat list of ``{action, result, traceAddress,
    transactionHash, type, error?}``. ``callTracer``: ``debug_traceBlockByNumber`` output, one
    ``{txHash, result: <call tree>}`` per transaction (``txHash`` may be absent on old geth;
    the order is the block's transaction order).
    """

    style: Literal["parity", "callTracer"]
    traces: list[Any]


class EthereumRpc:
    def __init__(self, rpc: JsonRpcClient) -> None:
        self.rpc = rpc
        self.block_receipts_supported: bool | None = None
        self.trace_block_supported: bool | None = None

    @classmethod
    def from_url(
        cls, url: str | Endpoint, *, max_batch_size: int = 100, **http_options: Any
    ) -> EthereumRpc:
        return cls(JsonRpcClient(HttpClient(url, **http_options), max_batch_size=max_batch_size))

    @classmethod
    def from_env(
        cls,
        var: str = "FUNDTRACE_ETH_RPC_URL",
        *,
        environ: Mapping[str, str] | None = None,
        **http_options: Any,
    ) -> EthereumRpc:
        """From e.g. ``FUNDTRACE_ETH_RPC_URL=https://mainnet.infura.io/v3/<key>``."""
        return cls.from_url(Endpoint.from_env(var, environ=environ), **http_options)

    @property
    def url(self) -> str:
        return self.rpc.url

    def close(self) -> None:
        self.rpc.close()

    def block_number(self) -> int:
        return _quantity(self.rpc.call("eth_blockNumber"), "eth_blockNumber")

    def chain_id(self) -> int:
        return _quantity(self.rpc.call("eth_chainId"), "eth_chainId")

    def get_block(self, block: BlockId, *, full: bool = True) -> dict[str, Any] | None:
        """``eth_getBlockByNumber``; None for a block the node does not have (yet)."""
        return self.rpc.call("eth_getBlockByNumber", [block_tag(block), full])

    def get_transaction_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.rpc.call("eth_getTransactionReceipt", [tx_hash])

    def get_block_receipts(
        self, block: BlockId, tx_hashes: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """All receipts of a block, in transaction order.

        ``tx_hashes`` (from a block already fetched) saves a request on the fallback path.
        """
        if self.block_receipts_supported is not False:
            try:
                receipts = self.rpc.call("eth_getBlockReceipts", [block_tag(block)])
            except RpcError as exc:
                if not method_unsupported(exc):
                    raise
                log.info("%s: eth_getBlockReceipts unavailable; batching receipts", self.url)
                self.block_receipts_supported = False
            else:
                self.block_receipts_supported = True
                if receipts is None:
                    raise MalformedResponseError(f"node has no receipts for block {block}").at(
                        url=self.url, request=f"eth_getBlockReceipts {block_tag(block)}"
                    )
                return receipts
        if tx_hashes is None:
            blk = self.get_block(block, full=False)
            if blk is None:
                raise MalformedResponseError(f"node has no block {block}").at(
                    url=self.url, request=f"eth_getBlockByNumber {block_tag(block)}"
                )
            tx_hashes = [t if isinstance(t, str) else t["hash"] for t in blk["transactions"]]
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        for h, r in zip(tx_hashes, receipts, strict=True):
            if r is None:
                raise MalformedResponseError(f"node has no receipt for {h}").at(
                    url=self.url, request=f"eth_getTransactionReceipt {h}"
                )
        return receipts

    def trace_block(self, block: BlockId) -> BlockTraces:
        """Call traces for internal transfers: ``trace_block``, else geth's callTracer."""
        tag = block_tag(block)
        if self.trace_block_supported is not False:
            try:
                traces = self.rpc.call("trace_block", [tag])
            except RpcError as exc:
                if not method_unsupported(exc):
                    raise
                log.info("%s: trace_block unavailable; using debug_traceBlockByNumber", self.url)
                self.trace_block_supported = False
            else:
                self.trace_block_supported = True
                return BlockTraces("parity", traces or [])
        traces = self.rpc.call("debug_traceBlockByNumber", [tag, {"tracer": "callTracer"}])
        return BlockTraces("callTracer", traces or [])

    def get_logs(
        self,
        from_block: int,
        to_block: int,
        *,
        address: str | Sequence[str] | None = None,
        topics: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """``eth_getLogs`` over [from, to], halving the range when the provider refuses its size."""
        if from_block > to_block:
            return []
        flt: dict[str, Any] = {"fromBlock": hex(from_block), "toBlock": hex(to_block)}
        if address is not None:
            flt["address"] = address if isinstance(address, str) else list(address)
        if topics is not None:
            flt["topics"] = list(topics)
        try:
            return self.rpc.call("eth_getLogs", [flt])
        except RpcError as exc:
            text = exc.rpc_message.lower()
            if from_block == to_block or not any(w in text for w in _LOG_RANGE_WORDS):
                raise
            mid = (from_block + to_block) // 2
            log.info("%s: eth_getLogs %d-%d too large; splitting", self.url, from_block, to_block)
            return self.get_logs(from_block, mid, address=address, topics=topics) + self.get_logs(
                mid + 1, to_block, address=address, topics=topics
            )

    def eth_call(self, to: str, data: str, block: BlockId = "latest") -> str:
        return self.rpc.call("eth_call", [{"to": to, "data": data}, block_tag(block)])

    def erc20_metadata(self, token: str, block: BlockId = "latest") -> dict[str, str | None]:
        """Raw ABI return data of name(), symbol(), decimals() in one batch.

        A call that reverts (tokens that omit optional metadata) gives None rather than an
        error; decoding, including bytes32 names of early tokens, is the parser's job.
        """
        tag = block_tag(block)
        fields = list(ERC20_SELECTORS)
        results = self.rpc.batch(
            [("eth_call", [{"to": token, "data": ERC20_SELECTORS[f]}, tag]) for f in fields],
            return_errors=True,
        )
        out: dict[str, str | None] = {}
        for f, r in zip(fields, results, strict=True):
            out[f] = None if isinstance(r, RpcError) or r in (None, "0x") else r
        return out


def _quantity(value: object, what: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise MalformedResponseError(f"{what} returned {value!r}, not a hex quantity")


# -- Etherscan-compatible account API -------------------------------------------------------

ETHERSCAN_DEFAULT_URL = "https://api.etherscan.io/v2/api"
ETHERSCAN_MAX_RESULTS = 10_000
"""Etherscan refuses page * offset beyond this: the window must move instead."""
ACCOUNT_ACTIONS = frozenset({"txlist", "tokentx", "txlistinternal", "tokennfttx", "token1155tx"})
_EMPTY_MESSAGES = ("no transactions found", "no records found", "no token transfers found")
_RETRY_WORDS = ("rate limit", "max calls per sec", "too many requests", "query timeout", "busy")


class EtherscanClient:
    """Account history from Etherscan (or a compatible explorer: Blockscout, Routescan...)."""

    def __init__(
        self,
        http: HttpClient,
        *,
        api_key: str | None = None,
        chain_id: int | None = 1,
        page_size: int = 1000,
        max_results: int = ETHERSCAN_MAX_RESULTS,
    ) -> None:
        if not 1 <= page_size <= max_results:
            raise ValueError("page_size must be between 1 and max_results")
        self.http = http
        self.api_key = api_key
        self.chain_id = chain_id
        self.page_size = page_size
        self.max_results = max_results

    @classmethod
    def from_url(
        cls,
        url: str | Endpoint = ETHERSCAN_DEFAULT_URL,
        *,
        api_key: str | None = None,
        chain_id: int | None = 1,
        page_size: int = 1000,
        max_results: int = ETHERSCAN_MAX_RESULTS,
        rate_limit: float | None = 4.0,
        **http_options: Any,
    ) -> EtherscanClient:
        """The default rate stays under the free tier's 5 calls/s."""
        http = HttpClient(
            url, rate_limit=rate_limit, secrets=[api_key] if api_key else (), **http_options
        )
        return cls(
            http,
            api_key=api_key,
            chain_id=chain_id,
            page_size=page_size,
            max_results=max_results,
        )

    @classmethod
    def from_env(
        cls,
        url_var: str = "FUNDTRACE_ETHERSCAN_URL",
        key_var: str = "FUNDTRACE_ETHERSCAN_API_KEY",
        *,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> EtherscanClient:
        api_key = secret_from_env(key_var, environ=environ)
        endpoint = Endpoint.from_env(
            url_var,
            default=ETHERSCAN_DEFAULT_URL,
            environ=environ,
            secrets=[api_key] if api_key else (),
        )
        return cls.from_url(endpoint, api_key=api_key, **options)

    @property
    def url(self) -> str:
        return self.http.url

    def close(self) -> None:
        self.http.close()

    def _check(self, payload: Any) -> list[dict[str, Any]]:
        if not isinstance(payload, dict) or "status" not in payload:
            raise MalformedResponseError("expected an Etherscan {status, message, result} object")
        status = str(payload["status"])
        message = str(payload.get("message", ""))
        result = payload.get("result")
        if status == "1":
            if not isinstance(result, list):
                raise MalformedResponseError(f"result is {type(result).__name__}, not a list")
            return result
        detail = result if isinstance(result, str) else ""
        text = f"{message} {detail}".lower()
        if result == [] or any(m in text for m in _EMPTY_MESSAGES):
            return []
        if any(w in text for w in _RETRY_WORDS):
            raise RetryableResponse(IndexerError(f"rate limited: {message}: {detail}".strip()))
        raise IndexerError(f"Etherscan error: {message}: {detail}".strip())

    def account_page(
        self,
        action: str,
        address: str,
        *,
        start_block: int = 0,
        end_block: int = 99_999_999,
        page: int = 1,
        offset: int | None = None,
        sort: str = "asc",
    ) -> list[dict[str, Any]]:
        """One page of ``module=account&action=...``; an empty history is an empty list."""
        if action not in ACCOUNT_ACTIONS:
            raise ValueError(f"unknown account action {action!r}")
        params: dict[str, Any] = {}
        if self.chain_id is not None:
            params["chainid"] = self.chain_id
        params.update(
            module="account",
            action=action,
            address=address,
            startblock=start_block,
            endblock=end_block,
            page=page,
            offset=offset or self.page_size,
            sort=sort,
        )
        if self.api_key:
            params["apikey"] = self.api_key
        return self.http.get_json("", params, check=self._check)

    def iter_account(
        self,
        action: str,
        address: str,
        *,
        start_block: int = 0,
        end_block: int = 99_999_999,
    ) -> Iterator[dict[str, Any]]:
        """Every row for the address in [start_block, end_block], oldest first.

        Pages until a short page. When page * offset reaches the result cap, a new window
        starts at the last block seen (that block may be split across the two windows, so
        rows of it already yielded are skipped).
        """
        max_pages = self.max_results // self.page_size
        window_start = start_block
        boundary: set[tuple[tuple[str, str], ...]] = set()
        while True:
            last_block: int | None = None
            last_block_rows: set[tuple[tuple[str, str], ...]] = set()
            for page in range(1, max_pages + 1):
                rows = self.account_page(
                    action, address, start_block=window_start, end_block=end_block, page=page
                )
                for row in rows:
                    key = _row_key(row)
                    block = int(row["blockNumber"])
                    if block == window_start and key in boundary:
                        continue
                    if block != last_block:
                        last_block, last_block_rows = block, set()
                    last_block_rows.add(key)
                    yield row
                if len(rows) < self.page_size:
                    return
            if last_block is None or last_block == window_start:
                raise IndexerError(
                    f"more than {self.max_results} {action} rows in block {window_start}; "
                    "the account API cannot page further"
                ).at(url=self.url, request=f"{action} {address} startblock={window_start}")
            window_start = last_block
            boundary = last_block_rows

    def iter_txlist(self, address: str, **window: int) -> Iterator[dict[str, Any]]:
        return self.iter_account("txlist", address, **window)

    def iter_tokentx(self, address: str, **window: int) -> Iterator[dict[str, Any]]:
        return self.iter_account("tokentx", address, **window)

    def iter_txlistinternal(self, address: str, **window: int) -> Iterator[dict[str, Any]]:
        return self.iter_account("txlistinternal", address, **window)


def _row_key(row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    # "confirmations" grows between requests; every other field identifies the row.
    return tuple(sorted((k, str(v)) for k, v in row.items() if k != "confirmations"))
