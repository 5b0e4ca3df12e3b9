"""Bulk writes of items, users and interactions: validated whole, then stored whole.

One set-based statement per table (unnest of arrays) instead of a statement per row; this is what
lets the batch API and the file import approach the speed of COPY.
"""

import datetime
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
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
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

_ITEM_UPSERT = """
INSERT INTO recommender_item (tenant_id, external_id, title, description, categories, attributes,
                              available, content_hash, created_at, updated_at)
SELECT %(tenant)s, u.external_id, u.title, u.description,
       ARRAY(SELECT jsonb_array_elements_text(u.categories::jsonb)), u.attributes::jsonb,
       u.available, u.content_hash, %(now)s, %(now)s
FROM unnest(%(external_id)s::text[], %(title)s::text[], %(description)s::text[],
            %(categories)s::text[], %(attributes)s::text[], %(available)s::bool[],
            %(content_hash)s::text[])
     AS u(external_id, title, description, categories, attributes, available, content_hash)
ON CONFLICT (tenant_id, external_id) DO UPDATE SET
    title = EXCLUDED.title, description = EXCLUDED.description,
    categories = EXCLUDED.categories, attributes = EXCLUDED.attributes,
    available = EXCLUDED.available, content_hash = EXCLUDED.content_hash,
    updated_at = EXCLUDED.updated_at
RETURNING (xmax = 0)
"""

_USER_UPSERT = """
INSERT INTO recommender_enduser (tenant_id, external_id, attributes, profile_text,
                                 created_at, updated_at)
SELECT %(tenant)s, u.external_id, u.attributes::jsonb, u.profile_text, %(now)s, %(now)s
FROM unnest(%(external_id)s::text[], %(attributes)s::text[], %(profile_text)s::text[])
     AS u(external_id, attributes, profile_text)
ON CONFLICT (tenant_id, external_id) DO UPDATE SET
    attributes = EXCLUDED.attributes, profile_text = EXCLUDED.profile_text,
    updated_at = EXCLUDED.updated_at
RETURNING (xmax = 0)
"""

_USER_ENSURE = """
INSERT INTO recommender_enduser (tenant_id, external_id, attributes, profile_text,
                                 created_at, updated_at)
SELECT %(tenant)s, e, '{}'::jsonb, '', %(now)s, %(now)s FROM unnest(%(external_id)s::text[]) AS e
ON CONFLICT (tenant_id, external_id) DO NOTHING
"""

_IDS_BY_EXTERNAL = """
SELECT external_id, id FROM {table} WHERE tenant_id = %s AND external_id = ANY(%s::text[])
"""

_INTERACTION_INSERT = """
INSERT INTO recommender_interaction (tenant_id, user_id, item_id, type, value, timestamp,
                                     event_id, recommendation_id, received_at)
SELECT %(tenant)s, u.user_id, u.item_id, u.type, u.value, u.ts, u.event_id, u.rec_id, %(now)s
FROM unnest(%(user_id)s::bigint[], %(item_id)s::bigint[], %(type)s::text[],
            %(value)s::float8[], %(ts)s::timestamptz[], %(event_id)s::text[], %(rec_id)s::text[])
     AS u(user_id, item_id, type, value, ts, event_id, rec_id)
ON CONFLICT (tenant_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
"""


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
    named = list({row.item for row in parsed})
    item_ids = _ids_by_external("recommender_item", tenant.pk, named)
    if len(item_ids) < len(named):
        for index, row in zip(indexes, parsed, strict=True):
            if row.item not in item_ids:
                errors.add(index, "item", f"unknown item {row.item!r}")
    return parsed, item_ids


