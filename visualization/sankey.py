"""A trace run's flows as a Sankey diagram: where the stolen funds went, hop by hop.

The diagram is built from the run's result document (the same ``flows`` and ``endpoints``
the API serves), so the picture and the evidence cannot disagree. Links between addresses
come from the flows; links into the final nodes (entities, "still held", fees, "stopped at
limit") come from the endpoints, so that for every conserving model the amounts that arrive
at the right-hand side are exactly the run's endpoint amounts. Flows carry a representative
``from`` address (Bitcoin: one of the spending inputs), so a middle node's in and out need not
balance; the ends always do.

Amounts stay Python ints here; only the Plotly figure turns them into floats, for the
geometry of the drawing, and carries the exact decimal string beside each link for hovering.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fundtrace.core.amounts import format_units

TERMINAL_KINDS = ("entity", "held", "fee", "limit")
HELD = "still held"
FEE = "fees"
LIMIT = "stopped at limit"
FEE_ORIGIN = "fees paid in traced transactions"


@dataclass(frozen=True)
class SankeyNode:
    key: str
    label: str
    kind: str  # source | address | hop | entity | held | fee | limit
    title: str = ""  # full text for hovering (the whole address)


@dataclass(frozen=True)
class SankeyLink:
    source: int
    target: int
    amount: int


@dataclass
class Sankey:
    nodes: list[SankeyNode] = field(default_factory=list)
    links: list[SankeyLink] = field(default_factory=list)
    collapsed: bool = False
    dropped_self_links: int = 0

    def into_terminals(self) -> dict[str, int]:
        """Amount arriving at each final node, keyed by the node's label."""
        out: dict[str, int] = {}
        for link in self.links:
            node = self.nodes[link.target]
            if node.kind in TERMINAL_KINDS:
                out[node.label] = out.get(node.label, 0) + link.amount
        return out


def short_address(address: str, keep: int = 6) -> str:
    if len(address) <= 2 * keep + 1:
        return address
    return f"{address[:keep]}…{address[-4:]}"


def terminal_label(endpoint: Mapping[str, Any]) -> tuple[str, str]:
    """(label, kind) of the final node an endpoint belongs to."""
    kind = endpoint.get("kind")
    if kind == "labeled":
        name = endpoint.get("entity") or endpoint.get("category") or "labeled (unnamed)"
        return str(name), "entity"
    if kind == "holding":
        return HELD, "held"
    if kind == "fee":
        return FEE, "fee"
    return LIMIT, "limit"


