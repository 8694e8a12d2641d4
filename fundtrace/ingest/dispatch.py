"""Which parser reads which (chain, format), and how files become batches.

Each yielded batch is stored atomically by the caller, so "one batch" is the unit of
all-or-nothing: one file for self-contained formats, all files together where records must be
joined across files (Ethereum blocks with their receipts and traces, ETL directories).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fundtrace.core.bulk import gc_paused
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Batch, Chain
from fundtrace.ingest.readers import (
    document_results,
    documents_of_text,
    iter_documents,
    iter_results,
    load_line,
    read_bytes,
    text_of_bytes,
)

if TYPE_CHECKING:
    from fundtrace.chains.btc.network import Network

FORMATS: dict[Chain, tuple[str, ...]] = {
    Chain.BTC: ("bitcoin-etl", "rpc", "esplora"),
    Chain.ETH: ("ethereum-etl", "rpc", "etherscan"),
    Chain.SOL: ("rpc",),
}


def parse_inputs(
    chain: Chain, fmt: str, paths: Sequence[str | Path], *, network: str = "mainnet"
) -> Iterator[tuple[str, Batch]]:
    """(source label, batch) for each unit of import; raises ParseError naming the place."""
    if fmt not in FORMATS[chain]:
        raise ParseError(
            f"format {fmt!r} is not available for {chain} (use one of {', '.join(FORMATS[chain])})"
        )
    for p in paths:
        if not Path(p).exists():
            raise ParseError("no such file or directory", source=str(p))
    if chain is Chain.BTC:
        yield from _btc(fmt, paths, network)
    elif chain is Chain.ETH:
        yield from _eth(fmt, paths)
    else:
        yield from _sol(paths)


def _expand(paths: Sequence[str | Path]) -> list[Path]:
    """Directories stand for the JSON / JSON-lines files inside them, in name order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix in {".json", ".jsonl"}
            )
        else:
            out.append(p)
    return out


@contextlib.contextmanager
def _nesting(source: str) -> Iterator[None]:
    """A document nested deeper than the JSON readers recurse is bad input, not a crash."""
    try:
        yield
    except RecursionError:
        raise ParseError(
            "JSON nested too deeply to read (a crafted or corrupt document)", source=source
        ) from None


def _btc(fmt: str, paths: Sequence[str | Path], network_name: str) -> Iterator[tuple[str, Batch]]:
    from fundtrace.chains.btc.network import network_by_name

    network = network_by_name(network_name)
    for path in _expand(paths):
        source = str(path)
        with _nesting(source):
            batch = _btc_file(fmt, path, source, network)
        yield source, batch


def _btc_file(fmt: str, path: Path, source: str, network: Network) -> Batch:
    from fundtrace.chains.btc import esplora, etl

    if fmt == "bitcoin-etl":
        records: list[Any] = []
        for _, doc in iter_documents(path):
            records.extend(doc if isinstance(doc, list) else [doc])
        return etl.parse_etl_records(records, network=network, source=source)
    if fmt == "rpc":
        return parse_btc_rpc_bytes(read_bytes(path), source=source, network=network)
    batch = Batch(Chain.BTC)
    for record, result in iter_results(path):
        if isinstance(result, list):
            batch.extend(
                esplora.parse_esplora_txs(result, network=network, source=source, record=record)
            )
        elif isinstance(result, dict) and "chain_stats" in result and "txid" not in result:
            batch.skip("esplora_address_summary")  # /address/:a totals, no transactions
        else:
            batch.extend(
                esplora.esplora_tx_batch(result, network=network, source=source, record=record)
            )
    return batch


