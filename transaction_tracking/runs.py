"""Starting, executing and comparing trace runs.

A run is created ``queued`` with validated parameters and handed to an executor; the worker
records the data snapshot (max stored block per chain), calls the tracing engine, and writes the
result, its flows (``TransactionChain``) and endpoints (``TraceEndpoint``) in one transaction
together with the final status, after which the run never changes. The executor is pluggable
(``FUNDTRACE_TRACE_EXECUTOR`` = dotted path of a zero-argument factory returning an object with
``submit(fn, *args)``); the embedded default is a small thread pool, and
``FUNDTRACE_TRACE_SYNC`` runs traces inline (tests, the demo).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from data_collection.models import Block
from fundtrace.core.errors import FundtraceError
from transaction_tracking import audit
from transaction_tracking.models import TraceEndpoint, TraceRun, TransactionChain

log = logging.getLogger(__name__)

ENDPOINT_KINDS = {"labeled", "holding", "fee", "limit"}


class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...


_executor: Executor | None = None
_executor_lock = threading.Lock()


def get_executor() -> Executor:
    global _executor
    with _executor_lock:
        if _executor is None:
            factory = getattr(settings, "FUNDTRACE_TRACE_EXECUTOR", None)
            if factory:
                _executor = import_string(factory)()
            else:
                workers = int(getattr(settings, "FUNDTRACE_TRACE_WORKERS", 2))
                _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trace")
        return _executor


def is_sync() -> bool:
    return bool(getattr(settings, "FUNDTRACE_TRACE_SYNC", False))


def data_snapshot() -> dict[str, int]:
    """The highest stored block per chain: which data the run saw."""
    rows = Block.objects.values("chain").annotate(top=Max("number"))
    return {r["chain"]: r["top"] for r in rows}


def start_run(run: TraceRun) -> None:
    """Execute now (sync mode) or after the creating transaction commits."""
    if is_sync():
        execute_run(run.pk)
        return
    run_id = run.pk
    transaction.on_commit(lambda: get_executor().submit(_execute_in_worker, run_id))


def _execute_in_worker(run_id: int) -> None:
    close_old_connections()
    try:
        execute_run(run_id)
    except Exception:
        log.exception("trace run %s crashed", run_id)
    finally:
        connections.close_all()


def load_runner() -> Callable[..., dict[str, Any]]:
    from data_processing.trace_runner import run_trace

    return run_trace


class ResultError(ValueError):
    """The engine returned a document that does not have the documented shape."""


def _amount(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ResultError(f"{where}: amount must be a decimal string, got {value!r}")
    text = str(value)
    if not text.isdigit():
        raise ResultError(f"{where}: amount must be a non-negative integer, got {value!r}")
    return int(text)


def parse_result(result: Any, asset: str) -> tuple[list[TransactionChain], list[TraceEndpoint]]:
    """Rows for the result's flows and endpoints (unsaved; ``run`` is set by the caller)."""
    if not isinstance(result, dict):
        raise ResultError("the result is not a JSON object")
    flows_in = result.get("flows", [])
    endpoints_in = result.get("endpoints", [])
    if not isinstance(flows_in, list) or not isinstance(endpoints_in, list):
        raise ResultError("flows and endpoints must be lists")
    asset = str(result.get("asset") or asset or "native")
    flows = []
    for i, f in enumerate(flows_in):
        if not isinstance(f, dict) or not f.get("tx"):
            raise ResultError(f"flows[{i}]: missing 'tx'")
        hop = f.get("hop", 0)
        index = f.get("index")
        if isinstance(hop, bool) or not isinstance(hop, int) or hop < 0:
            raise ResultError(f"flows[{i}]: hop must be a non-negative integer")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise ResultError(f"flows[{i}]: index must be an integer")
        flows.append(
            TransactionChain(
                hop=hop,
                tx_hash=str(f["tx"])[:100],
                index=index,
                from_address=None if f.get("from") is None else str(f["from"])[:100],
                to_address=None if f.get("to") is None else str(f["to"])[:100],
                amount=_amount(f.get("amount"), f"flows[{i}]"),
                asset=asset[:64],
            )
        )
    endpoints = []
    for i, e in enumerate(endpoints_in):
        if not isinstance(e, dict):
            raise ResultError(f"endpoints[{i}]: not an object")
        kind = e.get("kind")
        if kind not in ENDPOINT_KINDS:
            raise ResultError(f"endpoints[{i}]: kind {kind!r} is not one of {ENDPOINT_KINDS}")
        endpoints.append(
            TraceEndpoint(
                address=str(e.get("address") or "")[:100],
                entity=None if e.get("entity") is None else str(e["entity"])[:200],
                category=None if e.get("category") is None else str(e["category"])[:64],
                kind=kind,
                amount=_amount(e.get("amount"), f"endpoints[{i}]"),
            )
        )
    return flows, endpoints


