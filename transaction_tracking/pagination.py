"""Limit/offset pagination with bounds: DRF's stock class passes any offset to the database,
and an offset beyond 2**63 is a database error (a 500) instead of an empty page."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**12


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_offset(self, request: Any) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