def parse_btc_rpc_bytes(
    data: bytes, *, source: str | None = None, network: Network | None = None
) -> Batch:
    """The batch ``fundtrace import --chain btc --format rpc`` makes of one file's bytes.

    The file holds one JSON document, a JSON array of them, or JSON lines (see ``readers``);
    Bitcoin Core ``getblock`` documents in the common shape take the typed decoder
    (``btc.rpc_decode``), every other document and every error the generic dict path, with
    the same result and the same messages as reading the file as text.
    """
    from fundtrace.chains.btc import rpc_decode
    from fundtrace.chains.btc.network import MAINNET

    network = network or MAINNET
    with gc_paused():
        batch = _btc_rpc_typed(data, source, network) if rpc_decode.available() else None
        if batch is None:
            batch = Batch(Chain.BTC)
            for record, doc in documents_of_text(text_of_bytes(data, source=source), source=source):
                _btc_rpc_document(batch, record, doc, source, network)
        return batch


_STR_LINE_BREAKS = re.compile(rb"[\x0b\x0c\x1c-\x1e]").search
"""ASCII characters ``str.splitlines`` breaks lines at and ``bytes.splitlines`` does not."""


def _btc_rpc_typed(data: bytes, source: str | None, network: Network) -> Batch | None:
    """``parse_btc_rpc_bytes`` by the typed decoders, or None where the generic path must read
    the whole file (not ASCII, not JSON, or one document the typed decoders do not take).

    The native decoder (where built) reads the whole file in one call and hands back only the
    lines it declines; where it cannot tell the file's layout (the first value is outside its
    JSON subset) or declines a one-document file, the msgspec decoder reads the file.
    """
    from fundtrace.chains.btc import rpc_decode

    # The typed decoders do not check the UTF-8 they skip: a file that is not ASCII is read
    # as text. The native decoder takes only ASCII (it declines any other byte), so the check
    # is left to the lines it declines, which are few, rather than made on the whole file.
    native = rpc_decode.native
    if native is not None:
        batch = Batch(Chain.BTC)
        typed = rpc_decode.typed_getblock_batch if rpc_decode.msgspec is not None else None

        def declined(lineno: int, start: int, stop: int) -> bool:
            line = data[start:stop]
            if not line.isascii():
                return False
            try:
                return _btc_rpc_line(batch, lineno, line, typed, source, network)
            except ParseError:
                # the generic path reads the whole file as text first: a later byte that is
                # not UTF-8 is the error it reports, so let it read the file
                if not data.isascii():
                    return False
                raise

        status = native.getblock_lines(data, network, batch.blocks, batch.transactions, declined)
        if status != 1:
            return batch if status == 0 else None
    if rpc_decode.msgspec is None or not data.isascii():
        return None
    return _btc_rpc_msgspec(data, source, network)


def _btc_rpc_msgspec(data: bytes, source: str | None, network: Network) -> Batch | None:
    """``_btc_rpc_typed`` by the msgspec decoder.

    Lines the typed decoder does not take are read as the generic path reads them, numbered
    as it numbers them: bytes and text split lines at the same places unless a line holds one
    of ``_STR_LINE_BREAKS``, which no JSON document does (such a file goes to the generic path).
    """
    import msgspec

    from fundtrace.chains.btc import rpc_decode

    try:
        return rpc_decode.typed_getblock_batch(data, network)
    except rpc_decode.DecodeErrors as exc:
        trailing = isinstance(exc, msgspec.DecodeError) and "trailing characters" in str(exc)
        if not trailing and rpc_decode.is_one_document(data) is not False:
            return None
    batch = Batch(Chain.BTC)
    view = memoryview(data)  # lines as views: no copy of a large file
    lines = (
        enumerate(data.splitlines(), 1) if b"\r" in data else enumerate(_line_views(view, data), 1)
    )
    typed = rpc_decode.getblock_batch  # the native decoder, where built, takes lines too
    for lineno, line in lines:
        if not _btc_rpc_line(batch, lineno, line, typed, source, network):
            return None
    return batch


