"""Helper process for the audit concurrency test on the embedded SQLite default.

Run as ``python -m tests.api.concurrent_audit`` with ``FUNDTRACE_SQLITE_PATH`` pointing at a
fresh file: it migrates, lets several threads append audit entries at once through the real
settings (file database, WAL, busy timeout), and prints the sequence numbers and the
verification result as JSON.
"""

from __future__ import annotations

import json
import os
import threading


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from transaction_tracking import audit
    from transaction_tracking.models import AuditEntry

    call_command("migrate", verbosity=0)
    errors: list[str] = []
    barrier = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                audit.record("create", "Seed", f"{n}-{i}", {"n": n})
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    result = audit.verify_chain()
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    print(json.dumps({"errors": errors, "seqs": seqs, "ok": result.ok}))


if __name__ == "__main__":
    main()
