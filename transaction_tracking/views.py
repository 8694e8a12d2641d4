"""The case API: cases, members, seeds, stolen amounts, runs (+ flows, endpoints, comparison),
annotations, watchlists, alerts and the case export.

Every change made through these views is written to the audit trail in the same database
transaction as the change itself, so there is no change without its record and no record of a
change that was rolled back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from transaction_tracking import access, audit, runs
from transaction_tracking import serializers as s
from transaction_tracking.filters import QueryFilter, QueryFilterBackend, SafeOrderingFilter
from transaction_tracking.models import (
    Alert,
    Annotation,
    Case,
    CaseMember,
    Seed,
    StolenAmount,
    TraceEndpoint,
    TraceRun,
    TransactionChain,
    WatchlistEntry,
)
from transaction_tracking.pagination import BoundedLimitOffsetPagination
from transaction_tracking.validation import CHAINS

CASE_PK = OpenApiParameter("case_pk", int, OpenApiParameter.PATH, description="case id")
RUN_PK = OpenApiParameter("run_pk", int, OpenApiParameter.PATH, description="trace run id")
ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
FILTERS = [QueryFilterBackend, SafeOrderingFilter]


def _plain(data: Any) -> Any:
    return audit.jsonable(data)


class AuditedMixin:
    """create/update/destroy with an audit entry each, atomically."""

    audit_type: str = ""
    request: Request
    pagination_class = BoundedLimitOffsetPagination

    def _audit_type(self) -> str:
        return self.audit_type or self.get_queryset().model.__name__  # type: ignore[attr-defined]

    def _snapshot(self, instance: Any) -> dict[str, Any]:
        return _plain(self.get_serializer(instance).data)  # type: ignore[attr-defined]

    def _audit_extra(self) -> dict[str, Any]:
        case = getattr(self, "case", None)
        return {"case": case.pk} if case is not None else {}

    def save_new(self, serializer: serializers.Serializer) -> Any:
        return serializer.save()

    def perform_create(self, serializer: serializers.Serializer) -> None:
        with transaction.atomic():
            obj = self.save_new(serializer)
            audit.record(
                "create",
                self._audit_type(),
                obj.pk,
                {**self._audit_extra(), "data": self._snapshot(obj)},
                request=self.request,
            )

    def perform_update(self, serializer: serializers.Serializer) -> None:
        with transaction.atomic():
            before = self._snapshot(serializer.instance)
            obj = serializer.save()
            after = self._snapshot(obj)
            diff = {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
            audit.record(
                "update",
                self._audit_type(),
                obj.pk,
                {**self._audit_extra(), "changed": diff},
                request=self.request,
            )

    def perform_destroy(self, instance: Any) -> None:
        with transaction.atomic():
            before = self._snapshot(instance)
            pk = instance.pk
            instance.delete()
            audit.record(
                "delete",
                self._audit_type(),
                pk,
                {**self._audit_extra(), "data": before},
                request=self.request,
            )


class CaseScopedMixin(AuditedMixin):
    """Views below /cases/{case_pk}/: 404 unless the case is visible, 403 on unauthorized writes."""

    write_roles: frozenset[str] = access.WRITE_ROLES
    model: Any = None
    case: Case
    role: str

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self.case, self.role = access.get_visible_case(request.user, kwargs.get("case_pk"))
        if request.method not in ("GET", "HEAD", "OPTIONS") and self.role not in self.write_roles:
            raise PermissionDenied(f"your role on this case ({self.role}) cannot change it")

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.model.objects.filter(case=self.case)

    def get_serializer_context(self) -> dict[str, Any]:
        ctx = super().get_serializer_context()  # type: ignore[misc]
        ctx["case"] = getattr(self, "case", None)
        return ctx

    def save_new(self, serializer: serializers.Serializer) -> Any:
        return serializer.save(case=self.case)


# --- cases ------------------------------------------------------------------------------------


@extend_schema_view(
    export=extend_schema(
        summary="Export the case as JSON (seeds, runs with results, annotations); audited",
        responses=s.ExportSerializer,
    ),
    destroy=extend_schema(
        responses={204: None, 409: OpenApiResponse(description="the case has trace runs")}
    ),
)
class CaseViewSet(AuditedMixin, viewsets.ModelViewSet):
    """Cases visible to the user: owned, shared with them, or all for administrators."""

    serializer_class = s.CaseSerializer
    filter_backends = FILTERS
    query_filters = {
        "status": QueryFilter("status", "choice", tuple(Case.Status.values)),
        "chain": QueryFilter("chains__icontains", "choice", CHAINS, "cases covering a chain"),
        "search": QueryFilter("title__icontains", description="text in the title"),
    }
    ordering_fields = ["created_at", "updated_at", "title", "incident_time", "id"]
    ordering = ["-created_at", "-id"]
    audit_type = "Case"

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        return (
            access.visible_cases(self.request.user)
            .select_related("owner")
            .prefetch_related("stolen_amounts")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        ctx = super().get_serializer_context()
        user = self.request.user if self.request else None
        if user is not None and user.is_authenticated:
            roles = dict(CaseMember.objects.filter(user=user).values_list("case_id", "role"))
            ctx["roles"] = _RoleMap(user, roles)
        return ctx

    def check_object_permissions(self, request: Request, obj: Case) -> None:
        super().check_object_permissions(request, obj)
        if request.method in ("GET", "HEAD", "OPTIONS") or self.action == "export":
            return
        if access.case_role(request.user, obj) not in access.MANAGE_ROLES:
            raise PermissionDenied("only the case owner or an administrator can change a case")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not access.can_open_cases(request.user):
            raise PermissionDenied("only investigators and administrators open cases")
        return super().create(request, *args, **kwargs)

    def save_new(self, serializer: serializers.Serializer) -> Case:
        case = serializer.save(owner=self.request.user)
        CaseMember.objects.create(case=case, user=self.request.user, role=CaseMember.Role.OWNER)
        return case

    def perform_destroy(self, instance: Case) -> None:
        if instance.runs.exists():
            raise _Conflict("the case has trace runs (evidence); close or archive it instead")
        super().perform_destroy(instance)

    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: Any = None) -> Response:
        case = self.get_object()
        doc = export_case(case, request.user)
        digest = audit.sha256_json(doc)
        audit.record(
            "export",
            "Case",
            case.pk,
            {"case": case.pk, "sha256": digest, "runs": len(doc["runs"])},
            request=request,
        )
        response = Response(doc)
        response["X-Content-SHA256"] = digest
        return response


class _RoleMap(dict):
    """Role lookup for ``my_role`` without a query per case."""

    def __init__(self, user: Any, roles: dict[int, str]) -> None:
        super().__init__(roles)
        self.admin = access.is_admin(user)

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key) or ("owner" if self.admin else default)


class _Conflict(ValidationError):
    status_code = status.HTTP_409_CONFLICT


def _row(serializer_class: type, instance: Any) -> dict[str, Any]:
    return _plain(serializer_class(instance).data)


def export_case(case: Case, user: Any) -> dict[str, Any]:
    """The whole case as one JSON document (what a court bundle or another tool would import)."""
    runs_out = []
    for run in case.runs.order_by("id"):
        row = _row(s.TraceRunSerializer, run)
        runs_out.append(row)
    return {
        "format": "fundtrace-case-export/1",
        "exported_at": timezone.now().isoformat(),
        "exported_by": user.username,
        "case": {**_row(s.CaseSerializer, case), "my_role": None},
        "members": [_row(s.CaseMemberSerializer, m) for m in case.members.select_related("user")],
        "seeds": [_row(s.SeedSerializer, x) for x in case.seeds.all()],
        "runs": runs_out,
        "annotations": [
            _row(s.AnnotationSerializer, a) for a in case.annotations.select_related("author")
        ],
        "watchlist": [
            _row(s.WatchlistEntrySerializer, w) for w in case.watchlist.select_related("created_by")
        ],
    }


# --- case children -----------------------------------------------------------------------------


@extend_schema(parameters=[CASE_PK])
class CaseMemberViewSet(CaseScopedMixin, viewsets.ModelViewSet):
    """Who the case is shared with. Only the owner (or an administrator) manages members."""

    model = CaseMember
    serializer_class = s.CaseMemberSerializer
    write_roles = access.MANAGE_ROLES
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().select_related("user")

    def perform_destroy(self, instance: CaseMember) -> None:
        if instance.role == CaseMember.Role.OWNER:
            raise _Conflict("the owner's membership cannot be removed")
        super().perform_destroy(instance)


@extend_schema(parameters=[CASE_PK])
class SeedViewSet(CaseScopedMixin, viewsets.ModelViewSet):
    """Theft transactions, addresses and outputs the case starts from."""

    model = Seed
    serializer_class = s.SeedSerializer
    filter_backends = FILTERS
    query_filters = {
        "chain": QueryFilter("chain", "choice", CHAINS),
        "kind": QueryFilter("kind", "choice", tuple(Seed.Kind.values)),
    }
    ordering_fields = ["id", "created_at", "chain", "kind"]


@extend_schema(parameters=[CASE_PK])
class StolenAmountViewSet(CaseScopedMixin, viewsets.ModelViewSet):
    """What was stolen, per chain and asset, in base units."""

    model = StolenAmount
    serializer_class = s.StolenAmountSerializer


@extend_schema(parameters=[CASE_PK])
class AnnotationViewSet(CaseScopedMixin, viewsets.ModelViewSet):
    """Notes and tags on addresses and transactions; editable by their author or the owner."""

    model = Annotation
    serializer_class = s.AnnotationSerializer
    filter_backends = FILTERS
    query_filters = {
        "chain": QueryFilter("chain", "choice", CHAINS),
        "target_kind": QueryFilter("target_kind", "choice", tuple(Annotation.Target.values)),
        "target": QueryFilter("target"),
        "tag": QueryFilter("tags__icontains", description="annotations carrying this tag text"),
    }
    ordering_fields = ["id", "created_at", "updated_at"]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().select_related("author")

    def save_new(self, serializer: serializers.Serializer) -> Annotation:
        return serializer.save(case=self.case, author=self.request.user)

    def check_object_permissions(self, request: Request, obj: Annotation) -> None:
        super().check_object_permissions(request, obj)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if obj.author_id != request.user.pk and self.role != access.OWNER:
            raise PermissionDenied("only the author or the case owner can change an annotation")


@extend_schema(parameters=[CASE_PK])
class WatchlistViewSet(CaseScopedMixin, viewsets.ModelViewSet):
    """Addresses the streaming consumers watch for this case."""

    model = WatchlistEntry
    serializer_class = s.WatchlistEntrySerializer
    filter_backends = FILTERS
    query_filters = {
        "chain": QueryFilter("chain", "choice", CHAINS),
        "active": QueryFilter("active", "bool"),
    }
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().select_related("created_by")

    def save_new(self, serializer: serializers.Serializer) -> WatchlistEntry:
        return serializer.save(case=self.case, created_by=self.request.user)


# --- trace runs --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(parameters=[CASE_PK]),
    retrieve=extend_schema(parameters=[CASE_PK]),
    create=extend_schema(
        parameters=[CASE_PK],
        request=s.RunCreateSerializer,
        responses={202: s.TraceRunSerializer},
        summary="Start a trace; it runs in the background, poll the run until done or failed",
    ),
    compare=extend_schema(
        parameters=[
            CASE_PK,
            OpenApiParameter("other", int, required=True, description="the run to compare with"),
        ],
        responses={200: s.CompareSerializer, 409: OpenApiResponse(description="not finished")},
        summary="Per endpoint address: amount in this run, in the other, and the difference",
    ),
)
class TraceRunViewSet(
    CaseScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Trace runs are immutable: no update or delete; re-running makes a new run."""

    model = TraceRun
    filter_backends = FILTERS
    query_filters = {
        "status": QueryFilter("status", "choice", tuple(TraceRun.Status.values)),
        "model": QueryFilter("model", "choice", s.MODELS),
        "chain": QueryFilter("chain", "choice", CHAINS),
    }
    ordering_fields = ["id", "created_at", "finished_at", "duration_ms"]

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().select_related("created_by")

    def get_serializer_class(self) -> type:
        if self.action == "list":
            return s.TraceRunListSerializer
        if self.action == "create":
            return s.RunCreateSerializer
        return s.TraceRunSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = s.RunCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        stored = params.parameters()
        with transaction.atomic():
            run = TraceRun.objects.create(
                case=self.case,
                chain=stored["chain"],
                asset=stored["asset"] or "",
                model=stored["model"],
                direction=stored["direction"],
                parameters=stored,
                created_by=request.user,
            )
            audit.record(
                "run.create",
                "TraceRun",
                run.pk,
                {"case": self.case.pk, "parameters": stored},
                request=request,
            )
            runs.start_run(run)
        run.refresh_from_db()
        return Response(s.TraceRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["get"])
    def compare(self, request: Request, case_pk: Any = None, pk: Any = None) -> Response:
        run_a = self.get_object()
        raw = request.query_params.get("other", "")
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise ValidationError({"other": ["the id of another run of this case"]})
        run_b = self.get_queryset().filter(pk=int(raw)).first()
        if run_b is None:
            raise NotFound("no such run in this case")
        for run in (run_a, run_b):
            if run.status != TraceRun.Status.DONE:
                raise _Conflict(f"run {run.pk} is {run.status}; only finished runs compare")
        rows = runs.compare_runs(run_a, run_b)
        return Response(
            s.CompareSerializer({"run_a": run_a.pk, "run_b": run_b.pk, "rows": rows}).data
        )


