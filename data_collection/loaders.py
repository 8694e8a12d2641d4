"""Stored rows back into canonical ``fundtrace.core.model`` records, in chain order.

The pure core (clustering, detectors) works on canonical transactions; this is the one place
that turns database rows into them, a chunk at a time so memory stays bounded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from data_collection import models as m
from fundtrace.core.model import Chain, Transaction, Transfer, TransferKind, TxInput, TxOutput

CHUNK = 5000


def iter_transactions(
    chain: Chain, *, after_id: int = 0, chunk: int = CHUNK
) -> Iterator[tuple[int, Transaction]]:
    """(row id, transaction) for stored transactions with id > ``after_id``, in chain order
    within each chunk of ids (imports arrive in chain order, so chunks do too)."""
    last = after_id
    while True:
        rows = list(
            m.BlockchainTransaction.objects.filter(blockchain_network=chain.value, id__gt=last)
            .order_by("id")
            .values_list(
                "id",
                "transaction_hash",
                "block_number",
                "block_hash",
                "tx_index",
                "timestamp",
                "fee",
                "success",
                "is_coinbase",
                "from_address",
                "to_address",
                "amount",
            )[:chunk]
        )
        if not rows:
            return
        last = rows[-1][0]
        ids = [r[0] for r in rows]
        ins: dict[int, list[TxInput]] = defaultdict(list)
        outs: dict[int, list[TxOutput]] = defaultdict(list)
        transfers: dict[int, list[Transfer]] = defaultdict(list)
        if chain.is_utxo:
            for tid, idx, st, sv, val, addr in (
                m.TxInput.objects.filter(transaction_id__in=ids)
                .order_by("transaction_id", "index")
                .values_list(
                    "transaction_id", "index", "spent_txid", "spent_vout", "value", "address"
                )
            ):
                ins[tid].append(TxInput(idx, st, sv, val, addr))
            for tid, idx, val, addr, stype in (
                m.TxOutput.objects.filter(transaction_id__in=ids)
                .order_by("transaction_id", "index")
                .values_list("transaction_id", "index", "value", "address", "script_type")
            ):
                outs[tid].append(TxOutput(idx, val, stype, addr))
        else:
            for tid, idx, kind, asset, f, t, amount, trace in (
                m.Transfer.objects.filter(transaction_id__in=ids)
                .order_by("transaction_id", "index")
                .values_list(
                    "transaction_id",
                    "index",
                    "kind",
                    "asset",
                    "from_address",
                    "to_address",
                    "amount",
                    "trace_address",
                )
            ):
                transfers[tid].append(Transfer(idx, TransferKind(kind), asset, f, t, amount, trace))
        txs = []
        for tid, h, bn, bh, pos, ts, fee, ok, cb, frm, to, amount in rows:
            txs.append(
                (
                    tid,
                    Transaction(
                        chain=chain,
                        hash=h,
                        block_number=bn,
                        block_hash=bh,
                        tx_index=pos,
                        timestamp=int(ts.timestamp()) if ts else None,
                        fee=fee,
                        success=ok,
                        is_coinbase=cb,
                        fee_payer=None if chain.is_utxo else frm,
                        to_address=None if chain.is_utxo else to,
                        value=amount if chain is Chain.ETH else None,
                        inputs=ins.get(tid, []),
                        outputs=outs.get(tid, []),
                        transfers=transfers.get(tid, []),
                    ),
                )
            )
        txs.sort(key=lambda p: (p[1].block_number or 0, p[1].tx_index or 0, p[0]))
        yield from txs
