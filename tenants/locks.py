"""Per-tenant advisory locks, one per purpose, instead of locking the tenant's row.

`SELECT ... FOR UPDATE` on the tenant row made six unrelated writes (every item batch's encode
request, training's queue, version numbering and activation, configuration saves) wait for one
another, and joined them into deadlock cycles with whatever else each transaction held. A
transaction-scoped advisory lock on (purpose, tenant) serialises only the writers that need it
and is released at commit or rollback.
"""

from enum import IntEnum

from django.db import connection


class TenantLock(IntEnum):
    """What a lock serialises; the value is the lock's first key (stable: never renumber)."""

    ENCODE_REQUEST = 1  # one queued encode job per burst of batches
    TRAIN_REQUEST = 2  # one queued or running train job
    MODEL_VERSION_NUMBER = 3  # consecutive version numbers
    MODEL_ACTIVATION = 4  # one active model version
    CONFIG_VERSION = 5  # consecutive configuration versions, one active
    JOB_START = 6  # one queued or running job of a kind (kinds without a lock of their own)


def tenant_lock(tenant_id: int, purpose: TenantLock) -> None:
    """Hold `purpose`'s lock of the tenant until the current transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("tenant_lock needs a transaction: it is released at its end")
    with connection.cursor() as cursor:
        # The two-key form: (purpose, tenant id) never collides the way a hash could.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [int(purpose), int(tenant_id)])
