"""``fundtrace audit verify``: recompute the audit trail's hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from config.commands import FundtraceCommand
from transaction_tracking.audit import verify_chain


class Command(FundtraceCommand):
    help = "Check the audit trail: 'verify' recomputes every entry's hash and the chain links"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify"], help="verify the hash chain")

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"audit chain broken at entry #{result.bad_seq}: {result.reason} "
                f"({result.verified} entries before it verified)",
                returncode=1,
            )
        self.stdout.write(f"audit chain OK: {result.verified} entries verified")
