"""Esplora / mempool.space REST transactions (``/tx/:id``, ``/address/:a/txs``, ``/block/:h/txs``).

Amounts are integer satoshi and every non-coinbase input carries its prevout, so fees are known
without a lookup. Esplora's type labels are coarser than Core's (``unknown`` covers both future
witness versions and non-standard scripts, ``op_return`` covers scripts Core calls non-standard),
so types are classified from ``scriptpubkey``; mempool.space's extra fields are ignored.
Neither endpoint says where in its block a transaction sits, so ``tx_index`` is None except for
a coinbase (always 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fundtrace.chains.btc.fields import (
    FieldPath,
    Where,
    as_bool,
    as_hex,
    as_sat,
    join,
    opt_int,
    req,
    req_dict,
    req_hash,
    req_int,
    req_list,
)
from fundtrace.chains.btc.network import MAINNET, Network
from fundtrace.chains.btc.txbuild import coinbase_input, finalize_fee, script_type_and_address
from fundtrace.core.model import Batch, Block, Chain, Transaction, TxInput, TxOutput


def _script(
    obj: dict, where: Where, path: FieldPath, network: Network
) -> tuple[str, str | None, str]:
    script_hex = as_hex(req(obj, "scriptpubkey", where, path), where, join(path, "scriptpubkey"))
    claimed = obj.get("scriptpubkey_address")
    kind, address = script_type_and_address(
        script_hex, claimed if isinstance(claimed, str) else None, network
    )
    return kind, address, script_hex


def _status(t: dict, where: Where, path: FieldPath) -> tuple[int | None, str | None, int | None]:
    """(height, block hash, block time) of a confirmed tx; all None while unconfirmed."""
    status = t.get("status")
    if status is None:
        return None, None, None
    spath = join(path, "status")
    if not isinstance(status, dict):
        raise where.error("expected an object", spath)
    if not as_bool(req(status, "confirmed", where, spath), where, join(spath, "confirmed")):
        return None, None, None
    return (
        req_int(status, "block_height", where, spath),
        req_hash(status, "block_hash", where, spath),
        opt_int(status, "block_time", where, spath),
    )


def parse_esplora_tx(
    obj: Any,
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
    path: FieldPath = "",
) -> Transaction:
    """One Esplora transaction object; unconfirmed ones have ``block_number`` None."""
    where = Where(source, record)
    if not isinstance(obj, dict):
        raise where.error(f"expected a transaction object, got {type(obj).__name__}", path or None)
    txid = req_hash(obj, "txid", where, path)
    height, block_hash, block_time = _status(obj, where, path)
    tx = Transaction(Chain.BTC, txid, height, block_hash=block_hash, timestamp=block_time)
    vin = req_list(obj, "vin", where, path)
    for j, v in enumerate(vin):
        vpath = (path, "vin", j)
        if not isinstance(v, dict):
            raise where.error("expected an input object", vpath)
        if as_bool(v.get("is_coinbase", False), where, join(vpath, "is_coinbase")):
            if len(vin) != 1:
                raise where.error(f"tx {txid}: a coinbase input must be the only input", vpath)
            tx.is_coinbase = True
            tx.tx_index = 0 if height is not None else None
            tx.inputs.append(coinbase_input())
            continue
        inp = TxInput(
            j,
            req_hash(v, "txid", where, vpath),
            req_int(v, "vout", where, vpath),
            sequence=opt_int(v, "sequence", where, vpath),
        )
        prevout = v.get("prevout")
        if prevout is not None:
            ppath = join(vpath, "prevout")
            prevout = req_dict(v, "prevout", where, vpath)
            inp.value = as_sat(req(prevout, "value", where, ppath), where, join(ppath, "value"))
            inp.script_type, inp.address, _ = _script(prevout, where, ppath, network)
        tx.inputs.append(inp)
    for k, o in enumerate(req_list(obj, "vout", where, path)):
        opath = (path, "vout", k)
        if not isinstance(o, dict):
            raise where.error("expected an output object", opath)
        value = as_sat(req(o, "value", where, opath), where, join(opath, "value"))
        kind, address, script_hex = _script(o, where, opath, network)
        tx.outputs.append(TxOutput(k, value, kind, address, script_hex))
    fee = obj.get("fee")
    source_fee = None if fee is None else as_sat(fee, where, join(path, "fee"))
    finalize_fee(tx, source_fee, where, join(path, "fee"))
    return tx


def _add(
    batch: Batch, blocks: dict[int, Block], tx: Transaction, where: Where, path: FieldPath
) -> None:
    batch.transactions.append(tx)
    if tx.block_number is None or tx.block_hash is None:
        return
    known = blocks.get(tx.block_number)
    if known is None:
        block = Block(Chain.BTC, tx.block_number, tx.block_hash, tx.timestamp)
        blocks[tx.block_number] = block
        batch.blocks.append(block)
    elif known.hash != tx.block_hash:
        raise where.error(
            f"block {tx.block_number} is {known.hash} in one tx and {tx.block_hash} in another",
            join(path, "status.block_hash"),
        )


def parse_esplora_txs(
    objs: Iterable[Any],
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
) -> Batch:
    """A JSON array of Esplora transactions (an address's or a block's page of txs).

    Errors name the array position in the field (``[3].vin[0].prevout.value``). Each
    confirmed block met yields one ``Block`` (height, hash, time: all Esplora says about it).
    """
    where = Where(source, record)
    if not isinstance(objs, list | tuple):
        raise where.error(f"expected an array of transactions, got {type(objs).__name__}", None)
    batch = Batch(Chain.BTC)
    blocks: dict[int, Block] = {}
    for n, obj in enumerate(objs):
        path = (n,)
        tx = parse_esplora_tx(obj, network=network, source=source, record=record, path=path)
        _add(batch, blocks, tx, where, path)
    return batch


def esplora_tx_batch(
    obj: Any,
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
) -> Batch:
    """A single ``/tx/:id`` response as a ``Batch`` (with its block, if confirmed)."""
    batch = Batch(Chain.BTC)
    tx = parse_esplora_tx(obj, network=network, source=source, record=record)
    _add(batch, {}, tx, Where(source, record), "")
    return batch
