"""Keeping node credentials and API keys out of every message, log line and exception.

Endpoints carry secrets in three places: basic-auth userinfo (bitcoind ``user:pass@``), query
parameters (Etherscan ``apikey=``, Helius ``api-key=``) and path segments (Infura ``/v3/<key>``,
Alchemy ``/v2/<key>``, QuickNode ``/<token>/``). Investigators paste error messages into tickets
and court annexes, so redaction must happen before text leaves the client, not in the handler.

Two layers: ``redact_url`` rewrites a configured endpoint URL by shape, and ``Scrubber`` removes
the exact secret strings it was given from arbitrary text (server error bodies that echo the
key, transport exception messages, third-party log records).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

MASK = "***"

SECRET_QUERY_KEYS = frozenset(
    {
        "apikey",
        "api-key",
        "api_key",
        "key",
        "token",
        "access_token",
        "auth",
        "secret",
        "password",
        "x-api-key",
    }
)

# A path segment after a version segment ("/v2/<key>", "/v3/<key>") that is long and opaque is
# a key; so is any long opaque segment (QuickNode-style tokens). Version segments themselves,
# short names and ordinary words stay readable.
_VERSION_SEGMENT = re.compile(r"^v\d+$", re.IGNORECASE)
_OPAQUE_AFTER_VERSION = re.compile(r"^[A-Za-z0-9_\-]{16,}$")
_OPAQUE_ANYWHERE = re.compile(r"^(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{24,}$")

_QUERY_SECRET_IN_TEXT = re.compile(
    r"(?i)([?&;](?:" + "|".join(re.escape(k) for k in sorted(SECRET_QUERY_KEYS)) + r")=)[^&#\s\"']*"
)
_USERINFO_IN_TEXT = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s\"']+@")


def _redact_path(path: str) -> tuple[str, list[str]]:
    segments = path.split("/")
    found: list[str] = []
    out: list[str] = []
    previous_is_version = False
    for seg in segments:
        raw = unquote(seg)
        if seg and (
            (previous_is_version and _OPAQUE_AFTER_VERSION.match(raw))
            or _OPAQUE_ANYWHERE.match(raw)
        ):
            found.append(raw)
            out.append(MASK)
        else:
            out.append(seg)
        previous_is_version = bool(_VERSION_SEGMENT.match(raw))
    return "/".join(out), found


def split_secrets(url: str) -> tuple[str, list[str]]:
    """Return the redacted form of ``url`` and the secret strings that were removed from it."""
    parts = urlsplit(url)
    secrets: list[str] = []
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        secrets.extend(s for s in (unquote(user), unquote(password)) if s)
        netloc = f"{MASK}@{hostport}"
    path, path_secrets = _redact_path(parts.path)
    secrets.extend(path_secrets)
    query_items = []
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in SECRET_QUERY_KEYS:
            if v:
                secrets.append(v)
            query_items.append(f"{quote(k)}={MASK}")
        else:
            query_items.append(f"{quote(k)}={quote(v)}")
    query = "&".join(query_items)
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment)), secrets


def redact_url(url: str) -> str:
    """``https://u:p@host/v2/KEY?apikey=K&x=1`` -> ``https://***@host/v2/***?apikey=***&x=1``."""
    return split_secrets(url)[0]


class Scrubber:
    """Removes known secret strings and secret-shaped URL parts from free text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first so a key that contains another secret is removed whole. Very short
        # strings (a one-letter rpcuser) would shred ordinary words; the shape rules still
        # catch them inside URLs.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def __call__(self, text: str) -> str:
        for s in self._secrets:
            if s in text:
                text = text.replace(s, MASK)
            quoted = quote(s, safe="")
            if quoted != s and quoted in text:
                text = text.replace(quoted, MASK)
        text = _USERINFO_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}@", text)
        return _QUERY_SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}{MASK}", text)


def one_line(text: str, limit: int = 300) -> str:
    """Errors are one line: newlines folded, long bodies cut with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _LogRedactor(logging.Filter):
    """Filter for third-party loggers (httpx logs every request URL, query string included)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._scrub = Scrubber()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            new = set(secrets) - self._secrets
            if new:
                self._secrets |= new
                self._scrub = Scrubber(self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        scrub = self._scrub
        try:
            message = record.getMessage()
        except Exception:  # a malformed third-party record: leave it to logging's own handling
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_LOG_REDACTOR = _LogRedactor()
# Logger filters do not apply to child loggers, so every httpcore logger is named.
_GUARDED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def guard_third_party_logs(secrets: Iterable[str]) -> None:
    """Install (once) a redacting filter on httpx/httpcore loggers and teach it these secrets."""
    _LOG_REDACTOR.add(secrets)
    for name in _GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_REDACTOR not in logger.filters:
            logger.addFilter(_LOG_REDACTOR)
