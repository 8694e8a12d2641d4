"""Bitcoin Core JSON-RPC results (``getblock`` verbosity 2/3, ``getrawtransaction`` verbose).

Amounts are BTC as JSON numbers; callers must parse with ``json.loads(..., parse_float=Decimal)``
so that 0.1 stays 0.1 (a float is refused with a message saying so). Both scriptPubKey formats
are read: pre-v22 (``addresses`` list, ``reqSigs``) and v22+ (``address``, ``desc``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fundtrace.chains.btc import rpc_decode
from fundtrace.chains.btc.fields import (
    FieldPath,
    Where,
    as_btc_sat,
    as_hash,
    as_hex,
    join,
    opt_hash,
    opt_int,
    req,
    req_dict,
    req_hash,
    req_int,
    req_list,
)
from fundtrace.chains.btc.network import MAINNET, Network
from fundtrace.chains.btc.txbuild import (
    claimed_address,
    coinbase_input,
    finalize_fee,
    script_type_and_address,
)
from fundtrace.core.bulk import gc_paused
from fundtrace.core.model import Batch, Block, Chain, Transaction, TxInput, TxOutput


def unwrap_rpc(obj: Any, where: Where) -> Any:
    """A bare result from a ``{"result", "error", "id"}`` response; an RPC error is a ParseError."""
    if isinstance(obj, dict) and "result" in obj and ("id" in obj or "error" in obj):
        if obj.get("error") is not None:
            raise where.error(f"the node returned an error: {obj['error']!r}", "error")
        return obj["result"]
    return obj


def _script(
    spk: dict, where: Where, path: FieldPath, network: Network
) -> tuple[str, str | None, str]:
    """(type, address, hex) of a ``scriptPubKey`` object in either Core format."""
    script_hex = as_hex(req(spk, "hex", where, path), where, join(path, "hex"))
    claimed = spk.get("address")
    if not isinstance(claimed, str):
        claimed = claimed_address(spk.get("addresses"))
    kind, address = script_type_and_address(script_hex, claimed, network)
    return kind, address, script_hex


def _parse_tx(
    t: Any,
    where: Where,
    path: FieldPath,
    network: Network,
    *,
    block_number: int | None,
    block_hash: str | None,
    tx_index: int | None,
    timestamp: int | None,
) -> Transaction:
    if not isinstance(t, dict):
        raise where.error(f"expected a transaction object, got {type(t).__name__}", path or None)
    txid = req_hash(t, "txid", where, path)
    tx = Transaction(
        Chain.BTC,
        txid,
        block_number,
        block_hash=block_hash,
        tx_index=tx_index,
        timestamp=timestamp,
    )
    vin = req_list(t, "vin", where, path)
    for j, v in enumerate(vin):
        vpath = (path, "vin", j)
        if not isinstance(v, dict):
            raise where.error("expected an input object", vpath)
        if "coinbase" in v:
            if len(vin) != 1:
                raise where.error(f"tx {txid}: a coinbase input must be the only input", vpath)
            tx.is_coinbase = True
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
            if not isinstance(prevout, dict):
                raise where.error("expected an object", ppath)
            inp.value = as_btc_sat(req(prevout, "value", where, ppath), where, join(ppath, "value"))
            spk_path = join(ppath, "scriptPubKey")
            spk = req_dict(prevout, "scriptPubKey", where, ppath)
            inp.script_type, inp.address, _ = _script(spk, where, spk_path, network)
        tx.inputs.append(inp)
    for k, o in enumerate(req_list(t, "vout", where, path)):
        opath = (path, "vout", k)
        if not isinstance(o, dict):
            raise where.error("expected an output object", opath)
        n = req_int(o, "n", where, opath)
        if n != k:
            raise where.error(f"output at position {k} says n={n}", join(opath, "n"))
        value = as_btc_sat(req(o, "value", where, opath), where, join(opath, "value"))
        spk_path = join(opath, "scriptPubKey")
        kind, address, script_hex = _script(
            req_dict(o, "scriptPubKey", where, opath), where, spk_path, network
        )
        tx.outputs.append(TxOutput(k, value, kind, address, script_hex))
    return tx


def _source_fee(t: dict, where: Where, path: FieldPath) -> int | None:
    fee = t.get("fee")
    return None if fee is None else as_btc_sat(fee, where, join(path, "fee"))


def parse_getblock(
    result: Any,
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
) -> Batch:
    """One block from ``getblock <hash> 2`` or ``3`` (bare result or full JSON-RPC response).

    Verbosity 3 carries each input's prevout; with verbosity 2 inputs spending outputs of
    earlier transactions in this block get their values here and the rest stay unknown
    (``value`` None) for ``resolve.resolve_input_values``.
    """
    where = Where(source, record)
    b = unwrap_rpc(result, where)
    if not isinstance(b, dict):
        raise where.error(f"expected a getblock result object, got {type(b).__name__}", None)
    height = req_int(b, "height", where, "")
    block_hash = req_hash(b, "hash", where, "")
    time = req_int(b, "time", where, "")
    txs = req_list(b, "tx", where, "")
    if any(isinstance(t, str) for t in txs):
        raise where.error(
            f"block {height} is a getblock verbosity 1 result (txids only); "
            "call getblock with verbosity 2 or 3",
            "tx",
        )
    tx_count = opt_int(b, "nTx", where, "")
    block = Block(
        Chain.BTC,
        height,
        block_hash,
        time,
        parent_hash=opt_hash(b, "previousblockhash", where, ""),
        tx_count=len(txs) if tx_count is None else tx_count,
    )
    batch = Batch(Chain.BTC, blocks=[block])
    created: dict[tuple[str, int], TxOutput] = {}
    for i, t in enumerate(txs):
        path = ("tx", i)
        tx = _parse_tx(
            t,
            where,
            path,
            network,
            block_number=height,
            block_hash=block_hash,
            tx_index=i,
            timestamp=time,
        )
        if tx.is_coinbase != (i == 0):
            raise where.error(f"tx {tx.hash}: only the first transaction is a coinbase", path)
        for inp in tx.inputs:
            if inp.spent_txid is None:
                continue
            spent = created.get((inp.spent_txid, inp.spent_vout))  # type: ignore[arg-type]
            if spent is None:
                continue
            if inp.value is None:
                inp.value, inp.address, inp.script_type = (
                    spent.value,
                    spent.address,
                    spent.script_type,
                )
            elif inp.value != spent.value:
                raise where.error(
                    f"prevout value {inp.value} differs from output {spent.value} of "
                    f"{inp.spent_txid}:{inp.spent_vout} in this block",
                    (path, "vin", inp.index, "prevout", "value"),
                )
        finalize_fee(tx, _source_fee(t, where, path), where, join(path, "fee"))
        for o in tx.outputs:
            created[(tx.hash, o.index)] = o
        batch.transactions.append(tx)
    if block.tx_count != len(txs):
        raise where.error(f"nTx is {block.tx_count} but tx lists {len(txs)}", "nTx")
    return batch


def parse_getrawtransaction(
    result: Any,
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
    block_number: int | None = None,
) -> Transaction:
    """One transaction from ``getrawtransaction <txid> true`` (or ``getrawtransaction .. 2``).

    The result names the block by hash only, so ``block_number`` stays None unless the caller
    knows the height; ``tx_index`` is known only for a coinbase (always 0).
    """
    where = Where(source, record)
    t = unwrap_rpc(result, where)
    block_hash = None
    if isinstance(t, dict) and t.get("blockhash") is not None:
        block_hash = as_hash(t["blockhash"], where, "blockhash")
    timestamp = None
    if isinstance(t, dict):
        timestamp = opt_int(t, "blocktime", where, "")
    tx = _parse_tx(
        t,
        where,
        "",
        network,
        block_number=block_number,
        block_hash=block_hash,
        tx_index=None,
        timestamp=timestamp,
    )
    if tx.is_coinbase and block_hash is not None:
        tx.tx_index = 0
    finalize_fee(tx, _source_fee(t, where, ""), where, "fee")
    return tx


def parse_getblock_bytes(
    data: bytes,
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
) -> Batch:
    """``parse_getblock(json.loads(data, parse_float=Decimal))`` for the bytes of one document.

    Same batch, same errors: the common shape takes the typed decoder in ``rpc_decode``
    (several times faster on bulk imports), anything else the generic path above.
    """
    if rpc_decode.available() and data.isascii():
        try:
            with gc_paused():
                return rpc_decode.getblock_batch(data, network)
        except rpc_decode.DecodeErrors:
            pass
    return parse_getblock(
        json.loads(data, parse_float=Decimal), network=network, source=source, record=record
    )
