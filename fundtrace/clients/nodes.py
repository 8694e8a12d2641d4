"""Start and stop real development nodes on loopback, for round-trip tests of the collectors.

Mocked RPC only proves the client agrees with the test author; a real anvil or litecoind shows
it agrees with the node. Each helper picks a free loopback port, starts the node in a private
temporary directory, waits until its RPC answers, yields a ``RunningNode`` and always stops
the process and removes the directory afterwards.

Binaries are looked up in this order: an explicit argument, an environment variable
(``FUNDTRACE_ANVIL`` / ``FUNDTRACE_LITECOIND``), the project-local npm install under
``.tools/node_modules/.bin`` (anvil), then ``PATH``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from fundtrace.clients.errors import ClientError, RpcError
from fundtrace.clients.http import HttpClient, JsonRpcClient
from fundtrace.clients.retry import RetryPolicy

REPO = Path(__file__).resolve().parents[2]
LOCAL_NODE_BIN = REPO / ".tools" / "node_modules" / ".bin"


class NodeStartError(ClientError):
    """The node binary exited or never answered RPC within the startup timeout."""


@dataclass(frozen=True)
class RunningNode:
    url: str
    """RPC URL; for litecoind it carries the generated ``user:password`` (keep it out of logs)."""
    datadir: Path
    pid: int
    log_path: Path

    def rpc(self, **http_options: object) -> JsonRpcClient:
        return JsonRpcClient(HttpClient(self.url, **http_options))  # type: ignore[arg-type]


def free_port() -> int:
    """An unused loopback TCP port (the OS picks; tiny race until the node binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(name: str, env_var: str, *extra_dirs: Path) -> str | None:
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for d in extra_dirs:
        candidate = d / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def find_anvil() -> str | None:
    return find_binary("anvil", "FUNDTRACE_ANVIL", LOCAL_NODE_BIN)


def find_litecoind() -> str | None:
    return find_binary("litecoind", "FUNDTRACE_LITECOIND")


def _tail(path: Path, n: int = 5) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return " | ".join(lines[-n:])


def _wait_ready(
    proc: subprocess.Popen[bytes],
    url: str,
    method: str,
    timeout: float,
    log_path: Path,
    redacted: str,
) -> None:
    probe = JsonRpcClient(
        HttpClient(url, timeout=2.0, retry=RetryPolicy(max_retries=0, max_malformed_retries=0))
    )
    deadline = time.monotonic() + timeout
    last = "no answer"
    try:
        while True:
            if proc.poll() is not None:
                raise NodeStartError(
                    f"node exited with code {proc.returncode} during startup: {_tail(log_path)}",
                    url=redacted,
                )
            try:
                probe.call(method)
                return
            except RpcError as exc:  # e.g. -28 "Loading block index": up, not ready
                last = str(exc.rpc_message)
            except ClientError as exc:
                last = exc.message
            if time.monotonic() > deadline:
                raise NodeStartError(
                    f"node did not answer {method} within {timeout:g}s ({last})", url=redacted
                )
            time.sleep(0.05)
    finally:
        probe.close()


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def _run(
    argv_for: Callable[[int, Path]],
    *,
    url_for: Callable[[int], tuple[str, str]],
    ready_method: str,
    startup_timeout: float,
    stop_grace: float,
    prefix: str,
    attempts: int = 3,
) -> Iterator[RunningNode]:
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    proc: subprocess.Popen[bytes] | None = None
    try:
        for attempt in range(attempts):
            port = free_port()
            datadir = tmp / f"data{attempt}"
            datadir.mkdir()
            log_path = tmp / f"node{attempt}.log"
            url, redacted = url_for(port)
            with log_path.open("wb") as log_file:
                proc = subprocess.Popen(
                    argv_for(port, datadir),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd=tmp,
                    start_new_session=True,
                )
            try:
                _wait_ready(proc, url, ready_method, startup_timeout, log_path, redacted)
                break
            except NodeStartError:
                _stop(proc, stop_grace)
                in_use = "in use" in _tail(log_path, 20).lower()
                if not in_use or attempt == attempts - 1:
                    raise
        assert proc is not None
        yield RunningNode(url=url, datadir=datadir, pid=proc.pid, log_path=log_path)
    finally:
        if proc is not None:
            _stop(proc, stop_grace)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def anvil(
    *,
    binary: str | None = None,
    chain_id: int = 31337,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 30.0,
) -> Iterator[RunningNode]:
    """An anvil dev chain on 127.0.0.1 (instant mining, funded dev accounts, traces enabled)."""
    exe = binary or find_anvil()
    if not exe:
        raise NodeStartError(
            "anvil not found: npm install --prefix .tools @foundry-rs/anvil, or set FUNDTRACE_ANVIL"
        )

    def argv(port: int, datadir: Path) -> list[str]:
        return [
            exe,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(chain_id),
            "--silent",
            *extra_args,
        ]

    def url(port: int) -> tuple[str, str]:
        u = f"http://127.0.0.1:{port}"
        return u, u

    with _run(
        argv,
        url_for=url,
        ready_method="eth_blockNumber",
        startup_timeout=startup_timeout,
        stop_grace=5.0,
        prefix="fundtrace-anvil-",
    ) as node:
        yield node


@contextlib.contextmanager
def litecoind_regtest(
    *,
    binary: str | None = None,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 60.0,
) -> Iterator[RunningNode]:
    """``litecoind -regtest`` (Bitcoin Core 0.21 RPC) with a wallet-capable, txindexed node.

    The RPC password is random per run; the yielded URL carries it as userinfo so the
    clients' basic-auth and redaction paths are the ones exercised.
    """
    exe = binary or find_litecoind()
    if not exe:
        raise NodeStartError(
            "litecoind not found: apt-get install litecoind, or set FUNDTRACE_LITECOIND"
        )
    user, password = "fundtrace", secrets.token_hex(16)

    def argv(port: int, datadir: Path) -> list[str]:
        return [
            exe,
            "-regtest",
            f"-datadir={datadir}",
            "-server=1",
            "-listen=0",
            "-txindex=1",
            "-fallbackfee=0.0001",
            "-printtoconsole=1",
            f"-rpcuser={user}",
            f"-rpcpassword={password}",
            "-rpcbind=127.0.0.1",
            "-rpcallowip=127.0.0.1",
            f"-rpcport={port}",
            *extra_args,
        ]

    def url(port: int) -> tuple[str, str]:
        return f"http://{user}:{password}@127.0.0.1:{port}", f"http://***@127.0.0.1:{port}"

    with _run(
        argv,
        url_for=url,
        ready_method="getblockcount",
        startup_timeout=startup_timeout,
        stop_grace=15.0,
        prefix="fundtrace-litecoind-",
    ) as node:
        yield node
