"""``fundtrace entity --chain C ADDRESS``: the address's cluster, its labels and the evidence."""

from __future__ import annotations

import json
from typing import Any

from config.commands import FundtraceCommand
from data_processing.attribution_store import entity_view
from fundtrace.core.addresses import InvalidAddress, normalize_address
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import Chain


class Command(FundtraceCommand):
    help = (
        "Show an address's cluster, labels (direct and inherited) and the links that justify them"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chain", required=True, choices=[c.value for c in Chain])
        parser.add_argument("--format", choices=["json", "table"], default="table")
        parser.add_argument("--limit", type=int, default=100, help="addresses and links to list")
        parser.add_argument("address")

    def handle(self, *args: Any, **options: Any) -> None:
        chain = Chain(options["chain"])
        try:
            address = normalize_address(chain, options["address"])
        except InvalidAddress as exc:
            raise FundtraceError(f"invalid {chain} address {options['address']!r}: {exc}") from exc
        doc = entity_view(chain, address, limit=options["limit"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(doc, indent=2))
            return
        self.stdout.write(f"{chain} address {doc['address']}")
        self.stdout.write(f"cluster {doc['cluster_id']}  size {doc['size']}")
        for lbl in doc["labels"]:
            how = "inherited" if lbl.get("inherited") else "direct"
            self.stdout.write(
                f"  label: {lbl['entity']} [{lbl['category']}] confidence {lbl['confidence']} "
                f"({how}, source {lbl['source']})"
            )
        for link in doc["links"]:
            self.stdout.write(
                f"  link: {link['a']} ~ {link['b']}  {link['heuristic']} "
                f"(confidence {link['confidence']}) txs {', '.join(link['txs'][:3])}"
            )
        for c in doc["conflicts"]:
            self.stdout.write(f"  conflict: {c}")