class _RunChildViewSet(viewsets.ReadOnlyModelViewSet):
    model: Any = None
    pagination_class = BoundedLimitOffsetPagination
    filter_backends = FILTERS

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        case, _ = access.get_visible_case(request.user, kwargs.get("case_pk"))
        raw = str(kwargs.get("run_pk", ""))
        run = (
            TraceRun.objects.filter(case=case, pk=int(raw)).first()
            if raw.isdigit() and len(raw) < 19
            else None
        )
        if run is None:
            raise NotFound("no such run")
        self.run = run

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.model.objects.filter(run=self.run)


@extend_schema(parameters=[CASE_PK, RUN_PK])
class FlowViewSet(_RunChildViewSet):
    """The hop links a finished run followed (one per flow of its result)."""

    model = TransactionChain
    serializer_class = s.FlowSerializer
    query_filters = {
        "hop": QueryFilter("hop", "int"),
        "tx": QueryFilter("tx_hash"),
        "from_address": QueryFilter("from_address"),
        "to_address": QueryFilter("to_address"),
        "address": QueryFilter("to_address", description="flows into this address"),
        "min_amount": QueryFilter("amount__gte", "amount"),
    }
    ordering_fields = ["hop", "amount", "id", "tx_hash"]
    ordering = ["hop", "id"]


