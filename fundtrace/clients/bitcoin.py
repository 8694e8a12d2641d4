"""Bitcoin Core JSON-RPC and Esplora REST, returning the raw JSON for the BTC parser.

Amounts in Bitcoin Core JSON are floats in BTC; the HTTP layer decodes them as ``Decimal`` so
the parser can convert them exactly with ``btc_to_sat``. Esplora reports satoshi integers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from fundtrace.clients.errors import MalformedResponseError, RpcError
from fundtrace.clients.http import (
    DEFAULT_RETRYABLE_RPC_CODES,
    Endpoint,
    HttpClient,
    JsonRpcClient,
)

log = logging.getLogger("fundtrace.clients.bitcoin")

RPC_IN_WARMUP = -28
"""bitcoind is still loading its block index: wait, do not fail the run."""
BITCOIN_RETRYABLE_CODES = DEFAULT_RETRYABLE_RPC_CODES | {RPC_IN_WARMUP}
# What nodes that predate verbosity 3 answer when given it: invalid parameter (-8), type
# errors (-1 / -3: "JSON value is not a boolean") or the JSON-RPC 2.0 invalid-params code.
_VERBOSITY_REJECTED = frozenset({-1, -3, -8, -32602})

_KIND_LABEL = {"int": "an integer", "hash": "a 64-hex-digit block hash"}

ESPLORA_PAGE = 25
"""Esplora's fixed page size for block transactions and confirmed address history."""


def block_has_prevouts(block: Mapping[str, Any]) -> bool | None:
    """Whether a verbose block carries ``prevout`` on its inputs (verbosity 3).

    None when the block has only coinbase inputs, so nothing can be told. Nodes before v23
    accept verbosity 3 but silently answer at level 2, so the answer, not the request, decides.
    """
    for tx in block.get("tx", ()):
        if not isinstance(tx, Mapping):
            return False  # verbosity 1: txids only
        for vin in tx.get("vin", ()):
            if "coinbase" in vin:
                continue
            return "prevout" in vin
    return None


class BitcoinRpc:
    """Bitcoin Core (or a fork with the same RPC, e.g. litecoind) over JSON-RPC."""

    def __init__(self, rpc: JsonRpcClient) -> None:
        self.rpc = rpc
        self.max_verbosity = 3
        """Lowered to 2 once the node shows it cannot return prevouts."""

    @classmethod
    def from_url(cls, url: str | Endpoint, **http_options: Any) -> BitcoinRpc:
        return cls(
            JsonRpcClient(HttpClient(url, **http_options), retryable_codes=BITCOIN_RETRYABLE_CODES)
        )

    @classmethod
    def from_env(
        cls,
        var: str = "FUNDTRACE_BTC_RPC_URL",
        *,
        environ: Mapping[str, str] | None = None,
        **http_options: Any,
    ) -> BitcoinRpc:
        """From e.g. ``FUNDTRACE_BTC_RPC_URL=http://user:pass@127.0.0.1:8332``."""
        return cls.from_url(Endpoint.from_env(var, environ=environ), **http_options)

    @property
    def url(self) -> str:
        return self.rpc.url

    def close(self) -> None:
        self.rpc.close()

    def getblockcount(self) -> int:
        return self.rpc.call("getblockcount")

    def getbestblockhash(self) -> str:
        return self.rpc.call("getbestblockhash")

    def getblockhash(self, height: int) -> str:
        return self.rpc.call("getblockhash", [height])

    def getblockheader(self, block_hash: str) -> dict[str, Any]:
        return self.rpc.call("getblockheader", [block_hash, True])

    def getblock(self, block_hash: str, verbosity: int = 3) -> dict[str, Any]:
        """The block at ``verbosity`` (3 = with prevouts), falling back to 2 on older nodes.

        Check ``block_has_prevouts`` (or ``max_verbosity``) to know which level came back: a
        level-2 block needs its spent outputs looked up separately.
        """
        if verbosity >= 3 and self.max_verbosity >= 3:
            try:
                block = self.rpc.call("getblock", [block_hash, 3])
            except RpcError as exc:
                if exc.code not in _VERBOSITY_REJECTED:
                    raise
                log.info("%s: getblock verbosity 3 rejected (%s); using 2", self.url, exc.code)
                self.max_verbosity = 2
            else:
                if block_has_prevouts(block) is False:
                    log.info("%s: node ignores getblock verbosity 3; using 2", self.url)
                    self.max_verbosity = 2
                return block
        return self.rpc.call("getblock", [block_hash, min(verbosity, self.max_verbosity)])

    def getrawtransaction(
        self, txid: str, verbose: bool = True, blockhash: str | None = None
    ) -> dict[str, Any] | str:
        """Needs ``-txindex`` on the node unless ``blockhash`` is given."""
        params: list[Any] = [txid, verbose]
        if blockhash is not None:
            params.append(blockhash)
        return self.rpc.call("getrawtransaction", params)


