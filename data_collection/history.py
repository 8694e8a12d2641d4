"""What the stored chain data says about one address or one transaction.

Balances are summed in Python ints over the stored rows (never in SQL on SQLite, where
``U256Field`` is text, and never as floats). A balance below zero means the stored history of
the address is incomplete (it spent funds whose arrival was not imported); that is reported as a
warning rather than hidden.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q

from data_collection.models import BlockchainTransaction, Transfer, TxInput, TxOutput


def _sort_key(m: dict[str, Any]) -> tuple:
    block = m["block_number"] if m["block_number"] is not None else 2**63
    return (block, m["_txi"] if m["_txi"] is not None else 2**31, m["tx"], m["_order"])


def address_history(chain: str, address: str) -> dict[str, Any]:
    """Balances per asset and every stored movement in chain order."""
    movements: list[dict[str, Any]] = []
    received: dict[str, int] = defaultdict(int)
    sent: dict[str, int] = defaultdict(int)
    fees: dict[str, int] = defaultdict(int)
    warnings: list[str] = []
    if chain == "btc":
        outputs = TxOutput.objects.filter(chain=chain, address=address).select_related(
            "transaction"
        )
        for o in outputs:
            received["native"] += o.value
            movements.append(
                {
                    "tx": o.txid,
                    "block_number": o.transaction.block_number,
                    "timestamp": o.transaction.timestamp,
                    "direction": "in",
                    "kind": "output",
                    "index": o.index,
                    "asset": "native",
                    "amount": o.value,
                    "counterparty": None,
                    "_txi": o.transaction.tx_index,
                    "_order": (1, o.index),
                }
            )
        inputs = (
            TxInput.objects.filter(chain=chain)
            .filter(Q(address=address) | Q(spent_output__address=address))
            .select_related("transaction", "spent_output")
        )
        for i in inputs:
            value = (
                i.value
                if i.value is not None
                else (i.spent_output.value if i.spent_output is not None else None)
            )
            if value is None:
                warnings.append(f"input {i.txid}:{i.index} has no known value")
                continue
            sent["native"] += value
            movements.append(
                {
                    "tx": i.txid,
                    "block_number": i.transaction.block_number,
                    "timestamp": i.transaction.timestamp,
                    "direction": "out",
                    "kind": "input",
                    "index": i.index,
                    "asset": "native",
                    "amount": value,
                    "counterparty": None,
                    "_txi": i.transaction.tx_index,
                    "_order": (0, i.index),
                }
            )
    else:
        transfers = Transfer.objects.filter(chain=chain).filter(
            Q(from_address=address) | Q(to_address=address)
        )
        for t in transfers:
            # A self-transfer is both an inflow and an outflow; it nets to zero.
            for direction, party, counter in (
                ("out", t.from_address, t.to_address),
                ("in", t.to_address, t.from_address),
            ):
                if party != address:
                    continue
                (sent if direction == "out" else received)[t.asset] += t.amount
                movements.append(
                    {
                        "tx": t.tx_hash,
                        "block_number": t.block_number,
                        "timestamp": t.timestamp,
                        "direction": direction,
                        "kind": t.kind,
                        "index": t.index,
                        "asset": t.asset,
                        "amount": t.amount,
                        "counterparty": counter,
                        "_txi": t.tx_index,
                        "_order": (0 if t.kind == "native" else 1, t.index, direction),
                    }
                )
        paid = BlockchainTransaction.objects.filter(
            blockchain_network=chain, from_address=address, fee__isnull=False
        )
        for tx in paid:
            if not tx.fee:
                continue
            fees["native"] += tx.fee
            movements.append(
                {
                    "tx": tx.transaction_hash,
                    "block_number": tx.block_number,
                    "timestamp": tx.timestamp,
                    "direction": "fee",
                    "kind": "fee",
                    "index": None,
                    "asset": "native",
                    "amount": tx.fee,
                    "counterparty": None,
                    "_txi": tx.tx_index,
                    "_order": (-1,),
                }
            )
    movements.sort(key=_sort_key)
    for m in movements:
        del m["_txi"], m["_order"]
    balances = []
    for asset in sorted(set(received) | set(sent) | set(fees), key=lambda a: (a != "native", a)):
        balance = received[asset] - sent[asset] - fees[asset]
        if balance < 0:
            warnings.append(
                f"{asset}: more left than arrived in the stored data "
                f"(history incomplete by {-balance} base units)"
            )
        balances.append(
            {
                "asset": asset,
                "received": received[asset],
                "sent": sent[asset],
                "fees": fees[asset],
                "balance": balance,
            }
        )
    return {
        "chain": chain,
        "address": address,
        "balances": balances,
        "warnings": warnings,
        "movements": movements,
    }


def iso_time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _amount(value: int | None) -> str | None:
    return None if value is None else str(value)


def stored_transaction(chain: str, tx_hash: str) -> dict[str, Any] | None:
    """One stored transaction as the CLI (``fundtrace show tx``) and the API both print it.

    Bitcoin keeps its inputs and outputs (which output paid which); accounts their transfers.
    Amounts are decimal strings of base units, addresses in the chain's canonical form.
    """
    tx = BlockchainTransaction.objects.filter(
        blockchain_network=chain, transaction_hash=tx_hash
    ).first()
    if tx is None:
        return None
    doc: dict[str, Any] = {
        "chain": chain,
        "hash": tx.transaction_hash,
        "block_number": tx.block_number,
        "block_hash": tx.block_hash,
        "tx_index": tx.tx_index,
        "timestamp": iso_time(tx.timestamp),
        "fee": _amount(tx.fee),
        "status": "success" if tx.success else "failed",
    }
    if chain == "btc":
        doc["is_coinbase"] = tx.is_coinbase
        doc["inputs"] = [
            {
                "index": i.index,
                "txid": i.spent_txid,
                "vout": i.spent_vout,
                "address": i.address,
                "value": _amount(i.value),
            }
            for i in tx.inputs.order_by("index")
        ]
        doc["outputs"] = []
        for o in tx.outputs.order_by("index").select_related("spent_by"):
            spender = getattr(o, "spent_by", None)
            doc["outputs"].append(
                {
                    "index": o.index,
                    "address": o.address,
                    "value": str(o.value),
                    "script_type": o.script_type,
                    "spent_by": f"{spender.txid}:{spender.index}" if spender else None,
                }
            )
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
                "trace_address": t.trace_address,
            }
            for t in tx.transfers.order_by("kind", "index")
        ]
    return doc
