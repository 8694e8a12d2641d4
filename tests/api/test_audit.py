"""The audit trail: append-only, hash-chained, verifiable, and tamper-evident."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from tests.api.conftest import World, make_user
from tests.paths import REPO
from transaction_tracking import audit
from transaction_tracking.models import AuditEntry, AuditHead, ImmutableError

V1 = "/api/v1"
TABLE = AuditEntry._meta.db_table


def verify_cmd() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


@pytest.mark.django_db
def test_entries_hash_chain_by_hand() -> None:
    first = audit.record("create", "Case", 1, {"title": "t", "amount": str(2**200)})
    second = audit.record("export", "Case", 1, {"sha256": "ab"})
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.entry_hash
    # recompute the first hash independently of the module
    payload = {
        "seq": 1,
        "created_at": first.created_at.isoformat(timespec="microseconds"),
        "actor_id": None,
        "actor_username": "",
        "action": "create",
        "object_type": "Case",
        "object_id": "1",
        "changes": {"title": "t", "amount": str(2**200)},
        "ip": None,
    }
    text = json.dumps(
        {"entry": payload, "prev_hash": "0" * 64}, sort_keys=True, separators=(",", ":")
    )
    assert hashlib.sha256(text.encode()).hexdigest() == first.entry_hash


@pytest.mark.django_db
def test_api_actions_build_a_chain_that_verifies(world: World) -> None:
    c = world.client(world.owner)
    c.patch(f"{V1}/cases/{world.case.pk}/", {"title": "Renamed"}, format="json")
    c.get(f"{V1}/cases/{world.case.pk}/export/")
    # the world's two runs were recorded too (run.finish by the system)
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == ["run.finish", "run.finish", "update", "export"]
    update = AuditEntry.objects.get(action="update")
    assert update.changes["changed"]["title"] == ["Hot wallet drained", "Renamed"]
    assert update.object_type == "Case" and update.object_id == str(world.case.pk)
    code, out = verify_cmd()
    assert code == 0
    assert "4 entries verified" in out


@pytest.mark.django_db
def test_orm_refuses_to_change_or_delete_entries() -> None:
    e = audit.record("create", "Case", 1, {})
    e.action = "delete"
    with pytest.raises(ImmutableError):
        e.save()
    with pytest.raises(ImmutableError):
        e.delete()
    with pytest.raises(ImmutableError):
        AuditEntry.objects.filter(pk=e.pk).update(action="x")
    with pytest.raises(ImmutableError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=e.pk).action == "create"


def _entries(n: int) -> list[AuditEntry]:
    return [audit.record("create", "Seed", i, {"value": f"v{i}"}) for i in range(1, n + 1)]


@pytest.mark.django_db
def test_content_tampered_through_raw_sql_is_detected() -> None:
    _entries(5)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET object_id = %s WHERE seq = %s", ["999", 3])
    result = audit.verify_chain()
    assert not result.ok and result.bad_seq == 3 and result.verified == 2
    code, message = verify_cmd()
    assert code == 1
    assert "#3" in message and "hash" in message


@pytest.mark.django_db
def test_changed_json_of_an_entry_is_detected() -> None:
    _entries(3)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {TABLE} SET changes = %s WHERE seq = 2", ['{"value": "forged"}'])
    assert audit.verify_chain().bad_seq == 2


@pytest.mark.django_db
def test_recomputed_hash_breaks_the_next_link() -> None:
    """A forger who also fixes the tampered entry's own hash is caught at the next entry."""
    entries = _entries(4)
    e = entries[1]
    forged = audit.entry_payload(
        seq=e.seq,
        created_at=e.created_at,
        actor_id=None,
        actor_username="",
        action="delete",
        object_type=e.object_type,
        object_id=e.object_id,
        changes=e.changes,
        ip=None,
    )
    new_hash = audit.compute_hash(forged, e.prev_hash)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {TABLE} SET action = %s, entry_hash = %s WHERE seq = %s",
            ["delete", new_hash, e.seq],
        )
    result = audit.verify_chain()
    assert result.bad_seq == 3 and "prev_hash" in result.reason


@pytest.mark.django_db
def test_deleted_entries_are_detected() -> None:
    _entries(5)
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE seq = 2")
    assert audit.verify_chain().bad_seq == 3
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE seq >= 3")
    result = audit.verify_chain()  # only #1 left, but the head remembers #5
    assert not result.ok and result.bad_seq == 2 and "missing" in result.reason


@pytest.mark.django_db
def test_empty_trail_verifies() -> None:
    assert verify_cmd() == (0, "audit chain OK: 0 entries verified\n")


@pytest.mark.django_db
def test_head_row_is_recreated_from_the_last_entry() -> None:
    _entries(2)
    AuditHead.objects.all().delete()
    e = audit.record("create", "Case", 9, {})
    assert e.seq == 3
    assert audit.verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain() -> None:
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory test database has no busy timeout; see the subprocess test")
    user = make_user("writer")
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                audit.record("create", "Seed", f"{n}-{i}", {"n": n}, user=user)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 21))
    assert audit.verify_chain().ok


def test_concurrent_writers_on_the_embedded_sqlite_file(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(FUNDTRACE_SQLITE_PATH=str(tmp_path / "db.sqlite3"), FUNDTRACE_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "tests.api.concurrent_audit"],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"errors": [], "seqs": list(range(1, 21)), "ok": True}


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_entry(world: World) -> None:
    before = AuditEntry.objects.count()
    r = world.client(world.owner).post(
        f"{V1}/cases/{world.case.pk}/seeds/",
        {"chain": "btc", "kind": "tx", "value": "x"},
        format="json",
    )
    assert r.status_code == 400
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_admin_cannot_add_change_or_delete_entries(world: World, client: Any) -> None:
    world.admin.is_staff = True
    world.admin.is_superuser = True
    world.admin.save()
    audit.record("create", "Case", 1, {})
    client.force_login(world.admin)
    e = AuditEntry.objects.first()
    assert client.get("/admin/transaction_tracking/auditentry/").status_code == 200
    assert client.get(f"/admin/transaction_tracking/auditentry/{e.pk}/change/").status_code == 200
    assert client.get("/admin/transaction_tracking/auditentry/add/").status_code == 403
    r = client.post(f"/admin/transaction_tracking/auditentry/{e.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403
    assert audit.verify_chain().ok


def test_fundtrace_audit_verify_cli_exit_codes(tmp_path: Any) -> None:
    import sqlite3

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PYTHONPATH=str(REPO), FUNDTRACE_HOME=str(tmp_path))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "config.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    ok = cli("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "0 entries verified" in ok.stdout
    db = sqlite3.connect(tmp_path / "fundtrace.sqlite3")
    with db:  # an entry smuggled in behind the application's back
        db.execute(
            f"INSERT INTO {TABLE} (seq, created_at, actor_username, action, object_type, "
            "object_id, changes, prev_hash, entry_hash) VALUES "
            "(1, '2026-01-01 00:00:00', 'mallory', 'create', 'Case', '1', '{}', ?, ?)",
            ["0" * 64, "f" * 64],
        )
    db.close()
    bad = cli("audit", "verify")
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0
    assert "#1" in bad.stderr and "hash" in bad.stderr
    assert cli("audit", "frobnicate").returncode == 2