def execute_run(run_id: int) -> TraceRun:
    """Run a queued trace to completion; the run ends ``done`` or ``failed``, never stuck."""
    with transaction.atomic():
        run = TraceRun.objects.select_for_update().get(pk=run_id)
        if run.status != TraceRun.Status.QUEUED:
            return run
        run.status = TraceRun.Status.RUNNING
        run.started_at = timezone.now()
        run.data_snapshot = data_snapshot()
        run.save()
    p = run.parameters
    t0 = time.perf_counter()
    result: dict[str, Any] | None = None
    error = ""
    try:
        runner = load_runner()
        kwargs: dict[str, Any] = {
            "chain": run.chain,
            "sources": list(p.get("sources", [])),
            "model": run.model,
            "direction": run.direction,
            "max_hops": p.get("max_hops"),
            "min_amount": int(p.get("min_amount") or 0),
            "asset": p.get("asset") or None,
            "through": list(p.get("through", [])),
            "case_ids": [run.case_id],  # the case's own labels count as attribution
        }
        if p.get("address_sources"):
            kwargs["address_sources"] = list(p["address_sources"])
        result = runner(**kwargs)
        flows, endpoints = parse_result(result, run.asset)
    except FundtraceError as exc:
        error = str(exc)
    except ImportError:
        error = "the tracing engine (data_processing.trace_runner) is not installed"
    except ResultError as exc:
        error = f"the tracing engine returned a malformed result: {exc}"
    except Exception as exc:  # the run must end failed, not stay 'running' forever
        log.exception("trace run %s failed", run_id)
        error = f"internal error ({type(exc).__name__}); see the server log"
    duration_ms = int((time.perf_counter() - t0) * 1000)
    with transaction.atomic():
        run.finished_at = timezone.now()
        run.duration_ms = duration_ms
        if error:
            run.status = TraceRun.Status.FAILED
            run.error = error
            run.result = None
        else:
            for row in flows:
                row.run = run
            for row in endpoints:
                row.run = run
            TransactionChain.objects.bulk_create(flows, batch_size=2000)
            TraceEndpoint.objects.bulk_create(endpoints, batch_size=2000)
            run.status = TraceRun.Status.DONE
            run.result = result
            if not run.asset and isinstance(result, dict) and result.get("asset"):
                run.asset = str(result["asset"])[:64]
        run.save()
        audit.record(
            "run.finish",
            "TraceRun",
            run.pk,
            {
                "case": run.case_id,
                "status": run.status,
                "error": run.error,
                "duration_ms": duration_ms,
                "data_snapshot": run.data_snapshot,
                "flows": len(flows) if not error else 0,
                "endpoints": len(endpoints) if not error else 0,
                "result_sha256": audit.sha256_json(result) if not error else None,
            },
            user=None,
        )
    return run


def compare_runs(a: TraceRun, b: TraceRun) -> list[dict[str, Any]]:
    """Per endpoint address: the amount in ``a``, in ``b``, and ``b - a`` (exact ints)."""
    totals: dict[str, list[int]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for which, run in ((0, a), (1, b)):
        for e in run.endpoints.all().order_by("id"):
            totals.setdefault(e.address, [0, 0])[which] += e.amount
            m = meta.setdefault(e.address, {"entity": e.entity, "category": e.category})
            m.setdefault("kinds", set()).add(e.kind)
    rows = []
    for address in sorted(totals):
        in_a, in_b = totals[address]
        rows.append(
            {
                "address": address,
                "entity": meta[address]["entity"],
                "category": meta[address]["category"],
                "kinds": sorted(meta[address]["kinds"]),
                "amount_a": in_a,
                "amount_b": in_b,
                "delta": in_b - in_a,
            }
        )
    return rows
