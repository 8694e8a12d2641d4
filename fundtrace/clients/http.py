"""The one HTTP layer every chain client goes through: retries, pacing, redaction, JSON-RPC.

Why one layer: a collection run talks to bitcoind, Esplora, an Ethereum node, Etherscan and a
Solana RPC, and each misbehaves in the same few ways (429 with Retry-After, 5xx during
restarts, truncated bodies from proxies, hangs). Handling those once means every chain gets the
same bounded retries, the same rate limit, and the same guarantee that a key in the URL never
reaches a message or a log line.

JSON is decoded with ``parse_float=Decimal``: Bitcoin Core reports amounts as JSON floats, and
money must stay exact. Integers stay ``int``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpx

from fundtrace.clients.errors import (
    ClientError,
    ConfigError,
    HttpStatusError,
    MalformedResponseError,
    RetryableResponse,
    RpcError,
    TransportError,
)
from fundtrace.clients.ratelimit import TokenBucket
from fundtrace.clients.redact import Scrubber, guard_third_party_logs, one_line, split_secrets
from fundtrace.clients.retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after

log = logging.getLogger("fundtrace.clients.http")

T = TypeVar("T")

REQUEST_DESCRIPTION_LIMIT = 240
# 500 is also how bitcoind (legacy JSON-RPC) reports an ordinary RPC error, so its body is read
# first; these statuses are retried whatever the body says.
_TRANSIENT_STATUS = RETRYABLE_STATUS - {500}
DEFAULT_RETRYABLE_RPC_CODES = frozenset({429, -32005})
"""JSON-RPC codes that mean "slow down / not now": 429 (Alchemy and others), -32005 (geth
"limit exceeded", Solana "node is behind")."""


@dataclass(frozen=True)
class Endpoint:
    """A base URL with its credentials separated out, and the secrets to scrub from text."""

    url: str
    """The URL requests go to, without userinfo (credentials travel as basic auth)."""
    redacted: str
    """What messages and logs show."""
    auth: tuple[str, str] | None = None
    secrets: tuple[str, ...] = ()

    @classmethod
    def parse(cls, url: str, *, secrets: Iterable[str] = (), what: str = "URL") -> Endpoint:
        url = url.strip()
        redacted, found = split_secrets(url)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{what} must be an http(s) URL with a host, got {redacted!r}")
        auth = None
        bare = url
        if "@" in parts.netloc:
            userinfo, _, hostport = parts.netloc.rpartition("@")
            user, _, password = userinfo.partition(":")
            auth = (unquote(user), unquote(password))
            bare = parts._replace(netloc=hostport).geturl()
        return cls(
            url=bare,
            redacted=redacted,
            auth=auth,
            secrets=tuple(dict.fromkeys([*found, *(s for s in secrets if s)])),
        )

    @classmethod
    def from_env(
        cls,
        var: str,
        *,
        default: str | None = None,
        environ: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
    ) -> Endpoint:
        """The endpoint named by environment variable ``var`` (e.g. FUNDTRACE_BTC_RPC_URL)."""
        env = os.environ if environ is None else environ
        value = env.get(var) or default
        if not value:
            raise ConfigError(f"environment variable {var} is not set (expected an endpoint URL)")
        return cls.parse(value, secrets=secrets, what=var)

    def join(self, path: str) -> str:
        if not path:
            return self.url
        return self.url.rstrip("/") + "/" + path.lstrip("/")


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """Certificate-verifying context built once: building one per client costs ~15 ms."""
    return httpx.create_ssl_context()


def secret_from_env(var: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """An API key from the environment (e.g. FUNDTRACE_ETHERSCAN_API_KEY), or None if unset."""
    env = os.environ if environ is None else environ
    value = env.get(var, "").strip()
    return value or None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def decode_json(content: bytes | str) -> Any:
    """JSON with exact numbers: floats become Decimal, NaN/Infinity are rejected."""
    return json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)


def _encode_default(value: object) -> object:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_json(value: object) -> bytes:
    return json.dumps(value, default=_encode_default, separators=(",", ":")).encode()


def describe_call(method: str, params: object, limit: int = REQUEST_DESCRIPTION_LIMIT) -> str:
    """``getblock ["000…", 3]``, truncated: enough to reproduce the request by hand."""
    if params is None or params == [] or params == {}:
        text = method
    else:
        try:
            rendered = json.dumps(params, default=str, separators=(",", ":"))
        except (TypeError, ValueError):
            rendered = repr(params)
        text = f"{method} {rendered}"
    return one_line(text, limit)


def parse_json_response(resp: httpx.Response) -> Any:
    try:
        return decode_json(resp.content)
    except (ValueError, UnicodeDecodeError) as exc:
        snippet = one_line(resp.content[:120].decode("utf-8", "replace"), 120)
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise MalformedResponseError(
            f"malformed JSON in HTTP {resp.status_code} response ({detail}); "
            f"body starts {snippet!r}"
        ) from None


class HttpClient:
    """Requests to one endpoint with pacing, bounded retries and redacted one-line errors.

    Retrying assumes the request is idempotent, which holds for everything collection does
    (reads); do not route transaction broadcasts through the retry loop.
    """

    def __init__(
        self,
        endpoint: Endpoint | str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limit: float | None = None,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
        trust_env: bool = False,
    ) -> None:
        """``trust_env`` stays off by default: proxy variables and ~/.netrc would otherwise
        change where credentials go without it showing in the configuration."""
        self.endpoint = endpoint if isinstance(endpoint, Endpoint) else Endpoint.parse(endpoint)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        all_secrets = [*self.endpoint.secrets, *(s for s in secrets if s)]
        self.scrub = Scrubber(all_secrets)
        guard_third_party_logs(self.scrub.secrets)
        self.limiter = (
            TokenBucket(rate_limit, burst=burst, clock=clock, sleep=self.retry.sleep)
            if rate_limit
            else None
        )
        self.requests_sent = 0
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"user-agent": "fundtrace", **(headers or {})},
            auth=self.endpoint.auth,
            transport=transport,
            follow_redirects=False,
            trust_env=trust_env,
            verify=_default_ssl_context(),
        )

    @property
    def url(self) -> str:
        """The redacted endpoint URL (safe to show)."""
        return self.endpoint.redacted

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public helpers ---------------------------------------------------------------------

    def get_json(
        self,
        path: str = "",
        params: Mapping[str, Any] | None = None,
        *,
        check: Callable[[Any], Any] | None = None,
    ) -> Any:
        """GET and decode JSON; ``check`` may raise RetryableResponse or a ClientError."""

        def parse(resp: httpx.Response) -> Any:
            payload = parse_json_response(resp)
            return check(payload) if check else payload

        return self.request("GET", path, params=params, parse=parse)

    def get_text(self, path: str = "", params: Mapping[str, Any] | None = None) -> str:
        return self.request("GET", path, params=params, parse=lambda r: r.text)

    def post_json(
        self,
        body: object,
        path: str = "",
        *,
        describe: str,
        parse: Callable[[httpx.Response], T] | None = None,
        read_error_bodies: bool = False,
    ) -> Any:
        return self.request(
            "POST",
            path,
            content=encode_json(body),
            describe=describe,
            parse=parse or parse_json_response,
            read_error_bodies=read_error_bodies,
        )

    # -- the retry loop -----------------------------------------------------------------------

    def describe_get(self, path: str, params: Mapping[str, Any] | None) -> str:
        text = f"GET {path or '/'}"
        if params:
            shown = "&".join(f"{k}={v}" for k, v in params.items())
            text += "?" + shown
        return one_line(self.scrub(text), REQUEST_DESCRIPTION_LIMIT)

    def finish_error(self, error: ClientError, describe: str) -> ClientError:
        """Scrub secrets from ``error`` and attach the redacted URL and request."""
        error.message = self.scrub(error.message)
        if isinstance(error, RpcError):
            error.rpc_message = self.scrub(error.rpc_message)
        return error.at(url=self.url, request=self.scrub(describe))

    def request(
        self,
        method: str,
        path: str = "",
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        describe: str | None = None,
        parse: Callable[[httpx.Response], T],
        read_error_bodies: bool = False,
    ) -> T:
        """Send until ``parse`` accepts a response or the retry budget is spent.

        ``read_error_bodies``: for a non-2xx status that is not plainly transient, give
        ``parse`` the chance to turn the body into a protocol error (bitcoind answers an
        ordinary RPC error with HTTP 500 or 404 and a JSON-RPC error object).
        """
        describe = describe or self.describe_get(path, params)
        url = self.endpoint.join(path)
        headers = {"content-type": "application/json"} if content is not None else None
        policy = self.retry
        retries = 0
        malformed = 0
        while True:
            if self.limiter is not None:
                self.limiter.acquire()
            retry_after: float | None = None
            error: ClientError
            self.requests_sent += 1
            log.debug("%s %s: %s", method, self.url, describe)
            try:
                resp = self._client.request(
                    method, url, params=params, content=content, headers=headers
                )
            except httpx.TimeoutException as exc:
                error = TransportError(f"timed out after {self.timeout:g}s ({type(exc).__name__})")
            except httpx.TransportError as exc:
                error = TransportError(f"connection failed: {type(exc).__name__}: {exc}")
            except httpx.HTTPError as exc:  # invalid URL and the like: retrying cannot help
                raise self.finish_error(
                    ClientError(f"{type(exc).__name__}: {exc}"), describe
                ) from None
            else:
                status = resp.status_code
                try:
                    if 200 <= status < 300:
                        return parse(resp)
                    if read_error_bodies and status not in _TRANSIENT_STATUS:
                        # A protocol error body raises its own error; anything else (not
                        # JSON, no error object) is judged by the status below.
                        with contextlib.suppress(MalformedResponseError):
                            parse(resp)
                    raise self._status_error(resp)
                except RetryableResponse as rr:
                    error, retry_after = rr.error, rr.retry_after
                except MalformedResponseError as exc:
                    malformed += 1
                    error = exc
                    if malformed > policy.max_malformed_retries:
                        error.message += f" (gave up after {malformed} malformed responses)"
                        raise self.finish_error(error, describe) from None
                except HttpStatusError as exc:
                    if exc.status not in RETRYABLE_STATUS:
                        raise self.finish_error(exc, describe) from None
                    error = exc
                    retry_after = parse_retry_after(
                        resp.headers.get("retry-after"), now=policy.wall_clock()
                    )
                except ClientError as exc:
                    raise self.finish_error(exc, describe) from None
            if retries >= policy.max_retries:
                error.message += f" (gave up after {retries + 1} attempts)"
                raise self.finish_error(error, describe) from None
            delay = policy.delay(retries, retry_after)
            retries += 1
            log.warning(
                "%s: %s; retry %d/%d in %.2fs; last request: %s",
                self.url,
                self.scrub(one_line(error.message)),
                retries,
                policy.max_retries,
                delay,
                self.scrub(describe),
            )
            policy.sleep(delay)

    def _status_error(self, resp: httpx.Response) -> HttpStatusError:
        body = one_line(resp.content[:200].decode("utf-8", "replace"), 160)
        reason = resp.reason_phrase or ""
        text = f"HTTP {resp.status_code} {reason}".strip()
        if body:
            text += f": {body}"
        return HttpStatusError(resp.status_code, text)


class JsonRpcClient:
    """JSON-RPC 2.0 calls and batches over an HttpClient (also speaks bitcoind's legacy 1.0)."""

    def __init__(
        self,
        http: HttpClient,
        *,
        max_batch_size: int = 100,
        retryable_codes: Iterable[int] = DEFAULT_RETRYABLE_RPC_CODES,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self.http = http
        self.max_batch_size = max_batch_size
        self.retryable_codes = frozenset(retryable_codes)
        self._next_id = 0

    @classmethod
    def from_url(
        cls,
        url: str | Endpoint,
        *,
        max_batch_size: int = 100,
        retryable_codes: Iterable[int] = DEFAULT_RETRYABLE_RPC_CODES,
        **http_options: Any,
    ) -> JsonRpcClient:
        return cls(
            HttpClient(url, **http_options),
            max_batch_size=max_batch_size,
            retryable_codes=retryable_codes,
        )

    @property
    def url(self) -> str:
        return self.http.url

    def close(self) -> None:
        self.http.close()

    def _ids(self, n: int) -> list[int]:
        start = self._next_id + 1
        self._next_id += n
        return list(range(start, start + n))

    def _rpc_error(self, err: object, method: str, params: object) -> RpcError:
        if isinstance(err, dict):
            code = err.get("code")
            message = str(err.get("message", ""))
            data = err.get("data")
        else:  # some servers put a bare string in "error"
            code, message, data = None, str(err), None
        error = RpcError(
            code if isinstance(code, int) else None, one_line(message, 200), method, data=data
        )
        return self.http.finish_error(error, describe_call(method, params))

    def call(self, method: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        """One call; an error object raises RpcError (retried first if its code is transient)."""
        (req_id,) = self._ids(1)
        body = {"jsonrpc": "2.0", "id": req_id, "method": method, "params": params or []}

        def parse(resp: httpx.Response) -> Any:
            payload = parse_json_response(resp)
            if not isinstance(payload, dict):
                raise MalformedResponseError(
                    f"expected a JSON-RPC response object, got {type(payload).__name__}"
                )
            err = payload.get("error")
            if err is not None:
                error = self._rpc_error(err, method, params)
                if error.code in self.retryable_codes:
                    raise RetryableResponse(error)
                raise error
            if payload.get("id") != req_id:
                raise MalformedResponseError(
                    f"response id {payload.get('id')!r} does not match request id {req_id}"
                )
            if "result" not in payload:
                raise MalformedResponseError("JSON-RPC response has neither result nor error")
            return payload["result"]

        return self.http.post_json(
            body, describe=describe_call(method, params), parse=parse, read_error_bodies=True
        )

    def batch(
        self,
        calls: Sequence[tuple[str, list[Any] | dict[str, Any] | None]],
        *,
        return_errors: bool = False,
    ) -> list[Any]:
        """Results in the order of ``calls`` whatever order the server answers in.

        Per-item errors become RpcError: raised (the first, in call order) unless
        ``return_errors``, in which case they take the item's place in the list so a caller
        can fall back item by item. Large batches are split into ``max_batch_size`` chunks.
        """
        out: list[Any] = []
        for start in range(0, len(calls), self.max_batch_size):
            out.extend(self._batch_chunk(calls[start : start + self.max_batch_size]))
        if not return_errors:
            for item in out:
                if isinstance(item, RpcError):
                    raise item
        return out

    def _batch_chunk(
        self, calls: Sequence[tuple[str, list[Any] | dict[str, Any] | None]]
    ) -> list[Any]:
        ids = self._ids(len(calls))
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p or []}
            for i, (m, p) in zip(ids, calls, strict=True)
        ]
        first = describe_call(calls[0][0], calls[0][1], 120)
        more = f" (+{len(calls) - 1} more)" if len(calls) > 1 else ""
        describe = f"batch of {len(calls)}: {first}{more}"
        wanted = dict(zip(ids, calls, strict=True))

        def parse(resp: httpx.Response) -> list[Any]:
            payload = parse_json_response(resp)
            if isinstance(payload, dict) and payload.get("error") is not None:
                # The server refused the whole batch (unsupported, too large, rate limited).
                error = self._rpc_error(payload["error"], "batch", None)
                if error.code in self.retryable_codes:
                    raise RetryableResponse(error)
                raise error
            if not isinstance(payload, list):
                raise MalformedResponseError(
                    f"expected a JSON array for a batch, got {type(payload).__name__}"
                )
            by_id: dict[int, dict[str, Any]] = {}
            for pos, item in enumerate(payload):
                if not isinstance(item, dict):
                    raise MalformedResponseError(f"batch item {pos} is not an object")
                rid = item.get("id")
                if rid not in wanted:
                    raise MalformedResponseError(f"batch item {pos} has unexpected id {rid!r}")
                if rid in by_id:
                    raise MalformedResponseError(f"batch response repeats id {rid!r}")
                by_id[rid] = item
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise MalformedResponseError(
                    f"batch response lacks {len(missing)} of {len(ids)} ids (first: {missing[0]})"
                )
            results: list[Any] = []
            for rid in ids:
                item = by_id[rid]
                method, params = wanted[rid]
                err = item.get("error")
                if err is not None:
                    error = self._rpc_error(err, method, params)
                    if error.code in self.retryable_codes:
                        raise RetryableResponse(error)
                    results.append(error)
                elif "result" not in item:
                    raise MalformedResponseError(f"batch item for id {rid} has no result")
                else:
                    results.append(item["result"])
            return results

        return self.http.post_json(body, describe=describe, parse=parse, read_error_bodies=True)
