"""Read-only views of the stored chain data: an address's history, one transaction."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from data_collection import history
from transaction_tracking import serializers as s
from transaction_tracking import validation as v

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
        try:
            address = v.check_address(chain, address)
        except ValueError as exc:
            raise ValidationError({"address": [str(exc)]}) from None
        limit = _int_param(request, "limit", 100, 1, MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        doc: dict[str, Any] = history.address_history(chain, address)
        movements = doc.pop("movements")
        doc["count"] = len(movements)
        doc["movements"] = movements[offset : offset + limit]
        return Response(s.AddressHistorySerializer(doc).data)


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
