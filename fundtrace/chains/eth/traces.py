"""Native value movements inside a transaction, from Parity-style or geth-style traces.

Rules (the chain's own semantics, not a tracer's presentation):

* Only CALL, CREATE/CREATE2 and SELFDESTRUCT move ether between accounts. DELEGATECALL and
  STATICCALL never do; CALLCODE runs foreign code *in the caller's own account*, so its
  ``value`` never leaves the caller (Parity even reports ``to`` = caller; geth reports the code
  address, which did not receive anything).
* A frame with ``error`` set was reverted, and so was everything beneath it, even frames that
  report no error themselves: none of them moved value. If the top frame failed, the whole
  transaction moved nothing.
* Block and uncle ``reward`` traces belong to no transaction; they are skipped and counted.
* Frames are numbered by their position in depth-first order of the whole call tree (Parity's
  ``traceAddress`` sorted; geth's nested ``calls`` walked pre-order; both give the same numbers),
  counting every frame, value-carrying or not, so ordinals agree across tracers. Ordinal 0 is
  the top-level call (kind native); deeper frames are kind internal.
* Contract creations are kept even with zero value: "who created this contract" is evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fundtrace.chains.eth import fields
from fundtrace.chains.eth.records import Frame
from fundtrace.core.errors import ParseError
from fundtrace.core.model import NATIVE, Transfer, TransferKind

SKIP_REWARD = "reward_trace"
SKIP_SELFDESTRUCT_NO_VALUE = "selfdestruct_without_value"

VALUE_MOVING = frozenset({"call", "create", "create2", "selfdestruct"})
CREATES = frozenset({"create", "create2"})

_GETH_TYPES = {
    "CALL": "call",
    "CALLCODE": "callcode",
    "DELEGATECALL": "delegatecall",
    "STATICCALL": "staticcall",
    "CREATE": "create",
    "CREATE2": "create2",
    "SELFDESTRUCT": "selfdestruct",
    "SUICIDE": "selfdestruct",
}


def frame_from_parity(trace: Mapping) -> Frame | None:
    """One Parity/OpenEthereum/Erigon ``trace_*`` item (or geth ``flatCallTracer`` item).

    Returns None for block/uncle reward items, which the caller counts as skipped.
    """
    if not isinstance(trace, Mapping):
        raise ParseError(f"trace is a {type(trace).__name__}, not an object")
    kind = fields.require(trace, "type")
    action = fields.require(trace, "action")
    if not isinstance(action, Mapping):
        raise ParseError("action is not an object", field="action")
    path_raw = fields.require(trace, "traceAddress")
    if not isinstance(path_raw, list):
        raise ParseError("traceAddress is not a list", field="traceAddress")
    path = tuple(fields.quantity(p, "traceAddress") for p in path_raw)
    tx_hash = fields.opt_hash(trace.get("transactionHash"), "transactionHash")
    block_number = fields.opt_quantity(trace.get("blockNumber"), "blockNumber")
    tx_index = fields.opt_quantity(trace.get("transactionPosition"), "transactionPosition")
    error = trace.get("error") or None
    result = trace.get("result")
    if kind == "reward":
        return None
    if kind == "call":
        call_type = str(fields.require(action, "callType")).lower()
        return Frame(
            path=path,
            call_type=call_type,
            from_address=fields.address(fields.require(action, "from"), "action.from"),
            to_address=fields.opt_address(action.get("to"), "action.to"),
            value=fields.opt_quantity(action.get("value"), "action.value") or 0,
            error=error,
            tx_hash=tx_hash,
            block_number=block_number,
            tx_index=tx_index,
        )
    if kind == "create":
        method = str(action.get("creationMethod") or "create").lower()
        created = result.get("address") if isinstance(result, Mapping) else None
        return Frame(
            path=path,
            call_type=method if method in CREATES else "create",
            from_address=fields.address(fields.require(action, "from"), "action.from"),
            to_address=fields.opt_address(created, "result.address"),
            value=fields.opt_quantity(action.get("value"), "action.value") or 0,
            error=error,
            tx_hash=tx_hash,
            block_number=block_number,
            tx_index=tx_index,
        )
    if kind in ("suicide", "selfdestruct"):
        return Frame(
            path=path,
            call_type="selfdestruct",
            from_address=fields.opt_address(action.get("address"), "action.address"),
            to_address=fields.opt_address(action.get("refundAddress"), "action.refundAddress"),
            value=fields.opt_quantity(action.get("balance"), "action.balance"),
            error=error,
            tx_hash=tx_hash,
            block_number=block_number,
            tx_index=tx_index,
        )
    raise ParseError(f"unknown trace type {kind!r}", field="type")


def frames_from_geth(
    result: Mapping,
    *,
    tx_hash: str | None = None,
    block_number: int | None = None,
    tx_index: int | None = None,
) -> list[Frame]:
    """The frames of one ``callTracer`` result (nested ``calls``), in depth-first order."""
    out: list[Frame] = []
    stack: list[tuple[Mapping, tuple[int, ...]]] = [(result, ())]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, Mapping):
            raise ParseError(f"call frame at {list(path)} is not an object", field="calls")
        raw_type = node.get("type")
        call_type = _GETH_TYPES.get(str(raw_type).upper())
        if call_type is None:
            raise ParseError(f"unknown call frame type {raw_type!r} at {list(path)}", field="type")
        value = node.get("value")
        if value is None and call_type not in ("selfdestruct",):
            value_int: int | None = 0
        else:
            value_int = fields.opt_quantity(value, "value")
        out.append(
            Frame(
                path=path,
                call_type=call_type,
                from_address=fields.opt_address(node.get("from"), "from"),
                to_address=fields.opt_address(node.get("to"), "to"),
                value=value_int,
                error=node.get("error") or None,
                tx_hash=tx_hash,
                block_number=block_number,
                tx_index=tx_index,
            )
        )
        calls = node.get("calls")
        if calls is None:
            continue
        if not isinstance(calls, list):
            raise ParseError(f"calls at {list(path)} is not a list", field="calls")
        for i in range(len(calls) - 1, -1, -1):
            stack.append((calls[i], (*path, i)))
    return out


def group_parity_traces(
    traces: Iterable[Mapping],
) -> tuple[dict[str, list[Frame]], int, list[Frame]]:
    """Parity trace items grouped by transaction hash.

    Returns (frames by tx hash, number of reward items skipped, frames without a tx hash).
    """
    by_tx: dict[str, list[Frame]] = {}
    rewards = 0
    orphans: list[Frame] = []
    for i, trace in enumerate(traces):
        try:
            frame = frame_from_parity(trace)
        except ParseError as exc:
            raise exc.located(record=f"trace {i}") from None
        if frame is None:
            rewards += 1
        elif frame.tx_hash is None:
            orphans.append(frame)
        else:
            by_tx.setdefault(frame.tx_hash, []).append(frame)
    return by_tx, rewards, orphans


def failed_paths(frames: list[Frame]) -> set[tuple[int, ...]]:
    """Paths of frames that were reverted: those with an error and all frames beneath them."""
    failed_roots = [f.path for f in frames if f.error]
    if not failed_roots:
        return set()
    out = set()
    for f in frames:
        p = f.path
        for root in failed_roots:
            if p[: len(root)] == root:
                out.add(p)
                break
    return out


def order_frames(frames: list[Frame], *, where: str = "") -> list[Frame]:
    """Frames in depth-first order; duplicate or orphaned paths mean a broken trace set."""
    ordered = sorted(frames, key=lambda f: f.path)
    seen: set[tuple[int, ...]] = set()
    for f in ordered:
        if f.path in seen:
            raise ParseError(f"{where}duplicate trace address {list(f.path)}", field="traceAddress")
        if f.path and f.path[:-1] not in seen:
            raise ParseError(
                f"{where}trace address {list(f.path)} has no parent frame", field="traceAddress"
            )
        seen.add(f.path)
    if ordered and ordered[0].path != ():
        raise ParseError(f"{where}no top-level frame (traceAddress [])", field="traceAddress")
    return ordered


def frames_to_transfers(
    frames: list[Frame], *, skipped: dict[str, int] | None = None, where: str = ""
) -> tuple[list[Transfer], bool]:
    """(value transfers of one transaction's frames, whether the top-level call failed).

    The top-level frame yields the native transfer (index 0); the caller may replace it with
    the transaction's own fields. ``skipped`` collects counts of frames that could not be read.
    """
    ordered = order_frames(frames, where=where)
    failed = failed_paths(ordered)
    if () in failed:
        return [], True
    out: list[Transfer] = []
    for ordinal, f in enumerate(ordered):
        if f.path in failed or f.call_type not in VALUE_MOVING:
            continue
        if f.value is None:
            if skipped is not None:
                skipped[SKIP_SELFDESTRUCT_NO_VALUE] = skipped.get(SKIP_SELFDESTRUCT_NO_VALUE, 0) + 1
            continue
        if f.value == 0 and f.call_type not in CREATES:
            continue
        out.append(
            Transfer(
                index=ordinal,
                kind=TransferKind.NATIVE if ordinal == 0 else TransferKind.INTERNAL,
                asset=NATIVE,
                from_address=f.from_address,
                to_address=f.to_address,
                amount=f.value,
                trace_address=",".join(map(str, f.path)),
            )
        )
    return out, False