def endpoint_totals(endpoints: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Endpoint amounts summed by final-node label (what ``into_terminals`` must equal)."""
    out: dict[str, int] = {}
    for e in endpoints:
        label, _ = terminal_label(e)
        out[label] = out.get(label, 0) + int(e["amount"])
    return out


class _Builder:
    def __init__(self) -> None:
        self.sankey = Sankey()
        self.index: dict[str, int] = {}
        self.links: dict[tuple[int, int], int] = {}

    def node(self, key: str, label: str, kind: str, title: str = "") -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.sankey.nodes)
            self.sankey.nodes.append(SankeyNode(key, label, kind, title or label))
        return i

    def link(self, a: int, b: int, amount: int) -> None:
        if amount <= 0:
            return
        if a == b:
            self.sankey.dropped_self_links += 1
            return
        self.links[(a, b)] = self.links.get((a, b), 0) + amount

    def done(self) -> Sankey:
        self.sankey.links = [SankeyLink(a, b, v) for (a, b), v in self.links.items()]
        return self.sankey


def build_sankey(
    flows: Iterable[Mapping[str, Any]],
    endpoints: Iterable[Mapping[str, Any]],
    *,
    max_address_nodes: int | None = 60,
) -> Sankey:
    """Nodes and links for a run's flows and endpoints (result-document dicts).

    With more distinct addresses than ``max_address_nodes`` (None: no limit), addresses are
    grouped per hop ("hop 3": what the flows of that hop paid) so that a large run still draws
    legibly and strictly left to right; an endpoint is drawn from the last hop that paid its
    address. The final nodes and the amounts reaching them are the same either way.
    """
    flows = list(flows)
    endpoints = list(endpoints)
    received_at: dict[str, int] = {}  # first hop that paid the address
    last_received: dict[str, int] = {}  # last one: where its endpoint is drawn from, grouped
    for f in flows:
        to = f.get("to")
        if to is not None:
            hop = int(f.get("hop") or 0)
            received_at[to] = min(hop, received_at.get(to, hop))
            last_received[to] = max(hop, last_received.get(to, hop))
    addresses = set(received_at)
    addresses.update(f["from"] for f in flows if f.get("from") is not None)
    addresses.update(e["address"] for e in endpoints if e.get("address"))
    collapsed = max_address_nodes is not None and len(addresses) > max_address_nodes

    b = _Builder()
    b.sankey.collapsed = collapsed

    def hop_node(hop: int) -> int:
        if hop < 0:
            return b.node("source", "theft source", "source")
        return b.node(f"h:{hop}", f"hop {hop + 1}", "hop")

    def node_of(address: str | None) -> int:
        if address is None:
            return b.node("origin", "unknown origin", "source")
        if collapsed:
            return hop_node(last_received.get(address, -1))
        if address not in received_at:
            return b.node(f"a:{address}", f"source {short_address(address)}", "source", address)
        return b.node(f"a:{address}", short_address(address), "address", address)

    def flow_ends(f: Mapping[str, Any]) -> tuple[int, int | None]:
        """Grouped, a flow of hop h runs from the group of hop h-1 to the group of hop h."""
        if not collapsed:
            to = f.get("to")
            return node_of(f.get("from")), None if to is None else node_of(to)
        hop = int(f.get("hop") or 0)
        return hop_node(hop - 1), None if f.get("to") is None else hop_node(hop)

    def terminal(endpoint: Mapping[str, Any]) -> int:
        label, kind = terminal_label(endpoint)
        return b.node(f"t:{kind}:{label}", label, kind)

    for f in flows:
        src, dst = flow_ends(f)
        if dst is None:  # gas and other fees leave the traced addresses here
            dst = b.node(f"t:fee:{FEE}", FEE, "fee")
        b.link(src, dst, int(f["amount"]))
    fees_drawn = sum(int(f["amount"]) for f in flows if f.get("to") is None)
    fees_without_address = 0
    for e in endpoints:
        amount = int(e["amount"])
        if e.get("address"):
            b.link(node_of(e["address"]), terminal(e), amount)
        elif e.get("kind") == "fee":
            fees_without_address += amount
        else:
            b.link(b.node("origin", "unknown origin", "source"), terminal(e), amount)
    rest = fees_without_address - fees_drawn
    if rest > 0:  # UTXO fees: the flows do not say which transaction paid how much
        b.link(b.node("fee-origin", FEE_ORIGIN, "source"), b.node(f"t:fee:{FEE}", FEE, "fee"), rest)
    return b.done()


NODE_COLOURS = {
    "source": "#b2182b",
    "address": "#9e9e9e",
    "hop": "#9e9e9e",
    "entity": "#2166ac",
    "held": "#e08214",
    "fee": "#5e5e5e",
    "limit": "#8073ac",
}


def plotly_figure(sankey: Sankey, decimals: int | None, unit: str = "") -> dict[str, Any]:
    """A Plotly figure (plain dict, ready for ``Plotly.newPlot``) of the diagram."""
    scale = 10 ** (decimals or 0)
    suffix = f" {unit}" if unit else ""
    exact = [format_units(link.amount, decimals) + suffix for link in sankey.links]
    trace = {
        "type": "sankey",
        "arrangement": "snap",
        "valueformat": ",.6~g",
        "node": {
            "label": [n.label for n in sankey.nodes],
            "customdata": [n.title for n in sankey.nodes],
            "hovertemplate": "%{customdata}<extra></extra>",
            "color": [NODE_COLOURS.get(n.kind, "#9e9e9e") for n in sankey.nodes],
            "pad": 12,
            "thickness": 14,
        },
        "link": {
            "source": [link.source for link in sankey.links],
            "target": [link.target for link in sankey.links],
            # Geometry only; the exact amount is in customdata.
            "value": [link.amount / scale for link in sankey.links],
            "customdata": exact,
            "hovertemplate": "%{source.customdata} → %{target.customdata}<br>%{customdata}"
            "<extra></extra>",
            "color": "rgba(120,120,120,0.25)",
        },
    }
    height = max(420, min(1400, 18 * len(sankey.nodes)))
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "font": {"size": 11},
    }
    return {"data": [trace], "layout": layout}