def _btc_rpc_line(
    batch: Batch,
    lineno: int,
    line: bytes | memoryview,
    typed: Callable[[Any, Network], Batch] | None,
    source: str | None,
    network: Network,
) -> bool:
    """Add one line of a JSON-lines file to ``batch``: by ``typed`` if it takes it, else as the
    generic path reads it. False if the file must go to the generic path as a whole."""
    if typed is not None:
        from fundtrace.chains.btc import rpc_decode

        try:
            batch.extend(typed(line, network))
            return True
        except rpc_decode.DecodeErrors:
            pass
    raw = bytes(line)
    if _STR_LINE_BREAKS(raw):
        return False
    text = raw.decode("ascii")
    if text.strip():
        doc = load_line(text, lineno, source=source)
        _btc_rpc_document(batch, lineno, doc, source, network)
    return True


def _line_views(view: memoryview, data: bytes) -> Iterator[memoryview]:
    """``data.splitlines()`` for data without "\\r", as views into ``view``."""
    start, end = 0, len(data)
    while start < end:
        stop = data.find(b"\n", start)
        if stop < 0:
            stop = end
        yield view[start:stop]
        start = stop + 1


def _btc_rpc_document(
    batch: Batch, record: int, doc: Any, source: str | None, network: Network
) -> None:
    """Add one top-level JSON value of a ``--format rpc`` file to ``batch`` (generic path)."""
    from fundtrace.chains.btc import shapes

    for label, result in document_results(record, doc, source=source):
        items = result if isinstance(result, list) else [result]
        for i, item in enumerate(items):
            where = label if len(items) == 1 else f"{label}[{i}]"
            kind = shapes.classify(item)
            if kind is None:
                if isinstance(item, str):  # getblockhash answers: nothing to store
                    batch.skip("btc_block_hash")
                    continue
                raise ParseError(
                    "not a Bitcoin Core getblock (verbosity 2/3), getrawtransaction or "
                    "bitcoin-etl record",
                    source=source,
                    record=where,
                )
            batch.extend(
                shapes.parse_record(kind, item, network=network, source=source, record=where)
            )


def _eth(fmt: str, paths: Sequence[str | Path]) -> Iterator[tuple[str, Batch]]:
    from fundtrace.chains.eth import etherscan, etl, rpc

    label = ", ".join(map(str, paths))
    if fmt == "ethereum-etl":
        dirs = [Path(p) for p in paths if Path(p).is_dir()]
        files = [Path(p) for p in paths if not Path(p).is_dir()]
        for d in dirs:
            with _nesting(str(d)):
                batch = etl.parse_etl_dir(d)
            yield str(d), batch
        if files:
            names = ", ".join(map(str, files))
            with _nesting(names):
                batch = etl.parse_etl_files(files)
            yield names, batch
    else:
        parse = rpc.parse_rpc_files if fmt == "rpc" else etherscan.parse_etherscan_files
        with _nesting(label):
            batch = parse(_expand(paths))
        yield label, batch


def _sol(paths: Sequence[str | Path]) -> Iterator[tuple[str, Batch]]:
    for path in _expand(paths):
        source = str(path)
        with _nesting(source):
            batch = _sol_file(path, source)
        yield source, batch


def _sol_file(path: Path, source: str) -> Batch:
    from fundtrace.chains.sol import rpc

    batch = Batch(Chain.SOL)
    for record, result in iter_results(path):
        kind = rpc.classify(result)
        if kind == rpc.TRANSACTION:
            batch.extend(rpc.parse_transaction(result, source=source, record=record))
        elif kind == rpc.BLOCK:
            batch.extend(rpc.parse_block(result, source=source))
        elif kind == rpc.SIGNATURES:
            batch.skip("sol_signature_page")
            batch.warnings.append(
                f"{source}, record {record}: a getSignaturesForAddress page lists "
                "signatures only; fetch the transactions to import them"
            )
        else:
            raise ParseError(
                "not a Solana getTransaction, getBlock or getSignaturesForAddress result",
                source=source,
                record=record,
            )
    return batch
