"""What a trace returns, and the three ways people read it: JSON, a table, explained paths."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fundtrace.core.amounts import format_units


class Endpoint(NamedTuple):
    address: str | None
    entity: str | None
    category: str | None
    amount: int
    kind: str  # labeled | holding | fee | limit


class Flow(NamedTuple):
    tx: str
    index: int
    from_address: str | None
    to_address: str | None
    amount: int
    hop: int


class PathStep(NamedTuple):
    """One hop of an explained path; ``amount`` is the share of the endpoint's taint that this
    path carried (the same on every step of the path); ``Flow.amount`` is the whole hop."""

    tx: str
    index: int
    from_address: str | None
    to_address: str | None
    amount: int


@dataclass(slots=True)
class ExplainContext:
    """Flow provenance for ``explain``: terminal flows per address and parents per flow.

    ``terminals(address) -> [(flow_id, weight)]`` and ``parents(flow_id) -> [(flow_id,
    weight)]`` (the tainted flows that fed this one; empty for a source flow).
    """

    flows: Sequence[Flow]
    terminals: Callable[[str], list[tuple[int, int]]]
    parents: Callable[[int], list[tuple[int, int]]]
    endpoint_amount: Callable[[str], int]


@dataclass(slots=True)
class TraceResult:
    chain: str
    asset: str
    decimals: int | None
    model: str
    direction: str
    sources: list[str]
    source_amount: int
    parameters: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    _endpoints: Callable[[], list[Endpoint]] | list[Endpoint] | None = None
    _flows: Callable[[], list[Flow]] | list[Flow] | None = None
    _explain: Callable[[TraceResult], ExplainContext] | ExplainContext | None = None
    _ranges: Callable[[str, int], list[tuple[int, int]]] | None = None

    def tainted_ranges(self, txid: str, vout: int) -> list[tuple[int, int]]:
        """fifo/lifo on Bitcoin: the output's tainted satoshis as [start, end) offsets from its
        first satoshi (exact, merged, ascending)."""
        if self._ranges is None:
            raise ValueError("satoshi ranges exist only for fifo/lifo traces on Bitcoin")
        return self._ranges(txid, vout)

    @property
    def endpoints(self) -> list[Endpoint]:
        """Largest first; materialized on first use (a big poison trace has many)."""
        if callable(self._endpoints):
            self._endpoints = sorted(
                self._endpoints(), key=lambda e: (-e.amount, e.kind, e.address or "")
            )
        return self._endpoints or []

    @property
    def flows(self) -> list[Flow]:
        if callable(self._flows):
            self._flows = self._flows()
        return self._flows or []

    def explain_context(self) -> ExplainContext:
        if callable(self._explain):  # given self, so it need not hold a reference to it
            self._explain = self._explain(self)
        assert self._explain is not None
        return self._explain

    def summary(self) -> dict[str, Any]:
        by_entity: dict[str, int] = {}
        totals = {"holding": 0, "fee": 0, "limit": 0, "labeled": 0}
        for e in self.endpoints:
            totals[e.kind] += e.amount
            if e.kind == "labeled":
                key = e.entity or e.address or "?"
                by_entity[key] = by_entity.get(key, 0) + e.amount
        return {"by_entity": by_entity, **totals}

    def to_dict(self) -> dict[str, Any]:
        s = self.summary()
        return {
            "chain": self.chain,
            "asset": self.asset,
            "decimals": self.decimals,
            "model": self.model,
            "direction": self.direction,
            "sources": list(self.sources),
            "source_amount": str(self.source_amount),
            "endpoints": [
                {
                    "address": e.address,
                    "entity": e.entity,
                    "category": e.category,
                    "amount": str(e.amount),
                    "kind": e.kind,
                }
                for e in self.endpoints
            ],
            "summary": {
                "by_entity": {k: str(v) for k, v in sorted(s["by_entity"].items())},
                "holding": str(s["holding"]),
                "fee": str(s["fee"]),
                "limit": str(s["limit"]),
            },
            "flows": [
                {
                    "tx": f.tx,
                    "index": f.index,
                    "from": f.from_address,
                    "to": f.to_address,
                    "amount": str(f.amount),
                    "hop": f.hop,
                }
                for f in self.flows
            ],
            "warnings": list(self.warnings),
            "parameters": dict(self.parameters),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)


def format_table(result: TraceResult, *, max_flows: int = 50) -> str:
    """The same content as the JSON, for people: amounts in whole units, biggest first."""
    d = result.decimals

    def amt(v: int) -> str:
        return format_units(v, d)

    lines = [
        f"{result.chain} {result.asset}  model={result.model}  direction={result.direction}",
        f"sources: {', '.join(result.sources)}",
        f"source amount: {amt(result.source_amount)}",
        "",
        f"{'kind':<8} {'amount':>28}  {'entity':<24} {'category':<12} address",
    ]
    for e in result.endpoints:
        lines.append(
            f"{e.kind:<8} {amt(e.amount):>28}  {(e.entity or '-'):<24} "
            f"{(e.category or '-'):<12} {e.address or '-'}"
        )
    s = result.summary()
    lines += ["", "summary:"]
    for name, v in sorted(s["by_entity"].items()):
        lines.append(f"  {name:<30} {amt(v):>28}")
    for k in ("holding", "fee", "limit"):
        lines.append(f"  {k:<30} {amt(s[k]):>28}")
    flows = result.flows
    lines += ["", f"flows ({len(flows)}):"]
    for f in flows[:max_flows]:
        lines.append(
            f"  hop {f.hop:>3}  {f.tx}:{f.index}  {f.from_address or '-'} -> "
            f"{f.to_address or '-'}  {amt(f.amount)}"
        )
    if len(flows) > max_flows:
        lines.append(f"  ... {len(flows) - max_flows} more (use --format json)")
    for w in result.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


def _split(total: int, weights: list[int]) -> list[int]:
    """Largest-remainder split (ties to the lower index); equal split if all weights are 0."""
    if not weights:
        return []
    denom = sum(weights)
    if denom == 0:
        weights = [1] * len(weights)
        denom = len(weights)
    shares = [total * w // denom for w in weights]
    rems = [total * w % denom for w in weights]
    left = total - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-rems[i], i))[:left]:
        shares[i] += 1
    return shares


def explain(result: TraceResult, address: str, *, max_paths: int = 1000) -> list[list[PathStep]]:
    """Paths (source first) that carried taint to ``address``; their amounts sum to the total
    of the address's endpoints.

    The endpoint amount is apportioned over the tainted flows that reached the address, and
    each flow's share over the tainted flows that fed it (largest remainder), back to the
    sources. This is exact for the path structure; for fifo/lifo the split between parents is
    proportional rather than lot-exact. Past ``max_paths`` a share is reported as a path that
    starts at the flow where expansion stopped.
    """
    ctx = result.explain_context()
    total = ctx.endpoint_amount(address)
    terms = ctx.terminals(address)
    paths: list[list[PathStep]] = []
    if total == 0 or not terms:
        return paths
    budget = [max_paths]

    def step(fid: int, amount: int) -> PathStep:
        f = ctx.flows[fid]
        return PathStep(f.tx, f.index, f.from_address, f.to_address, amount)

    def walk(fid: int, amount: int, suffix: list[int]) -> None:
        here = [fid, *suffix]
        parents = ctx.parents(fid)
        if not parents or budget[0] <= len(parents):
            budget[0] -= 1
            paths.append([step(i, amount) for i in here])
            return
        for (pid, _), share in zip(parents, _split(amount, [w for _, w in parents]), strict=True):
            if share > 0:
                walk(pid, share, here)

    for (fid, _), share in zip(terms, _split(total, [w for _, w in terms]), strict=True):
        if share > 0:
            walk(fid, share, [])
    return paths
