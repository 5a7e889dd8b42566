"""Column types: exact decimals on both SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` stored without loss: ``NUMERIC`` on PostgreSQL, canonical text on SQLite.

    SQLite's NUMERIC affinity converts to a binary float (15-16 significant digits), so the
    value is kept as the string ``str(Decimal)`` there and parsed back exactly. PostgreSQL's
    unconstrained ``NUMERIC`` is exact (it also accepts ``Infinity`` since version 14).
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            # a float here would already have lost digits: refuse it rather than store it
            raise TypeError(f"decimal column value {value!r} must be a Decimal, not {type(value)}")
        if dialect.name == "postgresql":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        return Decimal(str(value))
