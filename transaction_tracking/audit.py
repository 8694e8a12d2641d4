"""The append-only, hash-chained audit trail.

Every entry's hash is sha256 over the canonical JSON of its content plus the previous entry's
hash, and entries carry a gap-free sequence number, so changing, deleting or inserting any entry
behind the ORM's back breaks verification at that entry. Writers serialize on the single
``AuditHead`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite an UPDATE of that row
takes the database write lock first), so two concurrent writers can never both extend the same
tip and fork the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from transaction_tracking.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One byte-exact spelling of a JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def jsonable(value: Any) -> Any:
    """Make a change record JSON-safe without floats: ints stay ints, the rest becomes text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_payload(
    *,
    seq: int,
    created_at: dt.datetime,
    actor_id: int | None,
    actor_username: str,
    action: str,
    object_type: str,
    object_id: str,
    changes: Any,
    ip: str | None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "created_at": _timestamp(created_at),
        "actor_id": actor_id,
        "actor_username": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "changes": changes,
        "ip": ip,
    }


def compute_hash(payload: dict[str, Any], prev_hash: str) -> str:
    data = canonical_json({"entry": payload, "prev_hash": prev_hash})
    return hashlib.sha256(data.encode()).hexdigest()


def _lock_head() -> AuditHead:
    """Lock (creating if needed) the chain tip for the current transaction."""
    for _ in range(3):
        if connection.vendor == "postgresql":
            head = AuditHead.objects.select_for_update().filter(pk=1).first()
        else:
            # Writing first makes SQLite take its write lock now instead of failing later.
            touched = AuditHead.objects.filter(pk=1).update(seq=F("seq"))
            head = AuditHead.objects.filter(pk=1).first() if touched else None
        if head is not None:
            return head
        last = AuditEntry.objects.order_by("-seq").first()
        try:
            with transaction.atomic():
                AuditHead.objects.create(
                    pk=1,
                    seq=last.seq if last else 0,
                    entry_hash=last.entry_hash if last else GENESIS,
                )
        except IntegrityError:
            pass  # another writer created it; lock it on the next pass
    raise RuntimeError("could not lock the audit chain head")


def client_ip(request: Any) -> str | None:
    """The peer address; proxies' X-Forwarded-For is not trusted (it is client-controlled)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    object_type: str,
    object_id: Any = "",
    changes: Any = None,
    *,
    user: Any = None,
    request: Any = None,
) -> AuditEntry:
    """Append one entry; joins the caller's transaction, so a rolled-back change leaves none."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    actor_id = getattr(user, "pk", None) if user is not None else None
    actor_username = getattr(user, "username", "") if actor_id is not None else ""
    with transaction.atomic():
        head = _lock_head()
        created_at = timezone.now()
        payload = entry_payload(
            seq=head.seq + 1,
            created_at=created_at,
            actor_id=actor_id,
            actor_username=actor_username or "",
            action=action,
            object_type=object_type,
            object_id="" if object_id is None else str(object_id),
            changes=jsonable(changes if changes is not None else {}),
            ip=client_ip(request),
        )
        digest = compute_hash(payload, head.entry_hash)
        entry = AuditEntry(
            seq=payload["seq"],
            created_at=created_at,
            actor_id=actor_id,
            actor_username=payload["actor_username"],
            action=action,
            object_type=object_type,
            object_id=payload["object_id"],
            changes=payload["changes"],
            ip=payload["ip"],
            prev_hash=head.entry_hash,
            entry_hash=digest,
        )
        entry.save()
        AuditHead.objects.filter(pk=1).update(seq=entry.seq, entry_hash=digest)
        return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    verified: int
    bad_seq: int | None = None
    reason: str = ""


def _entries() -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)


def verify_chain() -> VerifyResult:
    """Recompute every hash in order; report the first entry that does not check out."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for e in _entries():
        if e.seq != expected_seq:
            return VerifyResult(
                False, count, e.seq, f"sequence gap: expected #{expected_seq}, found #{e.seq}"
            )
        if e.prev_hash != prev:
            return VerifyResult(
                False, count, e.seq, "prev_hash does not match the previous entry's hash"
            )
        payload = entry_payload(
            seq=e.seq,
            created_at=e.created_at,
            actor_id=e.actor_id,
            actor_username=e.actor_username,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            changes=e.changes,
            ip=e.ip,
        )
        if compute_hash(payload, prev) != e.entry_hash:
            return VerifyResult(False, count, e.seq, "content does not match its hash")
        prev = e.entry_hash
        expected_seq += 1
        count += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.seq > count:
        return VerifyResult(
            False,
            count,
            count + 1,
            f"entries #{count + 1}..#{head.seq} are missing (the chain head says #{head.seq})",
        )
    return VerifyResult(True, count)


def sha256_json(value: Any) -> str:
    """Fingerprint of a JSON document (an export, a run result) for the audit record."""
    return hashlib.sha256(canonical_json(jsonable(value)).encode()).hexdigest()
