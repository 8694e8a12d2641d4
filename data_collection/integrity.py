"""Referential integrity of the stored chain data, checked set-wise.

The child tables carry no database foreign-key constraints (see ``models``): the loader keeps
every output, input and transfer with its transaction by construction. This is the check that
it did, one anti-join per relation, for tests, after manual repairs, or before trusting a
database restored from elsewhere.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from data_collection import models as m


def orphans() -> dict[str, int]:
    """Rows whose referenced row is missing, per relation (all zero in a sound store)."""
    tx = m.BlockchainTransaction.objects.filter(pk=OuterRef("transaction_id"))
    out = m.TxOutput.objects.filter(pk=OuterRef("spent_output_id"))
    return {
        "output.transaction": m.TxOutput.objects.exclude(Exists(tx)).count(),
        "input.transaction": m.TxInput.objects.exclude(Exists(tx)).count(),
        "transfer.transaction": m.Transfer.objects.exclude(Exists(tx)).count(),
        "input.spent_output": m.TxInput.objects.filter(spent_output_id__isnull=False)
        .exclude(Exists(out))
        .count(),
    }
