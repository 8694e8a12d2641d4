"""Small loopback HTTP servers for fault and indexer tests (127.0.0.1 only)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Handler = Callable[[str, str, bytes], tuple[int, bytes]]
"""(method, path with query, body) -> (status, response body)."""


@contextlib.contextmanager
def serve(handler: Handler) -> Iterator[str]:
    class H(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, out = handler(self.command, self.path, body)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class FlakyProxy:
    """Forwards JSON-RPC to ``upstream`` until a request contains ``fail_from``; from then on
    every request is answered 500 (a node that went down mid-run)."""

    def __init__(self, upstream: str, fail_from: bytes | None = None) -> None:
        self.upstream = upstream
        self.fail_from = fail_from
        self.failing = False
        self.requests = 0
        self.client = httpx.Client(timeout=30)

    def __call__(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        self.requests += 1
        if self.fail_from is not None and self.fail_from in body:
            self.failing = True
        if self.failing:
            return 500, b"upstream exploded"
        resp = self.client.post(
            self.upstream, content=body, headers={"content-type": "application/json"}
        )
        return resp.status_code, resp.content


def json_bytes(obj: object) -> bytes:
    return json.dumps(obj).encode()
