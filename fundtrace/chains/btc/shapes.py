"""Recognizing a Bitcoin record's source format from its shape, for files that mix them.

Users hand the importer whatever their node, indexer or export wrote, sometimes several kinds
in one file; asking them to label every record would be error-prone, and the formats are
unambiguous by their keys (Core's ``scriptPubKey`` vs Esplora's ``scriptpubkey``, bitcoin-etl's
``inputs``/``outputs``). JSON-RPC envelopes (``{"result", "error", "id"}``) are looked through.
"""

from __future__ import annotations

from typing import Any

from fundtrace.chains.btc.core_rpc import parse_getblock, parse_getrawtransaction, unwrap_rpc
from fundtrace.chains.btc.esplora import esplora_tx_batch
from fundtrace.chains.btc.etl import is_etl_block, is_etl_transaction, parse_etl_block, parse_etl_tx
from fundtrace.chains.btc.fields import Where
from fundtrace.chains.btc.network import MAINNET, Network
from fundtrace.core.model import Batch, Chain

GETBLOCK = "btc.getblock"
TX_VERBOSE = "btc.tx_verbose"
ESPLORA_TX = "btc.esplora_tx"
ETL_BLOCK = "btc.etl_block"
ETL_TX = "btc.etl_tx"
KINDS = (GETBLOCK, TX_VERBOSE, ESPLORA_TX, ETL_BLOCK, ETL_TX)


def _is_rpc_envelope(obj: dict) -> bool:
    return "result" in obj and ("id" in obj or "error" in obj or "jsonrpc" in obj)


def _tx_flavour(obj: dict) -> str | None:
    """Core or Esplora, for an object with ``txid``/``vin``/``vout``."""
    for key in ("vout", "vin"):
        items = obj.get(key)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            first = items[0]
            if "scriptPubKey" in first or "scriptSig" in first or "coinbase" in first:
                return TX_VERBOSE
            if "scriptpubkey" in first or "scriptsig" in first or "is_coinbase" in first:
                return ESPLORA_TX
    if "status" in obj:
        return ESPLORA_TX
    if "hex" in obj or "blockhash" in obj:
        return TX_VERBOSE
    return None


def classify(obj: Any) -> str | None:
    """The kind of a Bitcoin record (one of ``KINDS``), None if it is none of them.

    A ``getblock`` verbosity 1 result still classifies as ``btc.getblock``: parsing it then
    says to use verbosity 2 or 3, which is more useful than "unrecognized record".
    """
    if not isinstance(obj, dict):
        return None
    if _is_rpc_envelope(obj):
        return classify(obj["result"])
    if "tx" in obj and "height" in obj and "hash" in obj:
        return GETBLOCK
    if "txid" in obj and "vin" in obj and "vout" in obj:
        return _tx_flavour(obj)
    if is_etl_transaction(obj) and "is_coinbase" in obj:
        return ETL_TX
    if is_etl_block(obj):
        return ETL_BLOCK
    return None


def parse_record(
    kind: str,
    obj: Any,
    *,
    network: Network = MAINNET,
    source: str | None = None,
    record: int | str | None = None,
) -> Batch:
    """Parse one record of a kind ``classify`` returned into a ``Batch``."""
    where = Where(source, record)
    if kind == GETBLOCK:
        return parse_getblock(obj, network=network, source=source, record=record)
    if kind == TX_VERBOSE:
        tx = parse_getrawtransaction(obj, network=network, source=source, record=record)
        return Batch(Chain.BTC, transactions=[tx])
    obj = unwrap_rpc(obj, where)
    if kind == ESPLORA_TX:
        return esplora_tx_batch(obj, network=network, source=source, record=record)
    if kind == ETL_TX:
        tx = parse_etl_tx(obj, network=network, source=source, record=record)
        return Batch(Chain.BTC, transactions=[tx])
    if kind == ETL_BLOCK:
        return Batch(Chain.BTC, blocks=[parse_etl_block(obj, source=source, record=record)])
    raise where.error(f"unknown Bitcoin record kind {kind!r} (known: {', '.join(KINDS)})", None)
