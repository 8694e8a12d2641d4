"""ethereum-etl exports (``export_blocks_and_transactions``, ``export_receipts_and_logs``,
``export_token_transfers``, ``export_tokens``, ``export_traces``, ``extract_geth_traces``,
``stream``) in CSV or newline-delimited JSON, to a canonical Batch.

Facts of this format the mapping relies on:

* CSV cells are strings, empty meaning null; JSON lines carry real ints and nulls. Both go through
  the same field readers, so a CSV and a JSON export of the same block give equal records.
* ``stream`` exports put the receipt into the transaction row (``receipt_*`` columns);
  ``export_blocks_and_transactions`` leaves it to ``receipts.csv``. Without either, fee and
  status are unknown and the batch says so.
* ``token_transfers`` rows include ERC-721 Transfer logs (value = token id). Where the log itself
  is in the export, it decides (and an ERC-721 one is skipped); a row is used as given only when
  no log covers its (transaction, log index).
* ``traces`` made from geth (``extract_geth_traces``) have no transaction hash; they are joined
  to their transaction by (block number, transaction index). Parity ``status`` 0 marks a failed
  trace; geth rows leave it empty and fill ``error``; both mean "moved nothing".
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from fundtrace.chains.eth import fields
from fundtrace.chains.eth.build import build_transaction
from fundtrace.chains.eth.records import Frame, LogRecord, ReceiptRecord, TxParts, TxRecord
from fundtrace.chains.eth.traces import SKIP_REWARD
from fundtrace.core.errors import ParseError
from fundtrace.core.model import Asset, Batch, Block, Chain, Transfer, TransferKind

if csv.field_size_limit() < 1 << 27:
    # contract-creation input can exceed the csv module's 128 KiB default cell limit
    csv.field_size_limit(min(sys.maxsize, 1 << 27))

SKIP_DUPLICATE_TRACES = "duplicate_trace_set"
SKIP_TRACE_WITHOUT_TX = "trace_without_transaction"

KINDS = ("blocks", "transactions", "receipts", "logs", "token_transfers", "tokens", "traces")


def read_rows(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) of an ethereum-etl CSV (with header) or JSON-lines file."""
    path = Path(path)
    with path.open(newline="") as fh:
        if path.suffix == ".csv":
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, row
        else:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ParseError(
                        f"invalid JSON: {exc.msg}", source=str(path), record=n
                    ) from None
                if not isinstance(obj, dict):
                    raise ParseError("line is not a JSON object", source=str(path), record=n)
                yield n, obj


def _get(row: Mapping, key: str) -> object:
    try:
        return row[key]
    except KeyError:
        raise ParseError("missing column", field=key) from None


def block_from_row(row: Mapping) -> Block:
    return Block(
        chain=Chain.ETH,
        number=fields.quantity(_get(row, "number"), "number"),
        hash=fields.tx_hash(_get(row, "hash"), "hash"),
        timestamp=fields.quantity(_get(row, "timestamp"), "timestamp"),
        parent_hash=fields.opt_hash(row.get("parent_hash"), "parent_hash"),
        tx_count=fields.opt_quantity(row.get("transaction_count"), "transaction_count"),
        miner=fields.opt_address(row.get("miner"), "miner"),
    )


def tx_from_row(row: Mapping) -> tuple[TxRecord, ReceiptRecord | None]:
    """A transaction row; stream exports also carry its receipt in ``receipt_*`` columns."""
    tx = TxRecord(
        hash=fields.tx_hash(_get(row, "hash"), "hash"),
        from_address=fields.address(_get(row, "from_address"), "from_address"),
        to_address=fields.opt_address(row.get("to_address"), "to_address"),
        value=fields.quantity(_get(row, "value"), "value"),
        block_number=fields.opt_quantity(row.get("block_number"), "block_number"),
        block_hash=fields.opt_hash(row.get("block_hash"), "block_hash"),
        tx_index=fields.opt_quantity(row.get("transaction_index"), "transaction_index"),
        timestamp=fields.opt_quantity(row.get("block_timestamp"), "block_timestamp"),
        gas_price=fields.opt_quantity(row.get("gas_price"), "gas_price"),
        tx_type=fields.opt_quantity(row.get("transaction_type"), "transaction_type") or 0,
    )
    receipt = None
    if row.get("receipt_gas_used") not in (None, ""):
        receipt = ReceiptRecord(
            tx_hash=tx.hash,
            gas_used=fields.quantity(row["receipt_gas_used"], "receipt_gas_used"),
            status=fields.status(row.get("receipt_status"), "receipt_status"),
            effective_gas_price=fields.opt_quantity(
                row.get("receipt_effective_gas_price"), "receipt_effective_gas_price"
            ),
            contract_address=fields.opt_address(
                row.get("receipt_contract_address"), "receipt_contract_address"
            ),
            block_number=tx.block_number,
            block_hash=tx.block_hash,
            tx_index=tx.tx_index,
        )
    return tx, receipt


