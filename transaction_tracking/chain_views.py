"""Read-only views of the stored chain data: an address's history and entity, one transaction."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from data_collection import history
from data_collection.queries import address_document
from data_processing.attribution_store import entity_view
from data_processing.label_store import visible_labels
from fundtrace.core.model import Chain
from transaction_tracking import serializers as s
from transaction_tracking import validation as v
from transaction_tracking.access import is_admin, visible_cases

CHAIN = OpenApiParameter("chain", str, OpenApiParameter.PATH, enum=list(v.CHAINS))
MAX_LIMIT = 1000


def _chain(text: str) -> str:
    try:
        return v.check_chain(text)
    except ValueError as exc:
        raise ValidationError({"chain": [str(exc)]}) from None


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not lo <= int(raw[:12]) <= hi:
        raise ValidationError({name: [f"expected an integer between {lo} and {hi}"]})
    return int(raw)


def _visible_case_ids(request: Request) -> list[int] | None:
    """Cases whose private labels the user may see (None: all of them, for admins)."""
    if is_admin(request.user):
        return None
    return list(visible_cases(request.user).values_list("pk", flat=True))


def _address(chain: str, address: str) -> str:
    try:
        return v.check_address(chain, address)
    except ValueError as exc:
        raise ValidationError({"address": [str(exc)]}) from None


class AddressHistoryView(APIView):
    """Stored movements of an address and its balance per asset (exact, in base units)."""

    @extend_schema(
        parameters=[
            CHAIN,
            OpenApiParameter("address", str, OpenApiParameter.PATH),
            OpenApiParameter("limit", int, description=f"movements per page (max {MAX_LIMIT})"),
            OpenApiParameter("offset", int, description="movements to skip"),
        ],
        responses={200: s.AddressHistorySerializer, 400: OpenApiResponse(description="bad input")},
    )
    def get(self, request: Request, chain: str, address: str) -> Response:
        chain = _chain(chain)
        address = _address(chain, address)
        limit = _int_param(request, "limit", 100, 1, MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        doc: dict[str, Any] = address_document(
            Chain(chain), address, offset=offset, limit=limit, must_exist=False
        )
        labels = visible_labels(Chain(chain), address, case_ids=_visible_case_ids(request))
        doc["labels"] = [
            {
                "entity": x.entity,
                "category": x.category,
                "source": x.source,
                "confidence": x.confidence,
                "valid": x.valid,
                "case": x.case_id,
            }
            for x in labels
        ]
        return Response(s.AddressHistorySerializer(doc).data)


class EntityView(APIView):
    """Who an address belongs to: its cluster, direct and inherited labels, and the evidence.

    Case-private labels show only to that case's members, also when they reach the address
    through a shared cluster.
    """

    @extend_schema(
        parameters=[
            CHAIN,
            OpenApiParameter("address", str, OpenApiParameter.PATH),
            OpenApiParameter("limit", int, description=f"addresses and links (max {MAX_LIMIT})"),
        ],
        responses={200: s.EntitySerializer, 400: OpenApiResponse(description="bad input")},
    )
    def get(self, request: Request, chain: str, address: str) -> Response:
        chain = _chain(chain)
        address = _address(chain, address)
        limit = _int_param(request, "limit", 100, 1, MAX_LIMIT)
        doc = entity_view(Chain(chain), address, limit=limit, case_ids=_visible_case_ids(request))
        return Response(s.EntitySerializer(doc).data)


class TransactionView(APIView):
    """One stored transaction in the canonical shape: inputs/outputs or transfers."""

    @extend_schema(
        parameters=[CHAIN, OpenApiParameter("tx_hash", str, OpenApiParameter.PATH)],
        responses={
            200: s.StoredTransactionSerializer,
            400: OpenApiResponse(description="bad input"),
            404: OpenApiResponse(description="not stored"),
        },
    )
    def get(self, request: Request, chain: str, tx_hash: str) -> Response:
        chain = _chain(chain)
        try:
            tx_hash = v.check_tx_hash(chain, tx_hash)
        except ValueError as exc:
            raise ValidationError({"tx_hash": [str(exc)]}) from None
        doc = history.stored_transaction(chain, tx_hash)
        if doc is None:
            raise NotFound("this transaction is not in the stored data")
        return Response(s.StoredTransactionSerializer(doc).data)
