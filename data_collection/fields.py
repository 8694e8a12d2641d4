"""Exact uint256 storage on every database.

PostgreSQL stores ``numeric(78,0)``. SQLite has no exact wide numeric type (its NUMERIC affinity
turns a 30-digit integer into a lossy REAL), so there the value is a 78-character zero-padded
decimal string: exact, and text order equals numeric order, so comparisons and ORDER BY still
work. Sums are done in Python on ints (or by PostgreSQL on numeric), never on floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core import checks, exceptions
from django.db import models

UINT256_MAX = 2**256 - 1
WIDTH = 78  # len(str(2**256 - 1))


class U256Field(models.Field):
    description = "Unsigned 256-bit integer (exact)"

    def db_type(self, connection: Any) -> str:
        if connection.vendor == "postgresql":
            return "numeric(78,0)"
        return f"varchar({WIDTH})"

    def get_internal_type(self) -> str:
        return "U256Field"

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return super().check(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return self._validated(value)
        if isinstance(value, Decimal):
            if value != value.to_integral_value():
                raise exceptions.ValidationError(f"{value} is not a whole number of base units")
            return self._validated(int(value))
        if isinstance(value, str):
            try:
                return self._validated(int(value.strip()))
            except ValueError as exc:
                raise exceptions.ValidationError(f"{value!r} is not an integer") from exc
        raise exceptions.ValidationError(f"{value!r} ({type(value).__name__}) is not an integer")

    @staticmethod
    def _validated(value: int | None) -> int | None:
        if value is not None and not 0 <= value <= UINT256_MAX:
            raise exceptions.ValidationError(f"{value} is outside 0..2**256-1")
        return value

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> int | None:
        if value is None:
            return None
        return int(value)

    def get_prep_value(self, value: Any) -> int | None:
        value = super().get_prep_value(value)
        return self.to_python(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        if connection.vendor == "postgresql":
            return Decimal(value)
        return str(value).rjust(WIDTH, "0")

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return super().formfield(**{"form_class": forms.IntegerField, **kwargs})
