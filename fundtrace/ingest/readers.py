"""Read JSON documents the way nodes and indexers hand them out.

A file may hold one JSON-RPC response (``{"jsonrpc","id","result"}``), a bare result, a JSON
array of responses (a batch), or JSON lines of any of those. Numbers that are not integers are
parsed as ``Decimal`` (Bitcoin Core prints BTC amounts as JSON numbers; a float would lose
satoshi). Every value comes out with its position so that errors can name the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from fundtrace.core.errors import ParseError


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def is_envelope(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and ("result" in obj or "error" in obj)
        and ("jsonrpc" in obj or "id" in obj)
    )


def unwrap(obj: Any, *, source: str | None, record: int | str) -> Any:
    """The ``result`` of a JSON-RPC response; a response carrying an error is a ParseError."""
    if not is_envelope(obj):
        return obj
    if obj.get("error"):
        err = obj["error"]
        message = err.get("message", err) if isinstance(err, dict) else err
        raise ParseError(f"node returned an error: {message}", source=source, record=record)
    if "result" not in obj:
        raise ParseError("JSON-RPC response without result", source=source, record=record)
    return obj["result"]


def read_text(path: str | Path) -> str:
    """A file's text as UTF-8, with universal newlines; unreadable files are a ParseError."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text ({exc.reason})", source=str(path)) from exc
    except OSError as exc:
        raise ParseError(f"cannot read file: {exc.strerror}", source=str(path)) from exc


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes, for the typed decoders; an unreadable file is a ParseError."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read file: {exc.strerror}", source=str(path)) from exc


def text_of_bytes(data: bytes, *, source: str | None) -> str:
    """What ``read_text`` returns for a file holding ``data`` (same errors, same newlines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text ({exc.reason})", source=source) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_line(line: str, lineno: int, *, source: str | None) -> Any:
    """One line of a JSON-lines file; invalid JSON is a ParseError naming the line."""
    try:
        return _loads(line)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON at column {exc.colno}: {exc.msg}", source=source, record=lineno
        ) from exc


def documents_of_text(text: str, *, source: str | None) -> Iterator[tuple[int, Any]]:
    """Top-level JSON values of a file's text: the whole text, or one per non-blank line.

    Yields (record number, value) where the record number is the 1-based line for JSON lines
    and 1 for a single document.
    """
    stripped = text.strip()
    if not stripped:
        return
    try:
        yield 1, _loads(stripped)
        return
    except json.JSONDecodeError as exc:
        if "Extra data" not in exc.msg and "\n" not in stripped:
            raise ParseError(f"invalid JSON: {exc.msg}", source=source, record=1) from exc
        # A multi-line file that is not one JSON value may still be JSON lines; fall through
        # and let the per-line parse report the exact line.
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        yield lineno, load_line(line, lineno, source=source)


def iter_documents(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Top-level JSON values of a file: the whole file, or one per non-blank line (JSON lines).

    Yields (record number, value) where the record number is the 1-based line for JSON lines
    and 1 for a single document.
    """
    yield from documents_of_text(read_text(path), source=str(path))


def document_results(record: int, doc: Any, *, source: str | None) -> Iterator[tuple[str, Any]]:
    """The results in one top-level JSON value, envelopes removed, batches split.

    A top-level array whose items are JSON-RPC responses is a batch and is split; any other
    array is one bare result (an ``eth_getBlockReceipts`` list, an Esplora page) and is yielded
    whole: the chain's classifier decides whether it is one record or many.
    """
    if isinstance(doc, list) and doc and all(is_envelope(x) for x in doc):
        for i, item in enumerate(doc):
            yield f"{record}[{i}]", unwrap(item, source=source, record=f"{record}[{i}]")
    else:
        yield str(record), unwrap(doc, source=source, record=record)


def iter_results(path: str | Path) -> Iterator[tuple[str, Any]]:
    """Every result in a file, envelopes removed, batches split, with a record label."""
    source = str(path)
    for record, doc in iter_documents(path):
        yield from document_results(record, doc, source=source)