def receipt_from_row(row: Mapping) -> ReceiptRecord:
    return ReceiptRecord(
        tx_hash=fields.tx_hash(_get(row, "transaction_hash"), "transaction_hash"),
        gas_used=fields.quantity(_get(row, "gas_used"), "gas_used"),
        status=fields.status(row.get("status"), "status"),
        effective_gas_price=fields.opt_quantity(
            row.get("effective_gas_price"), "effective_gas_price"
        ),
        contract_address=fields.opt_address(row.get("contract_address"), "contract_address"),
        block_number=fields.opt_quantity(row.get("block_number"), "block_number"),
        block_hash=fields.opt_hash(row.get("block_hash"), "block_hash"),
        tx_index=fields.opt_quantity(row.get("transaction_index"), "transaction_index"),
    )


def log_from_row(row: Mapping) -> LogRecord:
    topics = _get(row, "topics")
    if isinstance(topics, str):
        topics = [t for t in topics.split(",") if t] if topics else []
    if not isinstance(topics, list):
        raise ParseError("topics is neither a list nor a comma-joined string", field="topics")
    return LogRecord(
        tx_hash=fields.tx_hash(_get(row, "transaction_hash"), "transaction_hash"),
        log_index=fields.quantity(_get(row, "log_index"), "log_index"),
        address=fields.address(_get(row, "address"), "address"),
        topics=tuple(fields.tx_hash(t, "topics") for t in topics),
        data=fields.hex_data(_get(row, "data"), "data"),
        block_number=fields.opt_quantity(row.get("block_number"), "block_number"),
    )


def _holder(value: object, what: str) -> str | None:
    """ethereum-etl writes the zero address for mints/burns; canonical form is None."""
    addr = fields.address(value, what)
    return None if addr == fields.ZERO_ADDRESS else addr


def token_transfer_from_row(row: Mapping) -> tuple[str, int | None, Transfer]:
    """(transaction hash, block number, transfer) of a ``token_transfers`` row."""
    transfer = Transfer(
        index=fields.quantity(_get(row, "log_index"), "log_index"),
        kind=TransferKind.TOKEN,
        asset=fields.address(_get(row, "token_address"), "token_address"),
        from_address=_holder(_get(row, "from_address"), "from_address"),
        to_address=_holder(_get(row, "to_address"), "to_address"),
        amount=fields.quantity(_get(row, "value"), "value"),
    )
    return (
        fields.tx_hash(_get(row, "transaction_hash"), "transaction_hash"),
        fields.opt_quantity(row.get("block_number"), "block_number"),
        transfer,
    )


def token_from_row(row: Mapping) -> Asset:
    decimals = fields.opt_quantity(row.get("decimals"), "decimals")
    return Asset(
        chain=Chain.ETH,
        asset_id=fields.address(_get(row, "address"), "address"),
        symbol=(row.get("symbol") or None),
        decimals=decimals if decimals is not None and decimals <= 255 else None,
        name=(row.get("name") or None),
    )


_TRACE_TYPES = {"call", "create", "suicide", "selfdestruct", "reward"}


def frame_from_row(row: Mapping) -> Frame | None:
    """A ``traces`` row; None for block/uncle rewards."""
    trace_type = str(_get(row, "trace_type") or "")
    if trace_type not in _TRACE_TYPES:
        raise ParseError(f"unknown trace_type {trace_type!r}", field="trace_type")
    if trace_type == "reward":
        return None
    if trace_type == "call":
        call_type = str(row.get("call_type") or "call").lower()
    elif trace_type == "create":
        call_type = "create"
    else:
        call_type = "selfdestruct"
    path_raw = row.get("trace_address")
    if isinstance(path_raw, list):
        path = tuple(fields.quantity(p, "trace_address") for p in path_raw)
    elif path_raw in (None, ""):
        path = ()
    else:
        path = tuple(fields.quantity(p, "trace_address") for p in str(path_raw).split(","))
    error = row.get("error") or None
    status = fields.status(row.get("status"), "status")
    if status == 0 and not error:
        error = "failed (status 0)"
    value = fields.opt_quantity(row.get("value"), "value")
    if value is None and call_type != "selfdestruct":
        value = 0
    return Frame(
        path=path,
        call_type=call_type,
        from_address=fields.opt_address(row.get("from_address"), "from_address"),
        to_address=fields.opt_address(row.get("to_address"), "to_address"),
        value=value,
        error=error,
        tx_hash=fields.opt_hash(row.get("transaction_hash"), "transaction_hash"),
        block_number=fields.opt_quantity(row.get("block_number"), "block_number"),
        tx_index=fields.opt_quantity(row.get("transaction_index"), "transaction_index"),
    )


