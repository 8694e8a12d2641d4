"""bitcoin-etl JSON exports: the ``crypto_bitcoin`` schema of ``blocks`` and ``transactions``.

Values are integer satoshi (BigQuery writes them as decimal strings, which are accepted too,
as are its "2009-01-03 18:15:05 UTC" timestamps). An export made without input enrichment has
``value`` null on every input and a meaningless ``fee`` (``-output_value``), so the stated fee
is believed only when every input value is present. A coinbase has ``inputs`` = [] here; it
gets the one canonical coinbase input the other sources yield.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fundtrace.chains.btc.fields import (
    Where,
    as_bool,
    as_hash,
    as_hex,
    as_sat,
    as_timestamp,
    opt_hash,
    opt_int,
    req,
    req_hash,
    req_int,
    req_list,
)
from fundtrace.chains.btc.network import MAINNET, Network
from fundtrace.chains.btc.script import ADDRESSLESS_TYPES
from fundtrace.chains.btc.txbuild import (
    claimed_address,
    coinbase_input,
    finalize_fee,
    label_type,
    script_type_and_address,
)
from fundtrace.core.model import Batch, Block, Chain, Transaction, TxInput, TxOutput


def is_etl_transaction(obj: dict) -> bool:
    """A bitcoin-etl transaction item (ethereum-etl's have no ``inputs``/``outputs``)."""
    return "hash" in obj and "inputs" in obj and "outputs" in obj


def is_etl_block(obj: dict) -> bool:
    """A bitcoin-etl block item (ethereum-etl's have no ``merkle_root``)."""
    return "hash" in obj and "number" in obj and "merkle_root" in obj


def parse_etl_block(
    obj: Any, *, source: str | None = None, record: int | str | None = None
) -> Block:
    where = Where(source, record)
    if not isinstance(obj, dict):
        raise where.error(f"expected a block object, got {type(obj).__name__}", None)
    timestamp = req(obj, "timestamp", where, "")
    return Block(
        Chain.BTC,
        req_int(obj, "number", where, ""),
        req_hash(obj, "hash", where, ""),
        as_timestamp(timestamp, where, "timestamp"),
        parent_hash=opt_hash(obj, "previous_block_hash", where, ""),
        tx_count=opt_int(obj, "transaction_count", where, ""),
    )


def _opt_timestamp(obj: dict, key: str, where: Where) -> int | None:
    value = obj.get(key)
    return None if value is None else as_timestamp(value, where, key)


def parse_etl_tx(
    obj: Any,
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
) -> Transaction:
    where = Where(source, record)
    if not isinstance(obj, dict):
        raise where.error(f"expected a transaction object, got {type(obj).__name__}", None)
    txid = req_hash(obj, "hash", where, "")
    tx = Transaction(
        Chain.BTC,
        txid,
        opt_int(obj, "block_number", where, ""),
        block_hash=opt_hash(obj, "block_hash", where, ""),
        tx_index=opt_int(obj, "index", where, ""),
        timestamp=_opt_timestamp(obj, "block_timestamp", where),
        is_coinbase=as_bool(req(obj, "is_coinbase", where, ""), where, "is_coinbase"),
    )
    inputs = req_list(obj, "inputs", where, "")
    if tx.is_coinbase:
        if any(isinstance(i, dict) and i.get("spent_transaction_hash") for i in inputs):
            raise where.error(f"coinbase {txid} spends an earlier output", "inputs")
        tx.inputs.append(coinbase_input())
    else:
        if not inputs:
            raise where.error(f"tx {txid} is not a coinbase but has no inputs", "inputs")
        for j, v in enumerate(inputs):
            vpath = ("inputs", j)
            if not isinstance(v, dict):
                raise where.error("expected an input object", vpath)
            index = req_int(v, "index", where, vpath)
            if index != j:
                raise where.error(f"input at position {j} says index={index}", (vpath, "index"))
            inp = TxInput(
                j,
                as_hash(
                    req(v, "spent_transaction_hash", where, vpath),
                    where,
                    (vpath, "spent_transaction_hash"),
                ),
                req_int(v, "spent_output_index", where, vpath),
                sequence=opt_int(v, "sequence", where, vpath),
            )
            value = v.get("value")
            if value is not None:
                inp.value = as_sat(value, where, (vpath, "value"))
                inp.script_type = label_type(v.get("type"), where, (vpath, "type"))
                if inp.script_type not in ADDRESSLESS_TYPES:
                    inp.address = claimed_address(v.get("addresses"))
            tx.inputs.append(inp)
    for k, o in enumerate(req_list(obj, "outputs", where, "")):
        opath = ("outputs", k)
        if not isinstance(o, dict):
            raise where.error("expected an output object", opath)
        index = req_int(o, "index", where, opath)
        if index != k:
            raise where.error(f"output at position {k} says index={index}", (opath, "index"))
        value = as_sat(req(o, "value", where, opath), where, (opath, "value"))
        script_hex = as_hex(req(o, "script_hex", where, opath), where, (opath, "script_hex"))
        kind, address = script_type_and_address(
            script_hex, claimed_address(o.get("addresses")), network
        )
        tx.outputs.append(TxOutput(k, value, kind, address, script_hex))
    source_fee = None
    if not tx.is_coinbase and tx.input_total() is not None and obj.get("fee") is not None:
        source_fee = as_sat(obj["fee"], where, "fee")
    finalize_fee(tx, source_fee, where, "fee")
    return tx


def parse_etl_records(
    records: Iterable[Any],
    *,
    network: Network = MAINNET,
    source: str | None = None,
    first_record: int = 1,
) -> Batch:
    """Block and transaction items in any mix and order (e.g. lines of a JSON-lines file).

    ``first_record`` numbers the first item in errors (1 = the first line of a file).
    """
    batch = Batch(Chain.BTC)
    for n, obj in enumerate(records, start=first_record):
        if not isinstance(obj, dict):
            raise Where(source, n).error(f"expected an object, got {type(obj).__name__}", None)
        if is_etl_transaction(obj):
            batch.transactions.append(parse_etl_tx(obj, network=network, source=source, record=n))
        elif is_etl_block(obj):
            batch.blocks.append(parse_etl_block(obj, source=source, record=n))
        else:
            raise Where(source, n).error(
                "neither a bitcoin-etl block nor a transaction (no inputs/outputs or merkle_root)",
                None,
            )
    return batch
