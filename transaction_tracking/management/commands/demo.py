"""``fundtrace demo``: the whole platform on the embedded default, with no servers to set up.

Re-running is safe: every step is idempotent (imports upsert, the demo user is reused).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command

from config.commands import FundtraceCommand
from data_collection.models import BlockchainTransaction, Transfer, TxOutput

DEMO_USER = "demo"


class Command(FundtraceCommand):
    help = "Import a realistic incident, trace it, and serve the workspace at http://127.0.0.1:8000"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-serve", action="store_true", help="do everything but serving")
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="where to serve")

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._demo_user()
        counts = {
            "transactions": BlockchainTransaction.objects.count(),
            "outputs": TxOutput.objects.count(),
            "transfers": Transfer.objects.count(),
        }
        self.stdout.write("fundtrace demo")
        self.stdout.write("  stored: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        if password:
            self.stdout.write(f"  demo investigator: user '{DEMO_USER}', password '{password}'")
        else:
            self.stdout.write(
                f"  demo investigator: user '{DEMO_USER}' (password printed on first run)"
            )
        if options["no_serve"]:
            return
        self.stdout.write(f"  serving http://{options['addrport']}/  (Ctrl-C to stop)")
        call_command("runserver", options["addrport"], use_reloader=False, insecure_serving=True)

    def _demo_user(self) -> str | None:
        """Create the demo investigator once; its random password is shown only then."""
        user_model = get_user_model()
        if user_model.objects.filter(username=DEMO_USER).exists():
            return None
        password = secrets.token_urlsafe(12)
        user_model.objects.create_user(
            DEMO_USER, password=password, is_investigator=True, bio="Demo investigator"
        )
        return password
