"""Users and interactions for benchmark tenants, with taste structure, loaded by COPY.

Each item belongs to a product centre (see `_bench_data.item_plan`). Each user has three
favourite centres drawn with a popularity skew; 75% of their events go to items of those
centres, the rest to items drawn from a Zipf-like global popularity. Event types: 80% view, 10%
click, 5% cart, 5% purchase; timestamps over the last 60 days, denser recently.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import numpy as np
import numpy.typing as npt
from _bench_data import Log, _log, reset_trained
from django.db import connection, transaction

from tenants.models import Tenant

FAVOURITES = 3
IN_TASTE_SHARE = 0.75
SPAN_DAYS = 60.0
TYPES = np.array(["view", "click", "cart", "purchase"])
TYPE_SHARES = np.array([0.80, 0.10, 0.05, 0.05])


def _counts(tenant: Tenant) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM recommender_enduser WHERE tenant_id = %(t)s),"
            " (SELECT count(*) FROM recommender_interaction WHERE tenant_id = %(t)s)",
            {"t": tenant.pk},
        )
        users, events = cursor.fetchone()
    return int(users), int(events)


def reset_events(tenant: Tenant) -> None:
    """Remove the tenant's events, users, trained versions and served lists (set-based SQL)."""
    reset_trained(tenant)
    with connection.cursor() as cursor:
        for table in ("recommender_interaction", "recommender_enduser"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])


def plan_events(
    *,
    item_pks: npt.NDArray[np.int64],
    assignment: npt.NDArray[np.int64],
    users: int,
    interactions: int,
    seed: int,
) -> dict[str, Any]:
    """Arrays of (user index, item pk, type, age in days) with the structure described above."""
    rng = np.random.default_rng(seed)
    centres = int(assignment.max()) + 1
    by_centre = np.argsort(assignment, kind="stable")
    starts = np.searchsorted(assignment[by_centre], np.arange(centres))
    sizes = np.bincount(assignment, minlength=centres)
    centre_weight = 1.0 / np.arange(1, centres + 1) ** 0.7
    centre_weight = rng.permutation(centre_weight / centre_weight.sum())
    favourites = rng.choice(centres, size=(users, FAVOURITES), p=centre_weight)
    event_users = rng.integers(0, users, interactions)
    in_taste = rng.random(interactions) < IN_TASTE_SHARE
    chosen_centre = favourites[event_users, rng.integers(0, FAVOURITES, interactions)]
    offset = (rng.random(interactions) * np.maximum(sizes[chosen_centre], 1)).astype(np.int64)
    taste_items = by_centre[np.minimum(starts[chosen_centre] + offset, len(assignment) - 1)]
    item_weight = 1.0 / np.arange(1, len(item_pks) + 1) ** 0.9
    item_weight = rng.permutation(item_weight / item_weight.sum())
    global_items = rng.choice(len(item_pks), size=interactions, p=item_weight)
    items = np.where(in_taste, taste_items, global_items)
    ages = SPAN_DAYS * rng.random(interactions) ** 1.5
    kinds = rng.choice(len(TYPES), size=interactions, p=TYPE_SHARES)
    return {"users": event_users, "items": item_pks[items], "kinds": kinds, "ages": ages}


def load_events(
    tenant: Tenant,
    *,
    item_pks: npt.NDArray[np.int64],
    assignment: npt.NDArray[np.int64],
    users: int,
    interactions: int,
    seed: int,
    reuse: bool,
    log: Log = _log,
) -> dict[str, Any]:
    """Users `user-000000`... and their interactions; kept when already loaded (`reuse`)."""
    if reuse and _counts(tenant) == (users, interactions):
        log(f"{tenant.slug}: reusing {users:,} users and {interactions:,} interactions")
        return {"events_load": "reused"}
    started = time.perf_counter()
    reset_events(tenant)
    plan = plan_events(
        item_pks=item_pks, assignment=assignment, users=users, interactions=interactions, seed=seed
    )
    now = datetime.datetime.now(datetime.UTC)
    connection.ensure_connection()
    raw = connection.connection
    with transaction.atomic():
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY recommender_enduser (tenant_id, external_id, attributes, profile_text,"
                " created_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            for n in range(users):
                copy.write_row((tenant.pk, f"user-{n:06d}", "{}", "", now, now))
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM recommender_enduser WHERE tenant_id = %s ORDER BY external_id",
                [tenant.pk],
            )
            user_pks = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
        stamps = [now - datetime.timedelta(days=float(age)) for age in plan["ages"]]
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY recommender_interaction (tenant_id, user_id, item_id, type, value,"
                " timestamp, received_at) FROM STDIN"
            ) as copy,
        ):
            for user, item, kind, stamp in zip(
                user_pks[plan["users"]].tolist(),
                plan["items"].tolist(),
                TYPES[plan["kinds"]].tolist(),
                stamps,
                strict=True,
            ):
                copy.write_row((tenant.pk, user, item, kind, 1.0, stamp, stamp))
    seconds = round(time.perf_counter() - started, 1)
    log(f"{tenant.slug}: {users:,} users and {interactions:,} interactions copied in {seconds} s")
    return {"events_load_s": seconds}
