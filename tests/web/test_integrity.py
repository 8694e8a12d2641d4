"""Without database foreign keys on the child tables, the loader and the re-org rollback must
keep every output, input and transfer with a stored transaction (and every linked input with a
stored output): checked on real data, on whichever database is configured."""

from __future__ import annotations

import pytest
from django.db import connection

from data_collection import models as m
from data_collection.collector import DjangoCollectionStore
from data_collection.importing import import_paths
from data_collection.integrity import orphans
from fundtrace.core.model import Chain
from tests.paths import needs_shared
from tests.web.test_import import EVERY_FORMAT

pytestmark = [pytest.mark.django_db, needs_shared]

SOUND = {
    "output.transaction": 0,
    "input.transaction": 0,
    "transfer.transaction": 0,
    "input.spent_output": 0,
}


def test_every_format_imported_twice_leaves_no_orphan_and_a_rollback_neither() -> None:
    for chain, fmt, paths in EVERY_FORMAT:
        import_paths(Chain(chain), fmt, paths)
        import_paths(Chain(chain), fmt, paths)  # the merge path
    assert m.TxInput.objects.filter(spent_output__isnull=False).exists()
    assert m.Transfer.objects.exists() and m.TxOutput.objects.exists()
    assert orphans() == SOUND
    # drop the upper half of the stored Bitcoin blocks, as a re-org would
    numbers = sorted(m.Block.objects.filter(chain="btc").values_list("number", flat=True))
    cut = numbers[len(numbers) // 2]
    counts = DjangoCollectionStore().rollback_above(Chain.BTC, cut)
    assert counts.transactions > 0
    assert orphans() == SOUND


def test_the_check_sees_an_orphan_written_behind_the_loaders_back() -> None:
    import_paths(Chain.BTC, *EVERY_FORMAT[0][1:])
    tx = m.BlockchainTransaction.objects.filter(outputs__isnull=False).first()
    with connection.cursor() as c:  # what only a bug or a manual edit could do
        c.execute(f"DELETE FROM {m.BlockchainTransaction._meta.db_table} WHERE id = %s", [tx.id])
    found = orphans()
    assert found["output.transaction"] == m.TxOutput.objects.filter(transaction_id=tx.id).count()
    assert found["output.transaction"] > 0