@extend_schema(parameters=[CASE_PK, RUN_PK])
class EndpointViewSet(_RunChildViewSet):
    """Where the taint ended in a finished run."""

    model = TraceEndpoint
    serializer_class = s.EndpointSerializer
    query_filters = {
        "kind": QueryFilter("kind", "choice", tuple(sorted(runs.ENDPOINT_KINDS))),
        "category": QueryFilter("category"),
        "entity": QueryFilter("entity"),
        "address": QueryFilter("address"),
        "min_amount": QueryFilter("amount__gte", "amount"),
    }
    ordering_fields = ["amount", "address", "id", "kind"]
    ordering = ["id"]


# --- alerts ------------------------------------------------------------------------------------


@extend_schema_view(
    acknowledge=extend_schema(request=None, responses=s.AlertSerializer),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts on watched addresses of the cases the user can see."""

    serializer_class = s.AlertSerializer
    pagination_class = BoundedLimitOffsetPagination
    filter_backends = FILTERS
    query_filters = {
        "case": QueryFilter("watchlist_entry__case_id", "int"),
        "acknowledged": QueryFilter("acknowledged", "bool"),
        "chain": QueryFilter("chain", "choice", CHAINS),
    }
    ordering_fields = ["id", "created_at"]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        cases = access.visible_cases(self.request.user).values("pk")
        return Alert.objects.filter(watchlist_entry__case__in=cases).select_related(
            "watchlist_entry", "acknowledged_by"
        )

    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        alert = self.get_object()
        case = alert.watchlist_entry.case
        if access.case_role(request.user, case) not in access.WRITE_ROLES:
            raise PermissionDenied("viewers cannot acknowledge alerts")
        with transaction.atomic():
            if not alert.acknowledged:
                alert.acknowledged = True
                alert.acknowledged_by = request.user
                alert.acknowledged_at = timezone.now()
                alert.save(update_fields=["acknowledged", "acknowledged_by", "acknowledged_at"])
                audit.record(
                    "update",
                    "Alert",
                    alert.pk,
                    {"case": case.pk, "changed": {"acknowledged": [False, True]}},
                    request=request,
                )
        return Response(s.AlertSerializer(alert).data)
