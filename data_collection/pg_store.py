"""PostgreSQL side of ``storage.store_batch``: pick the direct or the merge path for a batch.

Both run inside the caller's ``transaction.atomic``, so a failure anywhere leaves the database
as it was; their staging tables are temporary and ``ON COMMIT DROP``.

One probe of the batch's transaction hashes decides. If none is stored, none of their outputs,
inputs or transfers can be (each belongs to its transaction and is deleted with it), and the
batch is COPied straight into the tables (``pg_direct``). Otherwise it is merged on the natural
keys (``pg_merge``). An importer running concurrently may store some of the same transactions
between the probe and the COPY; the COPY then fails on a unique key and ``storage`` stores the
batch again in merge mode.

Session settings, for the import transaction only (``SET LOCAL``):

* ``synchronous_commit = off``: a commit does not wait for its WAL flush. A crash may lose the
  last committed batches but never half of one (atomicity holds, nothing is corrupted), and
  re-running the import restores them, since re-import is idempotent.
* ``jit = off``: compiling these one-off statements cost more than it saved.
* ``work_mem = 64MB``: the batch's hash joins stay in memory.
"""

from __future__ import annotations

from django.db import connection

from data_collection import pg_merge as pm
from data_collection.pg_direct import Prepared, write
from data_collection.pg_rows import stage_text


def store_prepared(prep: Prepared, *, merge: bool | None = None) -> dict[str, int]:
    """Store a prepared batch; ``merge`` None picks the path, True forces merging.

    Returns row counts per table (``tx``, ``output``, ``input``, ``transfer``, ``block``,
    ``asset``, ``address``) and ``linked``, the inputs linked to the outputs they spend.
    """
    chain = prep.batch.chain.value
    with connection.cursor() as c:
        c.execute(pm.SETTINGS)
        c.execute(pm.DDL)
        if prep.txs and not merge:
            merge = pm.any_stored(c, prep.txs, chain)
        counts = None if merge or not prep.txs else write(c, prep)
        if counts is None:
            staged = stage_text(prep.batch)
            counts = {**staged.rows, "linked": pm.merge_transactions(c, staged, chain)}
            pm.merge_side_tables(c, staged, chain)
    return counts
