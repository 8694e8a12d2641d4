"""Read stored chain data back as plain documents (for the CLI, the API and reports).

Amounts leave as decimal strings of base units: JSON numbers would be floats to most readers.
Balances are exact Python-int sums over what is stored, which is what an investigator can
prove; they say nothing about history that was never imported.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from data_collection import models as m
from fundtrace.core.errors import FundtraceError
from fundtrace.core.model import NATIVE, Chain


class NotStored(FundtraceError):
    """The thing asked for is not in the database (it may exist on chain)."""


def _ts(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def canonical_address(chain: Chain, address: str) -> str:
    address = address.strip()
    return address.lower() if chain is Chain.ETH else address


def canonical_hash(chain: Chain, tx_hash: str) -> str:
    tx_hash = tx_hash.strip()
    if chain is Chain.ETH:
        tx_hash = tx_hash.lower()
        return tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
    return tx_hash.lower() if chain is Chain.BTC else tx_hash


def transaction_document(chain: Chain, tx_hash: str) -> dict[str, Any]:
    tx_hash = canonical_hash(chain, tx_hash)
    try:
        tx = m.BlockchainTransaction.objects.get(
            blockchain_network=chain.value, transaction_hash=tx_hash
        )
    except m.BlockchainTransaction.DoesNotExist:
        raise NotStored(f"transaction {tx_hash} is not stored for chain {chain}") from None
    doc: dict[str, Any] = {
        "chain": chain.value,
        "hash": tx.transaction_hash,
        "block_number": tx.block_number,
        "block_hash": tx.block_hash,
        "tx_index": tx.tx_index,
        "timestamp": _ts(tx.timestamp),
        "fee": None if tx.fee is None else str(tx.fee),
        "status": "success" if tx.success else "failed",
    }
    if chain.is_utxo:
        doc["is_coinbase"] = tx.is_coinbase
        doc["inputs"] = [
            {
                "txid": i.spent_txid,
                "vout": i.spent_vout,
                "address": i.address,
                "value": None if i.value is None else str(i.value),
            }
            for i in tx.inputs.order_by("index")
        ]
        doc["outputs"] = [
            {
                "index": o.index,
                "address": o.address,
                "value": str(o.value),
                "script_type": o.script_type,
            }
            for o in tx.outputs.order_by("index")
        ]
    else:
        doc["from"] = tx.from_address
        doc["to"] = tx.to_address
        doc["transfers"] = [
            {
                "index": t.index,
                "kind": t.kind,
                "asset": t.asset,
                "from": t.from_address,
                "to": t.to_address,
                "amount": str(t.amount),
            }
            for t in tx.transfers.order_by("kind", "index")
        ]
    return doc


def address_document(chain: Chain, address: str, *, limit: int | None = 1000) -> dict[str, Any]:
    """Movements in and out of ``address`` in chain order, and its balance per asset."""
    address = canonical_address(chain, address)
    moves: list[dict[str, Any]] = []
    balance: dict[str, int] = defaultdict(int)
    if chain.is_utxo:
        for o in m.TxOutput.objects.filter(chain=chain.value, address=address).select_related(
            "transaction"
        ):
            moves.append(
                _move(o.transaction, "in", NATIVE, o.value, None, output=f"{o.txid}:{o.index}")
            )
            balance[NATIVE] += o.value
        for i in m.TxInput.objects.filter(chain=chain.value, address=address).select_related(
            "transaction"
        ):
            if i.value is None:
                continue
            moves.append(
                _move(
                    i.transaction,
                    "out",
                    NATIVE,
                    i.value,
                    None,
                    output=f"{i.spent_txid}:{i.spent_vout}",
                )
            )
            balance[NATIVE] -= i.value
    else:
        for t in m.Transfer.objects.filter(chain=chain.value, to_address=address).select_related(
            "transaction"
        ):
            moves.append(_move(t.transaction, "in", t.asset, t.amount, t.from_address, t))
            balance[t.asset] += t.amount
        for t in m.Transfer.objects.filter(chain=chain.value, from_address=address).select_related(
            "transaction"
        ):
            moves.append(_move(t.transaction, "out", t.asset, t.amount, t.to_address, t))
            balance[t.asset] -= t.amount
        for tx in m.BlockchainTransaction.objects.filter(
            blockchain_network=chain.value, from_address=address, fee__gt=0
        ):
            moves.append(_move(tx, "fee", NATIVE, tx.fee, None))
            balance[NATIVE] -= tx.fee
    if not moves and not m.Address.objects.filter(chain=chain.value, address=address).exists():
        raise NotStored(f"address {address} has no stored movements on chain {chain}")
    moves.sort(key=lambda r: (r["block_number"] or 0, r["tx_index"] or 0, r["_order"]))
    for r in moves:
        del r["_order"]
    decimals = dict(
        m.Asset.objects.filter(chain=chain.value, asset_id__in=list(balance)).values_list(
            "asset_id", "decimals"
        )
    )
    decimals.setdefault(NATIVE, chain.native_decimals)
    return {
        "chain": chain.value,
        "address": address,
        "balances": [
            {"asset": a, "decimals": decimals.get(a), "balance": str(v)}
            for a, v in sorted(balance.items())
        ],
        "movement_count": len(moves),
        "movements": moves if limit is None else moves[:limit],
        "warnings": [
            f"balance of {a} is negative ({v}): the stored history of this address is incomplete"
            for a, v in sorted(balance.items())
            if v < 0
        ],
    }


def _move(
    tx: m.BlockchainTransaction,
    direction: str,
    asset: str,
    amount: int,
    counterparty: str | None,
    transfer: m.Transfer | None = None,
    output: str | None = None,
) -> dict[str, Any]:
    doc = {
        "tx": tx.transaction_hash,
        "block_number": tx.block_number,
        "tx_index": tx.tx_index,
        "timestamp": _ts(tx.timestamp),
        "direction": direction,
        "asset": asset,
        "amount": str(amount),
        "counterparty": counterparty,
        "index": None if transfer is None else transfer.index,
        "kind": None if transfer is None else transfer.kind,
        "_order": (0 if transfer is None else transfer.index, direction),
    }
    if output is not None:
        doc["output"] = output
    return doc