def _ids_by_external(table: str, tenant_id: int, external_ids: list[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_IDS_BY_EXTERNAL.format(table=table), [tenant_id, external_ids])
        return dict(cursor.fetchall())


def _count_inserted(cursor: Any) -> int:
    return sum(1 for (inserted,) in cursor.fetchall() if inserted)


def write_items(tenant: Tenant, rows: list[ItemRow]) -> dict[str, int]:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _ITEM_UPSERT,
            {
                "tenant": tenant.pk,
                "now": now,
                "external_id": [r.external_id for r in rows],
                "title": [r.title for r in rows],
                "description": [r.description for r in rows],
                "categories": [json.dumps(r.categories) for r in rows],
                "attributes": [json.dumps(r.attributes) for r in rows],
                "available": [r.available for r in rows],
                "content_hash": [r.content_hash for r in rows],
            },
        )
        created = _count_inserted(cursor)
    encoding_request(tenant=tenant)  # new or changed text needs vectors (debounced)
    return {"created": created, "updated": len(rows) - created}


def write_users(tenant: Tenant, rows: list[UserRow]) -> dict[str, int]:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _USER_UPSERT,
            {
                "tenant": tenant.pk,
                "now": now,
                "external_id": [r.external_id for r in rows],
                "attributes": [json.dumps(r.attributes) for r in rows],
                "profile_text": [r.profile_text for r in rows],
            },
        )
        created = _count_inserted(cursor)
    encoding_request(tenant=tenant)  # profile texts are encoded too
    return {"created": created, "updated": len(rows) - created}


def write_interactions(
    tenant: Tenant, rows: list[InteractionRow], item_ids: dict[str, int]
) -> dict[str, int]:
    """Store rows (users created as needed); a re-sent event_id is counted as a duplicate."""
    now = timezone.now()
    user_external = list({row.user for row in rows})
    with connection.cursor() as cursor:
        cursor.execute(
            _USER_ENSURE, {"tenant": tenant.pk, "now": now, "external_id": user_external}
        )
        users_created = cursor.rowcount
    user_ids = _ids_by_external("recommender_enduser", tenant.pk, user_external)
    with connection.cursor() as cursor:
        cursor.execute(
            _INTERACTION_INSERT,
            {
                "tenant": tenant.pk,
                "now": now,
                "user_id": [user_ids[r.user] for r in rows],
                "item_id": [item_ids[r.item] for r in rows],
                "type": [r.type for r in rows],
                "value": [r.value for r in rows],
                "ts": [r.timestamp for r in rows],
                "event_id": [r.event_id for r in rows],
                "rec_id": [r.recommendation_id for r in rows],
            },
        )
        stored = cursor.rowcount
    return {"stored": stored, "duplicates": len(rows) - stored, "users_created": users_created}


@transaction.atomic
def items_upsert_batch(*, tenant: Tenant, payload: Any) -> dict[str, int]:
    """Validate `{"items": [...]}` whole; upsert it whole or raise with every faulty row."""
    rows = check_batch_shape(payload, "items")
    errors = RowErrors()
    parsed = validate_items(rows, errors)
    if errors:
        raise _reject(errors, "items")
    return write_items(tenant, parsed)


@transaction.atomic
def users_upsert_batch(*, tenant: Tenant, payload: Any) -> dict[str, int]:
    rows = check_batch_shape(payload, "users")
    errors = RowErrors()
    parsed = validate_users(rows, errors)
    if errors:
        raise _reject(errors, "users")
    return write_users(tenant, parsed)


@transaction.atomic
def interactions_store_batch(*, tenant: Tenant, payload: Any) -> dict[str, int]:
    """Validate `{"interactions": [...]}`; unknown users are created, unknown items are faults."""
    rows = check_batch_shape(payload, "interactions")
    errors = RowErrors()
    parsed, item_ids = validate_interactions(tenant, rows, errors, received_at=timezone.now())
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
    item_ids = _ids_by_external("recommender_item", tenant.pk, named)
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
    with connection.cursor() as cursor:
        cursor.execute(
            _USER_ENSURE, {"tenant": tenant.pk, "now": timezone.now(), "external_id": ids}
        )
        return cursor.rowcount
