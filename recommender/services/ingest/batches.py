"""Bulk writes of items, users and interactions: validated whole, then stored whole.

One set-based statement per table (unnest of arrays, in `recommender.stores.ingest_writes`)
instead of a statement per row; this is what lets the batch API and the file import approach the
speed of COPY.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recommender.services.config import interaction_types
from recommender.services.encoding.queue import encoding_request
from recommender.services.ingest.rows import (
    InteractionRow,
    ItemRow,
    RowErrors,
    UserRow,
    interaction_parser,
    parse_item,
    parse_rows,
    parse_user,
)
from recommender.stores import ingest_writes
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

# A batch's rows are numbered from 1, as a file import numbers its data rows: the same fault
# gets the same row number whichever way it arrived.
API_FIRST_ROW = 1


def _reject(errors: RowErrors, noun: str) -> ApplicationError:
    rows = errors.rows_at_fault()
    shown = "" if errors.total <= len(errors.items) else f" (first {len(errors.items)} shown)"
    return ApplicationError(
        "validation_error",
        f"{rows} row{'s' if rows != 1 else ''} {'are' if rows != 1 else 'is'} invalid; "
        f"no {noun} were stored{shown}.",
        details=sorted(errors.items, key=lambda e: e["row"]),
    )


def check_batch_shape(payload: Any, key: str) -> list[Any]:
    """The body must be {key: [rows...]} with 1..RECSYS_MAX_BATCH_ROWS rows."""
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        raise ApplicationError(
            "validation_error",
            f"The body must be a JSON object with a list under '{key}'.",
            details=[{"field": key, "message": "expected a list of objects"}],
        )
    unknown = sorted(set(payload) - {key})
    if unknown:
        raise ApplicationError(
            "validation_error",
            f"Unknown top-level field '{unknown[0]}'.",
            details=[{"field": unknown[0], "message": "unknown field"}],
        )
    rows: list[Any] = payload[key]
    if not rows:
        raise ApplicationError("validation_error", f"'{key}' is empty.")
    limit = settings.RECSYS_MAX_BATCH_ROWS
    if len(rows) > limit:
        raise ApplicationError(
            "batch_too_large",
            f"A batch holds at most {limit} rows; this one has {len(rows)}. Split it.",
            http_status=413,
        )
    return rows


def validate_items(rows: list[Any], errors: RowErrors, *, first_row: int = 0) -> list[ItemRow]:
    parsed, _ = parse_rows(
        rows,
        parse_item,
        errors,
        unique_key=lambda r: r.external_id,
        unique_field="id",
        first_row=first_row,
    )
    return parsed


def validate_users(rows: list[Any], errors: RowErrors, *, first_row: int = 0) -> list[UserRow]:
    parsed, _ = parse_rows(
        rows,
        parse_user,
        errors,
        unique_key=lambda r: r.external_id,
        unique_field="id",
        first_row=first_row,
    )
    return parsed


def validate_interactions(
    tenant: Tenant,
    rows: list[Any],
    errors: RowErrors,
    *,
    received_at: datetime.datetime,
    first_row: int = 0,
) -> tuple[list[InteractionRow], dict[str, int]]:
    """Parse rows and resolve item ids; unknown items are faults of their rows.

    Returns the parsed rows and the item id map {external_id: pk} of the items they name.
    """
    parsed, indexes = parse_rows(
        rows,
        interaction_parser(interaction_types(tenant), received_at),
        errors,
        unique_key=lambda r: r.event_id,
        unique_field="event_id",
        first_row=first_row,
    )
    return parsed, resolve_interaction_items(tenant, parsed, indexes, errors)


def write_items(tenant: Tenant, rows: list[ItemRow]) -> dict[str, int]:
    created = ingest_writes.items_upsert(tenant_id=tenant.pk, rows=rows, now=timezone.now())
    encoding_request(tenant=tenant)  # new or changed text needs vectors (debounced)
    return {"created": created, "updated": len(rows) - created}


def write_users(tenant: Tenant, rows: list[UserRow]) -> dict[str, int]:
    created = ingest_writes.users_upsert(tenant_id=tenant.pk, rows=rows, now=timezone.now())
    encoding_request(tenant=tenant)  # profile texts are encoded too
    return {"created": created, "updated": len(rows) - created}


def write_interactions(
    tenant: Tenant, rows: list[InteractionRow], item_ids: dict[str, int]
) -> dict[str, int]:
    """Store rows (users created as needed); a re-sent event_id is counted as a duplicate."""
    now = timezone.now()
    user_external = list({row.user for row in rows})
    users_created = ingest_writes.users_ensure(
        tenant_id=tenant.pk, external_ids=user_external, now=now
    )
    user_ids = ingest_writes.user_ids_by_external_id(
        tenant_id=tenant.pk, external_ids=user_external
    )
    stored = ingest_writes.interactions_insert(
        tenant_id=tenant.pk, rows=rows, user_ids=user_ids, item_ids=item_ids, now=now
    )
    return {"stored": stored, "duplicates": len(rows) - stored, "users_created": users_created}


@transaction.atomic
def items_upsert_batch(*, tenant: Tenant, payload: Any) -> dict[str, int]:
    """Validate `{"items": [...]}` whole; upsert it whole or raise with every faulty row."""
    rows = check_batch_shape(payload, "items")
    errors = RowErrors()
    parsed = validate_items(rows, errors, first_row=API_FIRST_ROW)
    if errors:
        raise _reject(errors, "items")
    return write_items(tenant, parsed)


@transaction.atomic
def users_upsert_batch(*, tenant: Tenant, payload: Any) -> dict[str, int]:
    rows = check_batch_shape(payload, "users")
    errors = RowErrors()
    parsed = validate_users(rows, errors, first_row=API_FIRST_ROW)
    if errors:
        raise _reject(errors, "users")
    return write_users(tenant, parsed)


@transaction.atomic
def interactions_store_batch(*, tenant: Tenant, payload: Any) -> dict[str, int]:
    """Validate `{"interactions": [...]}`; unknown users are created, unknown items are faults."""
    rows = check_batch_shape(payload, "interactions")
    errors = RowErrors()
    parsed, item_ids = validate_interactions(
        tenant, rows, errors, received_at=timezone.now(), first_row=API_FIRST_ROW
    )
    if errors:
        raise _reject(errors, "interactions")
    return write_interactions(tenant, parsed, item_ids)


def resolve_interaction_items(
    tenant: Tenant, rows: list[InteractionRow], indexes: list[int], errors: RowErrors
) -> dict[str, int]:
    """The item id map {external_id: pk} of the items `rows` name; unknown items are faults.

    `indexes` are the rows' indexes as `parse_rows` returned them. For callers that parse rows
    themselves (the file import, where a repeated event_id is a duplicate, not a fault).
    """
    named = list({row.item for row in rows})
    item_ids = ingest_writes.item_ids_by_external_id(tenant_id=tenant.pk, external_ids=named)
    if len(item_ids) < len(named):
        for index, row in zip(indexes, rows, strict=True):
            if row.item not in item_ids:
                errors.add(index, "item", f"unknown item {row.item!r}")
    return item_ids


def users_ensure(tenant: Tenant, external_ids: Iterable[str]) -> int:
    """Create the users among `external_ids` that do not exist yet; return how many were made.

    In sorted order, so that concurrent callers take the unique index's locks in one order and
    cannot deadlock on each other. The file import calls it before writing a chunk's events.
    """
    ids = sorted(set(external_ids))
    if not ids:
        return 0
    return ingest_writes.users_ensure(tenant_id=tenant.pk, external_ids=ids, now=timezone.now())
