"""Cases: an incident, its seeds, the traces run on it, notes, watchlists and who may see it.

Evidence may end up in court, so two kinds of row never change once written: a finished
``TraceRun`` (re-running makes a new run) and an ``AuditEntry`` (append-only, hash-chained).
Both refuse updates in ``save()``; audit entries also refuse ORM deletes, and the hash chain
catches anything done behind the ORM's back.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from data_collection.fields import U256Field
from data_collection.models import CHAIN_CHOICES


class ImmutableError(Exception):
    """An attempt to change a row that is evidence (finished run, audit entry)."""


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        ACTIVE = "active", "active"
        CLOSED = "closed", "closed"
        ARCHIVED = "archived", "archived"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    incident_time = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    chains = models.JSONField(default=list, blank=True, help_text='e.g. ["btc", "eth"]')
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_cases"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class CaseMember(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "owner"
        INVESTIGATOR = "investigator", "investigator"
        VIEWER = "viewer", "viewer"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_memberships"
    )
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.VIEWER)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_member_uniq")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) on case {self.case_id}"


class StolenAmount(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stolen_amounts")
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    asset = models.CharField(max_length=64, default="native")
    amount = U256Field(help_text="base units (satoshi, wei, lamport, token base units)")
    decimals = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.amount} {self.chain}:{self.asset}"


class Seed(models.Model):
    class Kind(models.TextChoices):
        TX = "tx", "transaction"
        ADDRESS = "address", "address"
        OUTPUT = "output", "output / transfer (hash:index)"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="seeds")
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=200)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "chain", "kind", "value"], name="seed_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.chain}:{self.kind}:{self.value}"


class TraceRun(models.Model):
    """One execution of the tracing engine; immutable once ``done`` or ``failed``."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    FINAL = (Status.DONE, Status.FAILED)

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="runs")
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    asset = models.CharField(max_length=64, blank=True, default="")
    model = models.CharField(max_length=10)
    direction = models.CharField(max_length=10, default="forward")
    parameters = models.JSONField(default=dict)
    data_snapshot = models.JSONField(
        default=dict, blank=True, help_text="max stored block per chain when the run started"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trace_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.model} {self.direction}, {self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = TraceRun.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored in self.FINAL:
                raise ImmutableError(f"trace run {self.pk} is {stored}; re-run to get a new one")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if TraceRun.objects.filter(pk=self.pk, status__in=self.FINAL).exists():
            raise ImmutableError(f"trace run {self.pk} is finished and cannot be deleted")
        return super().delete(*args, **kwargs)


class TransactionChain(models.Model):
    """One hop link a finished trace followed (one row per flow of the run's result)."""

    run = models.ForeignKey(TraceRun, on_delete=models.CASCADE, related_name="flows")
    hop = models.PositiveIntegerField()
    tx_hash = models.CharField(max_length=100)
    index = models.IntegerField(null=True, blank=True)
    from_address = models.CharField(max_length=100, null=True, blank=True)
    to_address = models.CharField(max_length=100, null=True, blank=True)
    amount = U256Field()
    asset = models.CharField(max_length=64)

    class Meta:
        ordering = ["hop", "id"]
        indexes = [
            models.Index(fields=["run", "hop"], name="flow_run_hop_idx"),
            models.Index(fields=["run", "tx_hash"], name="flow_run_tx_idx"),
        ]

    def __str__(self) -> str:
        return f"hop {self.hop} {self.tx_hash}:{self.index}"


class TraceEndpoint(models.Model):
    """Where taint ended in a finished run (labeled entity, holding, fee, limit)."""

    run = models.ForeignKey(TraceRun, on_delete=models.CASCADE, related_name="endpoints")
    address = models.CharField(max_length=100, blank=True, default="")
    entity = models.CharField(max_length=200, null=True, blank=True)
    category = models.CharField(max_length=64, null=True, blank=True)
    kind = models.CharField(max_length=16)
    amount = U256Field()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "address"], name="endpoint_run_addr_idx")]

    def __str__(self) -> str:
        return f"{self.address} {self.kind} {self.amount}"


class Annotation(models.Model):
    class Target(models.TextChoices):
        ADDRESS = "address", "address"
        TX = "tx", "transaction"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="annotations")
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    target_kind = models.CharField(max_length=8, choices=Target.choices)
    target = models.CharField(max_length=200)
    text = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["chain", "target"], name="annotation_target_idx")]

    def __str__(self) -> str:
        return f"{self.chain}:{self.target}: {self.text[:40]}"


class WatchlistEntry(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="watchlist")
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    address = models.CharField(max_length=100)
    reason = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="watchlist_entries"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "watchlist entries"
        constraints = [
            models.UniqueConstraint(fields=["case", "chain", "address"], name="watch_uniq")
        ]
        indexes = [models.Index(fields=["chain", "address", "active"], name="watch_addr_idx")]

    def __str__(self) -> str:
        return f"watch {self.chain}:{self.address}"


class Alert(models.Model):
    """A movement at a watched address; produced by the streaming consumers."""

    watchlist_entry = models.ForeignKey(
        WatchlistEntry, on_delete=models.CASCADE, related_name="alerts"
    )
    chain = models.CharField(max_length=8, choices=CHAIN_CHOICES)
    tx_hash = models.CharField(max_length=100)
    amount = U256Field(null=True, blank=True)
    asset = models.CharField(max_length=64, default="native")
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged = models.BooleanField(default=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="acknowledged_alerts",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"alert {self.chain}:{self.tx_hash}"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableError("audit entries are append-only")


class AuditEntry(models.Model):
    """One recorded action; ``entry_hash`` = sha256(canonical JSON of the entry + prev hash).

    ``actor_id``/``actor_username`` are copied, not a foreign key, so that deleting or renaming
    a user can never rewrite (or cascade into) the record of what they did.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=32)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True, default="")
    changes = models.JSONField(default=dict)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_username or '-'} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise ImmutableError("audit entries are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("audit entries are append-only")


class AuditHead(models.Model):
    """Single row holding the chain's tip; writers lock it so the chain cannot fork."""

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"