def _rows(path: Path, fn):
    out = []
    for n, row in read_rows(path):
        try:
            out.append(fn(row))
        except ParseError as exc:
            raise exc.located(source=str(path), record=n) from None
    return out


def parse_blocks_file(path: str | Path) -> list[Block]:
    return _rows(Path(path), block_from_row)


def parse_transactions_file(path: str | Path) -> list[tuple[TxRecord, ReceiptRecord | None]]:
    return _rows(Path(path), tx_from_row)


def parse_receipts_file(path: str | Path) -> list[ReceiptRecord]:
    return _rows(Path(path), receipt_from_row)


def parse_logs_file(path: str | Path) -> list[LogRecord]:
    return _rows(Path(path), log_from_row)


def parse_token_transfers_file(path: str | Path) -> list[tuple[str, int | None, Transfer]]:
    return _rows(Path(path), token_transfer_from_row)


def parse_tokens_file(path: str | Path) -> list[Asset]:
    return _rows(Path(path), token_from_row)


def parse_traces_file(path: str | Path) -> list[Frame | None]:
    """Frames of a traces export, in file order; None marks a reward row."""
    return _rows(Path(path), frame_from_row)


def file_kind(path: str | Path) -> str | None:
    """Which export a file is, from its name (``traces_from_geth.csv`` is a traces file)."""
    p = Path(path)
    if p.suffix not in (".csv", ".json"):
        return None
    stem = p.stem
    for kind in KINDS:
        if stem == kind or stem.startswith(kind + "_") or stem.startswith("expected_" + kind):
            return kind
    return None


def _merge(known: dict, key, value, what: str, path: Path) -> None:
    old = known.get(key)
    if old is None:
        known[key] = value
    elif old != value:
        raise ParseError(
            f"{what} {key} differs from the same {what} in another file", source=str(path)
        )


