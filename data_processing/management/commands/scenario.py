"""``fundtrace scenario generate``: realistic incident data in real formats, with ground truth."""

from __future__ import annotations

from typing import Any

from config.commands import FundtraceCommand
from fundtrace.core.errors import FundtraceError
from fundtrace.scenarios.generate import KINDS, generate


class Command(FundtraceCommand):
    help = "Generate an incident (bitcoin-etl, ethereum-etl, Solana RPC files + ground truth)"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        g = sub.add_parser("generate", help="write a scenario's data, labels and ground truth")
        g.add_argument("--kind", required=True, choices=sorted(KINDS))
        g.add_argument("--seed", required=True)
        g.add_argument("--out", required=True)
        g.add_argument("--transfers", type=int, default=None, help="1,000 to 10,000,000")
        g.error = parser.error

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            m = generate(
                options["kind"], options["seed"], options["out"], transfers=options["transfers"]
            )
        except ValueError as exc:
            raise FundtraceError(str(exc)) from exc
        for i in m.inputs:
            self.stdout.write(
                f"{i.chain.value}: {len(i.paths)} {i.fmt} shard(s), {m.counts[i.chain.value]}; "
                f"import with: fundtrace import --chain {i.chain.value} --format {i.fmt} ..."
            )
        self.stdout.write(f"labels: {m.labels_csv}")
        self.stdout.write(f"ground truth: {m.ground_truth}")
