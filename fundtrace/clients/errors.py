"""Client errors: one line each, naming the redacted endpoint and the request that failed.

An investigator running a long collection needs to know *which* endpoint misbehaved and *what*
it was asked last, without the message leaking the API key it was asked with. Every client
error therefore carries ``url`` (already redacted) and ``request`` (method + truncated params).
"""

from __future__ import annotations

from fundtrace.core.errors import FundtraceError


class ClientError(FundtraceError):
    """Base of all network-client failures; ``str()`` is a single line."""

    def __init__(self, message: str, *, url: str | None = None, request: str | None = None):
        self.message = message
        self.url = url
        self.request = request
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.url:
            where.append(self.url)
        if self.request:
            where.append(f"last request: {self.request}")
        text = f"{self.message} ({'; '.join(where)})" if where else self.message
        return " ".join(text.split())

    def at(self, *, url: str | None, request: str | None) -> ClientError:
        """Fill in the endpoint and request once the HTTP layer knows them."""
        if self.url is None:
            self.url = url
        if self.request is None:
            self.request = request
        self.args = (str(self),)
        return self


class ConfigError(ClientError):
    """An endpoint is not configured (missing environment variable, bad URL)."""


class TransportError(ClientError):
    """Connection refused/reset, DNS failure or timeout, after the allowed retries."""


class HttpStatusError(ClientError):
    """The server answered with an HTTP error status (after retries, for retryable ones)."""

    def __init__(self, status: int, message: str, **kw: str | None) -> None:
        self.status = status
        super().__init__(message, **kw)


class MalformedResponseError(ClientError):
    """The body is not the JSON (or shape) the protocol promises."""


class RpcError(ClientError):
    """A JSON-RPC error object, for one call or one item of a batch."""

    def __init__(
        self,
        code: int | None,
        message: str,
        method: str,
        *,
        data: object = None,
        url: str | None = None,
        request: str | None = None,
    ) -> None:
        self.code = code
        self.rpc_message = message
        self.method = method
        self.data = data
        super().__init__(f"{method}: RPC error {code}: {message}", url=url, request=request)


class IndexerError(ClientError):
    """An indexer API (Etherscan-compatible) reported a failure in its JSON envelope."""


class RetryableResponse(Exception):
    """Raised by a response check to ask the HTTP layer to back off and try again.

    Some APIs signal rate limits in a 200 body (Etherscan ``"Max rate limit reached"``,
    JSON-RPC ``-32005``), which the status code alone cannot reveal.
    """

    def __init__(self, error: ClientError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after
        super().__init__(str(error))