class EsploraClient:
    """Esplora / mempool.space REST API (Blockstream's indexer), with its paging rules."""

    def __init__(self, http: HttpClient, *, page_size: int = ESPLORA_PAGE) -> None:
        self.http = http
        self.page_size = page_size

    @classmethod
    def from_url(cls, url: str | Endpoint, **http_options: Any) -> EsploraClient:
        return cls(HttpClient(url, **http_options))

    @classmethod
    def from_env(
        cls,
        var: str = "FUNDTRACE_BTC_ESPLORA_URL",
        *,
        environ: Mapping[str, str] | None = None,
        **http_options: Any,
    ) -> EsploraClient:
        return cls.from_url(Endpoint.from_env(var, environ=environ), **http_options)

    @property
    def url(self) -> str:
        return self.http.url

    def close(self) -> None:
        self.http.close()

    def _text(self, path: str, *, kind: str) -> str:
        def parse(resp: httpx.Response) -> str:
            text = resp.text.strip()
            ok = text.isdigit() if kind == "int" else (len(text) == 64 and _is_hex(text))
            if not ok:
                raise MalformedResponseError(f"expected {_KIND_LABEL[kind]}, got {text[:80]!r}")
            return text

        return self.http.request("GET", path, parse=parse)

    def tip_height(self) -> int:
        return int(self._text("/blocks/tip/height", kind="int"))

    def tip_hash(self) -> str:
        return self._text("/blocks/tip/hash", kind="hash")

    def block_hash(self, height: int) -> str:
        return self._text(f"/block-height/{int(height)}", kind="hash")

    def block(self, block_hash: str) -> dict[str, Any]:
        return self.http.get_json(f"/block/{block_hash}")

    def block_txs_page(self, block_hash: str, start_index: int) -> list[dict[str, Any]]:
        page = self.http.get_json(f"/block/{block_hash}/txs/{int(start_index)}")
        if not isinstance(page, list):
            raise MalformedResponseError(f"block txs page is {type(page).__name__}, not a list").at(
                url=self.url, request=f"GET /block/{block_hash}/txs/{start_index}"
            )
        return page

    def iter_block_txs(
        self, block_hash: str, tx_count: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every transaction of the block, in block order, 25 per request.

        ``tx_count`` (from ``block()``) bounds the paging: Esplora answers an out-of-range
        start index with an error, not an empty page.
        """
        if tx_count is None:
            tx_count = int(self.block(block_hash)["tx_count"])
        for start in range(0, tx_count, self.page_size):
            page = self.block_txs_page(block_hash, start)
            expected = min(self.page_size, tx_count - start)
            if len(page) != expected:
                raise MalformedResponseError(
                    f"block txs page at {start} has {len(page)} transactions, expected {expected}"
                ).at(url=self.url, request=f"GET /block/{block_hash}/txs/{start}")
            yield from page

    def block_txs(self, block_hash: str, tx_count: int | None = None) -> list[dict[str, Any]]:
        return list(self.iter_block_txs(block_hash, tx_count))

    def tx(self, txid: str) -> dict[str, Any]:
        return self.http.get_json(f"/tx/{txid}")

    def tx_outspends(self, txid: str) -> list[dict[str, Any]]:
        """Which transaction spent each output: the forward step of a UTXO trace."""
        return self.http.get_json(f"/tx/{txid}/outspends")

    def iter_address_txs(
        self, address: str, *, include_mempool: bool = True
    ) -> Iterator[dict[str, Any]]:
        """The address's history, newest first: mempool, then confirmed pages of 25.

        The first request returns unconfirmed transactions plus the newest confirmed page;
        later pages continue after the last confirmed txid seen. A transaction that confirms
        while paging can show up twice and is yielded once.
        """
        seen: set[str] = set()
        path = f"/address/{address}/txs"
        while True:
            page = self.http.get_json(path)
            if not isinstance(page, list):
                raise MalformedResponseError(
                    f"address txs page is {type(page).__name__}, not a list"
                ).at(url=self.url, request=f"GET {path}")
            confirmed = [t for t in page if (t.get("status") or {}).get("confirmed")]
            new = 0
            for tx in page:
                txid = tx.get("txid")
                if txid in seen:
                    continue
                seen.add(txid)
                new += 1
                if include_mempool or (tx.get("status") or {}).get("confirmed"):
                    yield tx
            if len(confirmed) < self.page_size:
                return
            if new == 0:
                raise MalformedResponseError(
                    "address paging did not advance (server ignored last_seen_txid)"
                ).at(url=self.url, request=f"GET {path}")
            path = f"/address/{address}/txs/chain/{confirmed[-1]['txid']}"


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True
