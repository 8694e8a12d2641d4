"""Query-parameter filters that validate their input and describe themselves in the schema.

Each view lists its filters as ``query_filters = {param: QueryFilter(lookup, kind)}``; a bad
value is a 400 naming the parameter, never a silently ignored filter or a database error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter

from data_collection.fields import UINT256_MAX

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


@dataclass(frozen=True)
class QueryFilter:
    lookup: str
    kind: str = "str"  # str | int | bool | amount | choice
    choices: tuple[str, ...] = ()
    description: str = ""

    def parse(self, name: str, raw: str) -> Any:
        if "\x00" in raw or len(raw) > 200:
            raise ValidationError({name: ["invalid value"]})
        if self.kind == "int":
            if not raw.lstrip("-").isdigit() or len(raw) > 18:
                raise ValidationError({name: ["expected an integer"]})
            return int(raw)
        if self.kind == "bool":
            low = raw.lower()
            if low not in _TRUE | _FALSE:
                raise ValidationError({name: ["expected true or false"]})
            return low in _TRUE
        if self.kind == "amount":
            if not raw.isascii() or not raw.isdigit() or int(raw) > UINT256_MAX:
                raise ValidationError({name: ["expected a decimal amount in base units"]})
            return int(raw)
        if self.kind == "choice" and raw not in self.choices:
            raise ValidationError({name: [f"expected one of {', '.join(self.choices)}"]})
        return raw

    def schema_type(self) -> dict[str, Any]:
        if self.kind == "int":
            return {"type": "integer"}
        if self.kind == "bool":
            return {"type": "boolean"}
        if self.kind == "amount":
            return {"type": "string", "pattern": "^[0-9]{1,78}$"}
        if self.kind == "choice":
            return {"type": "string", "enum": list(self.choices)}
        return {"type": "string"}


class QueryFilterBackend(BaseFilterBackend):
    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        for name, spec in getattr(view, "query_filters", {}).items():
            raw = request.query_params.get(name)
            if raw is None or raw == "":
                continue
            queryset = queryset.filter(**{spec.lookup: spec.parse(name, raw)})
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": spec.description or f"filter: {spec.lookup}",
                "schema": spec.schema_type(),
            }
            for name, spec in getattr(view, "query_filters", {}).items()
        ]


class SafeOrderingFilter(OrderingFilter):
    """DRF's ordering filter, minus the NUL byte PostgreSQL would choke on."""

    def get_ordering(self, request: Any, queryset: QuerySet, view: Any) -> Any:
        raw = request.query_params.get(self.ordering_param, "")
        if "\x00" in raw:
            raise ValidationError({self.ordering_param: ["invalid value"]})
        return super().get_ordering(request, queryset, view)
