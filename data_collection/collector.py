"""Django side of ``fundtrace collect``: checkpoints, re-org rollback and storing batches.

The collection loops live in ``fundtrace.collection`` (no Django); this module gives them a
``CollectionStore`` backed by the database. Two guarantees are made here:

* a batch and its checkpoint are written in one transaction, so an interrupted run resumes
  at the first block not stored, with no gap and nothing stored twice;
* a rollback deletes stale blocks with every row derived from them (transactions, outputs,
  inputs, transfers), unlinks inputs elsewhere that spent the removed outputs, and pulls every
  range checkpoint of the chain back to the fork point, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q

from data_collection import models as m
from data_collection.storage import lookup_outputs, store_batch
from fundtrace.collection.checkpoint import Checkpoint
from fundtrace.collection.store import Outpoint, RollbackCounts, StoredCounts
from fundtrace.core.model import Batch, Chain

_IN_CHUNK = 500


class DjangoCollectionStore:
    def __init__(self, *, endpoint: str = "") -> None:
        self.endpoint = endpoint
        """The redacted URL recorded with each checkpoint (which source the data came from)."""

    def stored_hashes(self, chain: Chain, numbers: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        wanted = sorted(set(numbers))
        for i in range(0, len(wanted), _IN_CHUNK):
            out.update(
                m.Block.objects.filter(
                    chain=chain.value, number__in=wanted[i : i + _IN_CHUNK]
                ).values_list("number", "hash")
            )
        return out

    def stored_blocks_between(self, chain: Chain, low: int, high: int) -> dict[int, str]:
        return dict(
            m.Block.objects.filter(
                chain=chain.value, number__gte=low, number__lte=high
            ).values_list("number", "hash")
        )

    def lookup_outputs(self, chain: Chain, keys: list[Outpoint]) -> dict[Outpoint, tuple]:
        return lookup_outputs(chain, keys)

    def store(self, batch: Batch, checkpoint: Checkpoint) -> StoredCounts:
        with transaction.atomic():
            stats = store_batch(batch)
            self.save_checkpoint(checkpoint)
        return StoredCounts(
            blocks=stats.blocks,
            transactions=stats.transactions,
            transfers=stats.transfers,
            outputs=stats.outputs,
            inputs=stats.inputs,
        )

    def rollback_above(self, chain: Chain, number: int) -> RollbackCounts:
        c = chain.value
        with transaction.atomic():
            blocks = m.Block.objects.filter(chain=c, number__gt=number)
            stale_hashes = blocks.values("hash")
            txs = m.BlockchainTransaction.objects.filter(blockchain_network=c).filter(
                Q(block_hash__in=stale_hashes) | Q(block_hash__isnull=True, block_number__gt=number)
            )
            tx_ids = txs.values("id")
            counts = RollbackCounts()
            # Inputs of *other* transactions that spent a removed output: the output is gone,
            # the input (a fact of its own transaction) stays, now unlinked.
            counts.unlinked_inputs = (
                m.TxInput.objects.filter(spent_output__transaction_id__in=tx_ids)
                .exclude(transaction_id__in=tx_ids)
                .update(spent_output=None)
            )
            counts.transfers = m.Transfer.objects.filter(transaction_id__in=tx_ids).delete()[0]
            counts.inputs = m.TxInput.objects.filter(transaction_id__in=tx_ids).delete()[0]
            # Nothing points at these outputs any more, so a plain delete is safe and fast.
            outputs = m.TxOutput.objects.filter(transaction_id__in=tx_ids)
            counts.outputs = outputs._raw_delete(outputs.db)
            counts.transactions = txs._raw_delete(txs.db)
            counts.blocks = blocks._raw_delete(blocks.db)
            m.CollectionCheckpoint.objects.filter(
                chain=c, job__startswith="blocks:", next_block__gt=number + 1
            ).update(next_block=number + 1, last_hash=None)
        return counts

    def load_checkpoint(self, chain: Chain, job: str) -> Checkpoint | None:
        row = m.CollectionCheckpoint.objects.filter(chain=chain.value, job=job).first()
        if row is None:
            return None
        return Checkpoint(
            chain,
            job,
            next_block=row.next_block,
            last_hash=row.last_hash,
            status=row.status,
            error=row.error,
            state=dict(row.state or {}),
        )

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        m.CollectionCheckpoint.objects.update_or_create(
            chain=checkpoint.chain.value,
            job=checkpoint.job,
            defaults={
                "endpoint": self.endpoint[:300],
                "next_block": checkpoint.next_block,
                "last_hash": checkpoint.last_hash,
                "status": checkpoint.status,
                "error": checkpoint.error,
                "state": checkpoint.state,
            },
        )
