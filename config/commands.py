"""Base class for fundtrace's management commands: one-line errors and the CLI's exit codes.

Exit codes: 0 success, 1 the work failed (bad input file, unreachable node...), 2 bad
arguments. Every failure is a single line on stderr that says what was wrong.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fundtrace.core.errors import FundtraceError


def _one_line_error(parser: CommandParser, message: str) -> NoReturn:
    if getattr(parser, "called_from_command_line", False):
        sys.stderr.write(f"{parser.prog}: error: {message}\n")
        sys.exit(2)
    raise CommandError(f"Error: {message}", returncode=2)


class FundtraceCommand(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.prog = f"fundtrace {subcommand}"
        parser.error = lambda message: _one_line_error(parser, message)  # type: ignore[method-assign]
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except FundtraceError as exc:
            raise CommandError(str(exc), returncode=1) from exc
