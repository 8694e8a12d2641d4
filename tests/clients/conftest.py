"""A scripted loopback HTTP server and a fake clock for the client tests.

The server runs ``http.server`` in a thread on 127.0.0.1 with an OS-assigned port. Each test
queues replies (or installs a handler function); every request is recorded so tests can
assert what the client sent, how often, and in which order.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fundtrace.clients.retry import RetryPolicy

HANG_BOUND = 2.0
"""A "hanging" reply never waits longer than this, and is released at teardown."""


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    """Seconds to stall before answering (the client should time out first)."""

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def rpc_result(result: Any, req_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req_id, "result": result}


def rpc_error(code: int, message: str, req_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req_id, "error": {"code": code, "message": message}}


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def rpc_method(self) -> str | None:
        data = self.json
        return data.get("method") if isinstance(data, dict) else None


Handler = Callable[[Seen], Reply]


class ScriptedServer:
    def __init__(self) -> None:
        self.replies: deque[Reply | Handler] = deque()
        self.handler: Handler | None = None
        self.requests: list[Seen] = []
        self.release = threading.Event()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one segment: avoids Nagle/delayed-ACK stalls of ~40 ms.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                outer.requests.append(seen)
                if outer.replies:
                    item = outer.replies.popleft()
                    reply = item if isinstance(item, Reply) else item(seen)
                elif outer.handler is not None:
                    reply = outer.handler(seen)
                else:
                    reply = Reply(599, b"no scripted reply")
                if reply.hang:
                    outer.release.wait(min(reply.hang, HANG_BOUND))
                data = reply.encoded()
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def push(self, *replies: Reply | Handler) -> None:
        self.replies.extend(replies)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=HANG_BOUND + 1)


@pytest.fixture
def server():
    s = ScriptedServer()
    s.start()
    try:
        yield s
    finally:
        s.stop()


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class CeilingRng:
    """Full jitter at its ceiling: makes the backoff schedule exact and checkable."""

    def uniform(self, low: float, high: float) -> float:
        return high


WALL_CLOCK = 1_700_000_000.0


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def policy(fake: FakeTime, **kw: Any) -> RetryPolicy:
    kw.setdefault("rng", CeilingRng())
    return RetryPolicy(sleep=fake.sleep, wall_clock=lambda: WALL_CLOCK, **kw)
