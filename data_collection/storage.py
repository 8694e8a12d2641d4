"""Store canonical ``Batch`` records idempotently, in one database transaction per batch.

Re-importing the same data updates rows in place (keyed by chain + hash + index) and never
doubles them; a batch that fails half way leaves the database exactly as it was, because the
whole batch runs inside ``transaction.atomic``. Rows are written with set-based bulk upserts
(``INSERT ... ON CONFLICT``), not per-row saves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q

from data_collection import models as m
from fundtrace.core.model import NATIVE, Batch, Chain, Transaction, TransferKind

BULK = 2000


@dataclass
class StoreStats:
    blocks: int = 0
    transactions: int = 0
    outputs: int = 0
    inputs: int = 0
    transfers: int = 0
    assets: int = 0
    linked_inputs: int = 0
    unresolved_inputs: list[tuple[str, int]] = field(default_factory=list)

    def add(self, other: StoreStats) -> None:
        for name in ("blocks", "transactions", "outputs", "inputs", "transfers", "assets"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.linked_inputs += other.linked_inputs
        self.unresolved_inputs.extend(other.unresolved_inputs)


def to_datetime(ts: int | None) -> dt.datetime | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, tz=dt.UTC)


def _chunks(rows: Sequence, n: int = BULK) -> Iterable[Sequence]:
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def _upsert(model: type, rows: list, unique: list[str], update: list[str]) -> None:
    for chunk in _chunks(rows):
        if update:
            model.objects.bulk_create(
                chunk, update_conflicts=True, unique_fields=unique, update_fields=update
            )
        else:
            model.objects.bulk_create(chunk, ignore_conflicts=True)


def summarize(tx: Transaction) -> tuple[str | None, str | None, int | None]:
    """(from, to, amount) of the transaction-level view; see ``BlockchainTransaction``."""
    if tx.chain.is_utxo:
        sender = tx.inputs[0].address if tx.inputs else None
        receiver = tx.outputs[0].address if tx.outputs else None
        return sender, receiver, tx.output_total()
    native = [t for t in tx.transfers if t.asset == NATIVE]
    if tx.chain is Chain.ETH:
        return tx.fee_payer, tx.to_address, tx.value
    receiver = tx.transfers[0].to_address if tx.transfers else tx.to_address
    outer = sum(t.amount for t in native if t.kind == TransferKind.NATIVE)
    return tx.fee_payer, receiver, outer


def store_batch(batch: Batch) -> StoreStats:
    """Upsert everything in ``batch`` atomically and link Bitcoin inputs to their outputs."""
    for tx in batch.transactions:
        tx.validate()
    with transaction.atomic():
        return _store(batch)


def _store(batch: Batch) -> StoreStats:
    chain = batch.chain.value
    stats = StoreStats()

    assets = {(a.chain.value, a.asset_id): a for a in batch.assets}
    _upsert(
        m.Asset,
        [
            m.Asset(chain=c, asset_id=i, symbol=a.symbol, name=a.name, decimals=a.decimals)
            for (c, i), a in assets.items()
        ],
        ["chain", "asset_id"],
        ["symbol", "name", "decimals"],
    )
    stats.assets = len(assets)

    blocks = {b.number: b for b in batch.blocks}
    _upsert(
        m.Block,
        [
            m.Block(
                chain=chain,
                number=b.number,
                hash=b.hash,
                parent_hash=b.parent_hash,
                timestamp=to_datetime(b.timestamp),
                tx_count=b.tx_count,
                miner=b.miner,
            )
            for b in blocks.values()
        ],
        ["chain", "number"],
        ["hash", "parent_hash", "timestamp", "tx_count", "miner"],
    )
    stats.blocks = len(blocks)

    txs = {tx.hash: tx for tx in batch.transactions}  # last one wins within a batch
    tx_rows = []
    for tx in txs.values():
        sender, receiver, amount = summarize(tx)
        tx_rows.append(
            m.BlockchainTransaction(
                blockchain_network=chain,
                transaction_hash=tx.hash,
                block_number=tx.block_number,
                block_hash=tx.block_hash,
                tx_index=tx.tx_index,
                timestamp=to_datetime(tx.timestamp),
                from_address=sender,
                to_address=receiver,
                amount=amount,
                fee=tx.fee,
                success=tx.success,
                is_coinbase=tx.is_coinbase,
            )
        )
    _upsert(
        m.BlockchainTransaction,
        tx_rows,
        ["blockchain_network", "transaction_hash"],
        [
            "block_number",
            "block_hash",
            "tx_index",
            "timestamp",
            "from_address",
            "to_address",
            "amount",
            "fee",
            "success",
            "is_coinbase",
        ],
    )
    stats.transactions = len(tx_rows)
    ids = _tx_ids(chain, list(txs))

    outputs, inputs, transfers = [], [], []
    for tx in txs.values():
        tx_id = ids[tx.hash]
        for o in tx.outputs:
            outputs.append(
                m.TxOutput(
                    transaction_id=tx_id,
                    chain=chain,
                    txid=tx.hash,
                    index=o.index,
                    value=o.value,
                    address=o.address,
                    script_type=o.script_type,
                    script_hex=o.script_hex,
                )
            )
        for i in tx.inputs:
            inputs.append(
                m.TxInput(
                    transaction_id=tx_id,
                    chain=chain,
                    txid=tx.hash,
                    index=i.index,
                    spent_txid=i.spent_txid,
                    spent_vout=i.spent_vout,
                    value=i.value,
                    address=i.address,
                )
            )
        ts = to_datetime(tx.timestamp)
        for t in tx.transfers:
            transfers.append(
                m.Transfer(
                    transaction_id=tx_id,
                    chain=chain,
                    tx_hash=tx.hash,
                    kind=t.kind.value,
                    index=t.index,
                    asset=t.asset,
                    from_address=t.from_address,
                    to_address=t.to_address,
                    amount=t.amount,
                    trace_address=t.trace_address,
                    block_number=tx.block_number,
                    tx_index=tx.tx_index,
                    timestamp=ts,
                )
            )
    _upsert(
        m.TxOutput,
        outputs,
        ["chain", "txid", "index"],
        ["value", "address", "script_type", "script_hex", "transaction"],
    )
    # A value learnt earlier (e.g. from a verbosity-3 block) must not be wiped by a re-import
    # that lacks it (verbosity 2), so inputs without a value never overwrite value/address.
    key, spend = ["chain", "txid", "index"], ["spent_txid", "spent_vout", "transaction"]
    _upsert(
        m.TxInput, [i for i in inputs if i.value is not None], key, [*spend, "value", "address"]
    )
    _upsert(m.TxInput, [i for i in inputs if i.value is None], key, spend)
    _upsert(
        m.Transfer,
        transfers,
        ["chain", "tx_hash", "kind", "index"],
        [
            "transaction",
            "asset",
            "from_address",
            "to_address",
            "amount",
            "trace_address",
            "block_number",
            "tx_index",
            "timestamp",
        ],
    )
    stats.outputs, stats.inputs, stats.transfers = len(outputs), len(inputs), len(transfers)
    _store_addresses(chain, batch)
    if batch.chain.is_utxo:
        stats.linked_inputs = link_inputs(chain, list(txs))
        _fill_fees(chain, list(txs))
    return stats


def _tx_ids(chain: str, hashes: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(hashes, 900):
        ids.update(
            m.BlockchainTransaction.objects.filter(
                blockchain_network=chain, transaction_hash__in=chunk
            ).values_list("transaction_hash", "id")
        )
    return ids


def _store_addresses(chain: str, batch: Batch) -> None:
    first: dict[str, int | None] = {}
    for tx in batch.transactions:
        seen = [o.address for o in tx.outputs] + [i.address for i in tx.inputs]
        for t in tx.transfers:
            seen += [t.from_address, t.to_address]
        seen.append(tx.fee_payer)
        for a in seen:
            if a and (a not in first or (tx.block_number or 0) < (first[a] or 0)):
                first[a] = tx.block_number
    _upsert(
        m.Address,
        [m.Address(chain=chain, address=a, first_seen_block=b) for a, b in first.items()],
        ["chain", "address"],
        [],
    )


def link_inputs(chain: str, txids: list[str]) -> int:
    """Point each input of, or spending, these transactions at the exact output it consumes.

    Returns how many inputs were linked now. Value and address are copied from the output so
    that the input row is self-contained.
    """
    linked = 0
    for chunk in _chunks(txids, 400):
        pending = m.TxInput.objects.filter(
            Q(txid__in=chunk) | Q(spent_txid__in=chunk),
            chain=chain,
            spent_output__isnull=True,
            spent_txid__isnull=False,
        ).values_list("id", "spent_txid", "spent_vout")
        pending = list(pending)
        if not pending:
            continue
        wanted = {(t, v) for _, t, v in pending}
        outs = {}
        for sub in _chunks(sorted({t for t, _ in wanted}), 400):
            for oid, txid, idx, value, address in m.TxOutput.objects.filter(
                chain=chain, txid__in=sub
            ).values_list("id", "txid", "index", "value", "address"):
                outs[(txid, idx)] = (oid, value, address)
        for input_id, t, v in pending:
            hit = outs.get((t, v))
            if hit is None:
                continue
            oid, value, address = hit
            m.TxInput.objects.filter(id=input_id).update(
                spent_output_id=oid, value=value, address=address
            )
            linked += 1
    return linked


def _fill_fees(chain: str, txids: list[str]) -> None:
    """Bitcoin fee = inputs - outputs, once every input value is known."""
    for chunk in _chunks(txids, 400):
        spent = set(
            m.TxInput.objects.filter(chain=chain, spent_txid__in=chunk).values_list(
                "transaction__transaction_hash", flat=True
            )
        )
        candidates = set(chunk) | spent
        rows = m.BlockchainTransaction.objects.filter(
            blockchain_network=chain,
            transaction_hash__in=list(candidates),
            fee__isnull=True,
            is_coinbase=False,
        ).values_list("id", flat=True)
        for tx_id in rows:
            ins = list(
                m.TxInput.objects.filter(transaction_id=tx_id).values_list("value", flat=True)
            )
            if not ins or any(v is None for v in ins):
                continue
            outs = m.TxOutput.objects.filter(transaction_id=tx_id).values_list("value", flat=True)
            m.BlockchainTransaction.objects.filter(id=tx_id).update(fee=sum(ins) - sum(outs))


def lookup_outputs(chain: Chain, keys: list[tuple[str, int]]) -> dict[tuple[str, int], tuple]:
    """Stored outputs by (txid, vout): (value, address, script_type); for input resolution."""
    found: dict[tuple[str, int], tuple] = {}
    by_tx: dict[str, set[int]] = {}
    for txid, vout in keys:
        by_tx.setdefault(txid, set()).add(vout)
    for chunk in _chunks(sorted(by_tx), 400):
        for txid, idx, value, address, st in m.TxOutput.objects.filter(
            chain=chain.value, txid__in=chunk
        ).values_list("txid", "index", "value", "address", "script_type"):
            if idx in by_tx[txid]:
                found[(txid, idx)] = (value, address, st)
    return found


def vendor() -> str:
    return connection.vendor
