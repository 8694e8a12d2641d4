"""``fundtrace demo``: the whole platform on the embedded default, with no servers to set up.

Re-running is safe: every step is idempotent (the scenario is generated once, imports upsert,
clustering is incremental, the demo user and case are reused).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management import call_command

from config.commands import FundtraceCommand
from data_processing.demo_setup import DEMO_USER, run_demo
from fundtrace.core.amounts import format_units


class Command(FundtraceCommand):
    help = "Import a realistic incident, trace it, and serve the workspace at http://127.0.0.1:8000"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="do everything but serving")
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="where to serve")
        parser.add_argument("--json", action="store_true", help="print the case summary as JSON")
        parser.add_argument(
            "--transfers", type=int, default=None, help="size of the generated incident"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        state, summary = run_demo(transfers=options["transfers"])
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            for line in state.log:
                self.stdout.write(f"  {line}")
            self.stdout.write("")
            self.stdout.write(_summary_table(summary))
        host = options["addrport"]
        if state.password:
            self.stderr.write(f"demo investigator: user '{DEMO_USER}', password '{state.password}'")
        else:
            self.stderr.write(
                f"demo investigator: user '{DEMO_USER}' (password shown on first run)"
            )
        self.stderr.write(
            f"case: http://{host}/cases/{state.case_id}/  "
            f"(JSON /api/v1/cases/{state.case_id}/, API docs /api/docs/)"
        )
        if options["no_serve"]:
            return
        self.stderr.write(f"serving http://{host}/  (Ctrl-C to stop)")
        call_command("runserver", host, use_reloader=False, insecure_serving=True)


def _summary_table(summary: dict[str, Any]) -> str:
    lines = [f"case #{summary['case']}: {summary['title']}", "where the funds went:"]
    for t in summary["traces"]:
        d = t["decimals"]
        head = f"  {t['chain']} {t['name']} [{t['model']}]"
        if t["status"] != "done":
            lines.append(f"{head}: {t['status']} {t['error']}")
            continue

        def units(v: str | None, d: int | None = d) -> str:
            return "0" if v is None else format_units(int(v), d)

        parts = [f"{e} {units(v)}" for e, v in sorted(t["by_entity"].items())]
        parts.append(f"still held {units(t['holding'])}")
        lines.append(f"{head} of {units(t['source_amount'])}: " + "; ".join(parts))
    return "\n".join(lines)
