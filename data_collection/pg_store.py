"""PostgreSQL side of ``storage.store_batch``: pick the direct or the merge path for a batch.

Both run inside the caller's ``transaction.atomic``, so a failure anywhere leaves the database
as it was; their staging tables are temporary and ``ON COMMIT DROP``.

A batch is first COPied straight into the tables (``pg_direct``), as if none of its
transactions were stored: then none of their outputs, inputs or transfers can be either (each
belongs to its transaction and is deleted with it). If one is stored (a re-import, overlapping
collection runs, an importer running concurrently), the COPY fails on the unique key,
``storage`` rolls the batch back and stores it again merged on the natural keys (``pg_merge``).
Asking first would cost an index probe per transaction of every fresh batch.

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


def store_prepared(prep: Prepared, *, merge: bool = False) -> dict[str, int]:
    """Store a prepared batch: straight (``IntegrityError`` if a transaction is stored), or
    with ``merge``, merged on the natural keys.

    Returns row counts per table (``tx``, ``output``, ``input``, ``transfer``, ``block``,
    ``asset``, ``address``) and ``linked``, the inputs linked to the outputs they spend.
    """
    chain = prep.batch.chain.value
    with connection.cursor() as c:
        c.execute(pm.SETTINGS)
        direct = prep.txs and not merge
        c.execute(pm.DIRECT_DDL if direct else pm.DDL)
        counts = write(c, prep) if direct else None
        if counts is None:
            if direct:
                c.execute(pm.DDL)
            staged = stage_text(prep.batch)
            counts = {**staged.rows, "linked": pm.merge_transactions(c, staged, chain)}
            pm.merge_side_tables(c, staged, chain)
    return counts
