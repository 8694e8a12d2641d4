"""The ``fundtrace`` command: a thin front over Django management commands.

``fundtrace SUBCOMMAND ...`` and ``python manage.py COMMAND ...`` run the same code. The CLI adds
the global ``--database-url`` option and migrates the embedded database on first use, so a new
user never has to run ``migrate`` by hand.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# CLI subcommand -> (Django management command, one-line help). Issues add their commands here.
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("migrate", "create or update the database schema"),
    "demo": ("demo", "import a realistic incident, trace it and serve the web workspace"),
    "import": ("import_chain_data", "import node/indexer responses or ETL exports"),
    "show": ("show", "print a stored transaction or address"),
    "trace": ("trace", "follow funds forward or backward under a taint model"),
    "labels": ("labels", "import and show address labels"),
    "cluster": ("cluster", "build address clusters from stored transactions"),
    "entity": ("entity", "show an address's cluster, labels and the evidence"),
    "collect": ("collect", "collect blocks or address histories from nodes and indexers"),
    "audit": ("audit", "verify the audit trail's hash chain"),
    "scenario": ("scenario", "generate a realistic incident with its ground truth"),
    "serve": ("runserver", "serve the web workspace and API"),
    "createuser": ("createsuperuser", "create an administrator"),
}

NO_AUTO_MIGRATE = {"migrate", "createuser"}


def _usage() -> str:
    available = _available()
    width = max(len(n) for n in available) + 2
    lines = [
        "usage: fundtrace [--database-url URL] SUBCOMMAND [options]",
        "",
        "Trace stolen cryptocurrency on Bitcoin, Ethereum and Solana.",
        "",
        "subcommands:",
    ]
    lines += [f"  {name.ljust(width)}{COMMANDS[name][1]}" for name in available]
    lines += [
        "",
        "global options:",
        "  --database-url URL  database to use (default: $DATABASE_URL, else ./fundtrace.sqlite3)",
        "  -h, --help          show this help; 'fundtrace SUBCOMMAND --help' for a subcommand",
    ]
    return "\n".join(lines)


def _available() -> list[str]:
    """Subcommands whose management command exists in this build."""
    from django.core.management import get_commands

    known = get_commands()
    return [name for name, (cmd, _) in COMMANDS.items() if cmd in known]


def _fail(message: str) -> int:
    sys.stderr.write(f"fundtrace: error: {message}\n")
    return 2


def _ensure_migrated() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    database_url = None
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in {"-h", "--help"}:
            _setup(None)
            print(_usage())
            return 0
        if opt == "--database-url":
            if not args:
                return _fail("--database-url needs a value")
            database_url = args.pop(0)
        elif opt.startswith("--database-url="):
            database_url = opt.split("=", 1)[1]
        else:
            return _fail(f"unknown option {opt!r} (see 'fundtrace --help')")
    if database_url is not None and not database_url.startswith(
        ("postgres://", "postgresql://", "sqlite://")
    ):
        return _fail(f"--database-url must be postgres://... or sqlite://..., got {database_url!r}")
    if not args:
        return _fail("a subcommand is required (see 'fundtrace --help')")
    sub, rest = args[0], args[1:]
    _setup(database_url)
    if sub not in COMMANDS or sub not in _available():
        return _fail(f"unknown subcommand {sub!r} (see 'fundtrace --help')")
    command = COMMANDS[sub][0]
    if sub not in NO_AUTO_MIGRATE and not ({"-h", "--help"} & set(rest)):
        _ensure_migrated()
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["fundtrace", command, *rest])
    utility.prog_name = "fundtrace"
    try:
        utility.execute()
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


def _setup(database_url: str | None) -> None:
    if database_url is not None:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


if __name__ == "__main__":
    sys.exit(main())
