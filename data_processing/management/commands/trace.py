"""``fundtrace trace``: follow funds forward (where did it go) or backward (where from)."""

from __future__ import annotations

import json
from typing import Any

from config.commands import FundtraceCommand
from data_collection.queries import canonical_address
from data_processing.trace_runner import run_trace
from fundtrace.core.model import Chain
from fundtrace.tracing import explain, format_table

MODELS = ("poison", "haircut", "fifo", "lifo", "tiho")


class Command(FundtraceCommand):
    help = "Trace funds from theft transactions under a taint model, over the stored data"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chain", required=True, choices=[c.value for c in Chain])
        parser.add_argument(
            "--source",
            action="append",
            default=[],
            help="txid:vout (Bitcoin), txhash:index (Ethereum/Solana) or a bare tx hash; repeat",
        )
        parser.add_argument(
            "--source-address",
            action="append",
            default=[],
            help="backward only: trace where this address's current holdings came from",
        )
        parser.add_argument("--model", required=True, choices=MODELS)
        parser.add_argument("--direction", choices=["forward", "backward"], default="forward")
        parser.add_argument("--max-hops", type=int, default=None)
        parser.add_argument(
            "--min-amount", default="0", help="stop following flows below this (base units)"
        )
        parser.add_argument("--asset", default=None, help="token contract / mint, or 'native'")
        parser.add_argument(
            "--through",
            action="append",
            default=[],
            help="follow through addresses of this category (e.g. bridge) instead of stopping",
        )
        parser.add_argument("--format", choices=["json", "table"], default="json")
        parser.add_argument(
            "--explain", metavar="ADDRESS", help="print the paths that carried taint there"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["source"] and not options["source_address"]:
            self.create_parser("fundtrace", "trace").error("give at least one --source")
        chain = Chain(options["chain"])
        doc, result = run_trace(
            chain=chain,
            sources=options["source"],
            address_sources=options["source_address"],
            model=options["model"],
            direction=options["direction"],
            max_hops=options["max_hops"],
            min_amount=options["min_amount"],
            asset=options["asset"],
            through=options["through"],
            return_result=True,
        )
        if options["explain"]:
            target = canonical_address(chain, options["explain"])
            paths = explain(result, target)
            if options["format"] == "json":
                doc_paths = [[_step(s) for s in path] for path in paths]
                self.stdout.write(json.dumps({"address": target, "paths": doc_paths}, indent=2))
            else:
                self.stdout.write(f"paths that carried taint to {target}: {len(paths)}")
                for n, path in enumerate(paths, 1):
                    steps = " -> ".join(f"{s.tx}:{s.index} ({s.amount})" for s in path)
                    self.stdout.write(f"{n}. {steps}")
            return
        if options["format"] == "json":
            self.stdout.write(json.dumps(doc, indent=2))
        else:
            self.stdout.write(format_table(result))
            for w in doc["warnings"]:
                self.stdout.write(f"warning: {w}")


def _step(step: Any) -> dict[str, Any]:
    return {
        "tx": step.tx,
        "index": step.index,
        "from": step.from_address,
        "to": step.to_address,
        "amount": str(step.amount),
    }
