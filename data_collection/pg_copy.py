"""PostgreSQL COPY text format, encoded a whole column at a time.

Row-by-row ``copy.write_row`` spends a few microseconds per row dumping each value; a Bitcoin
batch has hundreds of thousands of inputs and outputs, so the load was bound by it. Here each
column is turned into strings with one C-level pass (``map(str, ...)``) and the rows are joined
with ``"\\t".join``/``"\\n".join``, then sent with ``copy.write`` in large blocks.

Escaping stays exact: a string column is scanned once for the four characters the text format
treats specially (backslash, tab, newline, carriage return); only a column that holds one of
them is escaped value by value. ``None`` becomes ``\\N``. Integers are written in full decimal,
so ``numeric(78,0)`` amounts arrive without any rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NULL = "\\N"
_SPECIAL = ("\\", "\t", "\n", "\r")
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
BLOCK_BYTES = 1 << 20  # one copy.write per MiB keeps memory flat and the socket busy


def text_col(values: list[str | None]) -> list[str]:
    """COPY fields of a text column (escaped only when some value needs it)."""
    joined = "".join(filter(None, values))
    if any(ch in joined for ch in _SPECIAL):
        return [NULL if v is None else v.translate(_ESCAPE) for v in values]
    if None in values:
        return [NULL if v is None else v for v in values]
    return values  # type: ignore[return-value]  # no None, every value already a field


def int_col(values: list[int | None]) -> list[str]:
    """COPY fields of an integer column; exact at any size (numeric(78,0) included)."""
    if None in values:
        return [NULL if v is None else str(int(v)) for v in values]
    return list(map(str, map(int, values)))


def bool_col(values: list[bool | None]) -> list[str]:
    return [NULL if v is None else ("t" if v else "f") for v in values]


def copy_text(columns: Sequence[list[str]]) -> str:
    """The COPY text for rows given column by column (all columns the same length)."""
    if not columns or not columns[0]:
        return ""
    n = len(columns[0])
    if any(len(c) != n for c in columns):
        raise ValueError("COPY columns differ in length")
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def copy_in(cursor: Any, table: str, cols: Sequence[str], text: str | bytes) -> None:
    """Stream ``text`` (COPY text format, ``str`` or UTF-8 ``bytes``) into ``table``.

    ``cursor`` is Django's cursor: COPY runs on the psycopg 3 cursor under it, and errors come
    out as Django's (``IntegrityError``, ``DataError``) like those of any other statement."""
    data = text.encode() if isinstance(text, str) else text
    names = ", ".join(f'"{c}"' for c in cols)
    with (
        cursor.db.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        view = memoryview(data)
        for start in range(0, len(data), BLOCK_BYTES):
            copy.write(view[start : start + BLOCK_BYTES])