def parse_etl_files(paths: Iterable[str | Path]) -> Batch:
    """One batch from any set of ethereum-etl export files (CSV or JSON lines), joined by hash."""
    batch = Batch(Chain.ETH)
    blocks: dict[int, Block] = {}
    txs: dict[str, TxRecord] = {}
    receipts: dict[str, ReceiptRecord] = {}
    logs: dict[tuple[str, int], LogRecord] = {}
    token_rows: dict[tuple[str, int], Transfer] = {}
    row_blocks: dict[str, int | None] = {}
    assets: dict[str, Asset] = {}
    trace_files: list[tuple[Path, list[Frame | None]]] = []

    for raw in paths:
        path = Path(raw)
        kind = file_kind(path)
        if kind is None:
            batch.warnings.append(f"{path.name}: not an ethereum-etl export this importer reads")
            continue
        if kind == "blocks":
            for b in parse_blocks_file(path):
                _merge(blocks, b.number, b, "block", path)
        elif kind == "transactions":
            for tx, receipt in parse_transactions_file(path):
                _merge(txs, tx.hash, tx, "transaction", path)
                if receipt is not None:
                    _merge_receipt(receipts, receipt, path)
        elif kind == "receipts":
            for r in parse_receipts_file(path):
                _merge_receipt(receipts, r, path)
        elif kind == "logs":
            for log in parse_logs_file(path):
                _merge(logs, (log.tx_hash, log.log_index), log, "log", path)
        elif kind == "token_transfers":
            for h, block_number, t in parse_token_transfers_file(path):
                _merge(token_rows, (h, t.index), t, "token transfer", path)
                row_blocks[h] = block_number
        elif kind == "tokens":
            for a in parse_tokens_file(path):
                _merge(assets, a.asset_id, a, "token", path)
        else:
            trace_files.append((path, parse_traces_file(path)))

    parts: dict[str, TxParts] = {}

    def part(h: str) -> TxParts:
        p = parts.get(h)
        if p is None:
            p = parts[h] = TxParts(h)
        return p

    for h, tx in txs.items():
        part(h).tx = tx
    for h, r in receipts.items():
        part(h).receipt = r
    for (h, _), log in sorted(logs.items()):
        p = part(h)
        if p.logs is None:
            p.logs = []
        p.logs.append(log)
    for p in parts.values():  # logs.csv is where receipts.csv exports keep a receipt's logs
        if p.receipt is not None and p.logs is not None and p.receipt.logs is None:
            p.receipt = _with_logs(p.receipt, p.logs)
    for (h, _), t in sorted(token_rows.items()):
        part(h).token_rows.append(t)

    by_position: dict[tuple[int, int], str] = {}
    for h, tx in txs.items():
        if tx.block_number is not None and tx.tx_index is not None:
            by_position[(tx.block_number, tx.tx_index)] = h
    for _, frames in trace_files:
        for f in frames:
            if (
                f is not None
                and f.tx_hash
                and f.block_number is not None
                and f.tx_index is not None
            ):
                by_position.setdefault((f.block_number, f.tx_index), f.tx_hash)
    traced: set[str] = set()
    for path, frames in trace_files:
        grouped: dict[str, list[Frame]] = {}
        unjoined = 0
        for f in frames:
            if f is None:
                batch.skip(SKIP_REWARD)
                continue
            h = f.tx_hash
            if h is None and f.block_number is not None and f.tx_index is not None:
                h = by_position.get((f.block_number, f.tx_index))
            if h is None:
                batch.skip(SKIP_TRACE_WITHOUT_TX)
                unjoined += 1
                continue
            grouped.setdefault(h, []).append(f)
        for h, fs in grouped.items():
            if h in traced:
                batch.skip(SKIP_DUPLICATE_TRACES)
                continue
            traced.add(h)
            part(h).frames = fs
        if unjoined:
            batch.warnings.append(
                f"{path.name}: {unjoined} trace row(s) have no "
                "transaction hash and no matching transaction in this import; add transactions"
            )

    timestamps = {n: b.timestamp for n, b in blocks.items()}
    no_receipt = partial = 0
    for h, p in parts.items():
        if p.tx is None:
            partial += 1
        elif p.receipt is None:
            no_receipt += 1
        block_number = (
            p.tx.block_number
            if p.tx is not None
            else (p.receipt.block_number if p.receipt else row_blocks.get(h))
        )
        if p.tx is None and block_number is None and p.frames:
            block_number = p.frames[0].block_number
        p.timestamp = timestamps.get(block_number) if block_number is not None else None
        try:
            t = build_transaction(p, batch)
        except ParseError as exc:
            raise exc.located(record=h) from None
        if t.block_number is None:
            t.block_number = block_number
        batch.transactions.append(t)

    batch.blocks.extend(blocks[n] for n in sorted(blocks))
    batch.assets.extend(assets[a] for a in sorted(assets))
    batch.transactions.sort(
        key=lambda t: (
            t.block_number if t.block_number is not None else -1,
            t.tx_index if t.tx_index is not None else -1,
            t.hash,
        )
    )
    if no_receipt:
        batch.warnings.append(
            f"{no_receipt} transaction(s) without receipts (no receipts export and no receipt_* "
            "columns): fee and status unknown"
        )
    if partial:
        batch.warnings.append(
            f"{partial} transaction(s) known only from receipts/logs/token transfers/traces "
            "(no transactions export): value, sender or fee may be missing"
        )
    n_unknown = batch.skipped.pop("status_unknown_pre_byzantium", 0)
    if n_unknown:
        batch.warnings.append(
            f"{n_unknown} pre-Byzantium transaction(s) without traces: the receipt has no "
            "status, so a failure cannot be seen; they are recorded as successful"
        )
    if txs and not trace_files:
        batch.warnings.append(
            "no traces export: only top-level values and token transfers are known, internal "
            "transfers are missing"
        )
    return batch


def _merge_receipt(known: dict[str, ReceiptRecord], r: ReceiptRecord, path: Path) -> None:
    old = known.get(r.tx_hash)
    if old is None:
        known[r.tx_hash] = r
        return
    if (old.gas_used, old.status, old.effective_gas_price) != (
        r.gas_used,
        r.status,
        r.effective_gas_price,
    ):
        raise ParseError(
            f"receipt {r.tx_hash} differs from the same receipt in another file", source=str(path)
        )


def _with_logs(r: ReceiptRecord, logs: list[LogRecord]) -> ReceiptRecord:
    from dataclasses import replace

    return replace(r, logs=list(logs))


def parse_etl_dir(path: str | Path) -> Batch:
    """A batch from every ethereum-etl export file in a directory (unknown files are noted)."""
    root = Path(path)
    if not root.is_dir():
        raise ParseError("not a directory", source=str(root))
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix in (".csv", ".json"))
    return parse_etl_files(files)
