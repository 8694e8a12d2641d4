"""Django admin for cases. Changes made here are audited like API changes; finished trace runs
and audit entries are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict

from transaction_tracking import audit
from transaction_tracking.models import (
    Alert,
    Annotation,
    AuditEntry,
    Case,
    CaseMember,
    Seed,
    StolenAmount,
    TraceEndpoint,
    TraceRun,
    TransactionChain,
    WatchlistEntry,
)


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changes = {k: model_to_dict(obj).get(k) for k in form.changed_data}
            audit.record(
                "update" if change else "create",
                type(obj).__name__,
                obj.pk,
                {"via": "admin", "changed" if change else "data": changes},
                request=request,
            )

    def delete_model(self, request: Any, obj: Any) -> None:
        with transaction.atomic():
            pk, data = obj.pk, model_to_dict(obj)
            super().delete_model(request, obj)
            audit.record(
                "delete", type(obj).__name__, pk, {"via": "admin", "data": data}, request=request
            )

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class MemberInline(admin.TabularInline):
    model = CaseMember
    extra = 0
    autocomplete_fields = ["user"]


class StolenInline(admin.TabularInline):
    model = StolenAmount
    extra = 0


class SeedInline(admin.TabularInline):
    model = Seed
    extra = 0


@admin.register(Case)
class CaseAdmin(AuditedAdmin):
    list_display = ("id", "title", "status", "owner", "incident_time", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "description")
    inlines = [MemberInline, StolenInline, SeedInline]
    raw_id_fields = ["owner"]


@admin.register(CaseMember)
class CaseMemberAdmin(AuditedAdmin):
    list_display = ("case", "user", "role", "added_at")
    list_filter = ("role",)
    raw_id_fields = ["case", "user"]


@admin.register(Seed)
class SeedAdmin(AuditedAdmin):
    list_display = ("case", "chain", "kind", "value")
    list_filter = ("chain", "kind")
    search_fields = ("value",)


@admin.register(StolenAmount)
class StolenAmountAdmin(AuditedAdmin):
    list_display = ("case", "chain", "asset", "amount", "decimals")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(TraceRun)
class TraceRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "case",
        "chain",
        "model",
        "direction",
        "status",
        "created_by",
        "created_at",
        "duration_ms",
    )
    list_filter = ("status", "chain", "model")


@admin.register(TransactionChain)
class TransactionChainAdmin(ReadOnlyAdmin):
    list_display = ("run", "hop", "tx_hash", "index", "from_address", "to_address", "amount")
    search_fields = ("tx_hash", "from_address", "to_address")


@admin.register(TraceEndpoint)
class TraceEndpointAdmin(ReadOnlyAdmin):
    list_display = ("run", "address", "entity", "category", "kind", "amount")
    list_filter = ("kind",)
    search_fields = ("address", "entity")


@admin.register(Annotation)
class AnnotationAdmin(AuditedAdmin):
    list_display = ("case", "chain", "target_kind", "target", "author", "created_at")
    list_filter = ("chain", "target_kind")
    search_fields = ("target", "text")
    raw_id_fields = ["case", "author"]


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(AuditedAdmin):
    list_display = ("case", "chain", "address", "active", "created_by", "created_at")
    list_filter = ("chain", "active")
    search_fields = ("address",)
    raw_id_fields = ["case", "created_by"]


@admin.register(Alert)
class AlertAdmin(AuditedAdmin):
    list_display = (
        "watchlist_entry",
        "chain",
        "tx_hash",
        "amount",
        "asset",
        "acknowledged",
        "created_at",
    )
    list_filter = ("acknowledged", "chain")
    raw_id_fields = ["watchlist_entry", "acknowledged_by"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "seq",
        "created_at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "ip",
    )
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_id")

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)
