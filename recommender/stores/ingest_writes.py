"""SQL of the bulk writes: items, users and interactions stored with one set-based statement per
table (unnest of arrays, never a statement per row), and the external-id lookups around them.

Raw SQL bypasses the tenant-scoped managers: every function takes the tenant id and writes or
matches it on every row. Rows come in as whatever has the fields (the ingest service's parsed
rows); only their values reach the database, as arrays of parameters.
"""

import datetime
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from django.db import connection


class ItemValues(Protocol):
    """What an item row brings: the fields of `recommender_item` a batch writes."""

    @property
    def external_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def attributes(self) -> dict[str, Any]: ...
    @property
    def available(self) -> bool: ...
    @property
    def content_hash(self) -> str: ...


class UserValues(Protocol):
    @property
    def external_id(self) -> str: ...
    @property
    def attributes(self) -> dict[str, Any]: ...
    @property
    def profile_text(self) -> str: ...


class InteractionValues(Protocol):
    """An event as the batch names it: user and item by external id."""

    @property
    def user(self) -> str: ...
    @property
    def item(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def timestamp(self) -> datetime.datetime: ...
    @property
    def event_id(self) -> str | None: ...
    @property
    def recommendation_id(self) -> str | None: ...


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


def _ids_by_external(table: str, tenant_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    if not external_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_IDS_BY_EXTERNAL.format(table=table), [tenant_id, list(external_ids)])
        return dict(cursor.fetchall())


def item_ids_by_external_id(*, tenant_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    """{external_id: pk} of the tenant's items among `external_ids` (unknown ones are absent)."""
    return _ids_by_external("recommender_item", tenant_id, external_ids)


def user_ids_by_external_id(*, tenant_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    return _ids_by_external("recommender_enduser", tenant_id, external_ids)


def _count_inserted(cursor: Any) -> int:
    return sum(1 for (inserted,) in cursor.fetchall() if inserted)


def items_upsert(*, tenant_id: int, rows: Sequence[ItemValues], now: datetime.datetime) -> int:
    """Insert or update the rows by external id; returns how many were new."""
    with connection.cursor() as cursor:
        cursor.execute(
            _ITEM_UPSERT,
            {
                "tenant": tenant_id,
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
        return _count_inserted(cursor)


def users_upsert(*, tenant_id: int, rows: Sequence[UserValues], now: datetime.datetime) -> int:
    """Insert or update the rows by external id; returns how many were new."""
    with connection.cursor() as cursor:
        cursor.execute(
            _USER_UPSERT,
            {
                "tenant": tenant_id,
                "now": now,
                "external_id": [r.external_id for r in rows],
                "attributes": [json.dumps(r.attributes) for r in rows],
                "profile_text": [r.profile_text for r in rows],
            },
        )
        return _count_inserted(cursor)


def users_ensure(*, tenant_id: int, external_ids: Sequence[str], now: datetime.datetime) -> int:
    """Create the users among `external_ids` that do not exist yet, in the order given (the
    order the unique index's locks are taken in); returns how many were made."""
    with connection.cursor() as cursor:
        cursor.execute(
            _USER_ENSURE, {"tenant": tenant_id, "now": now, "external_id": list(external_ids)}
        )
        return int(cursor.rowcount)


def interactions_insert(
    *,
    tenant_id: int,
    rows: Sequence[InteractionValues],
    user_ids: Mapping[str, int],
    item_ids: Mapping[str, int],
    now: datetime.datetime,
) -> int:
    """Insert the events (users and items resolved through the id maps); an event_id the tenant
    has stored already is skipped. Returns how many were stored."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INTERACTION_INSERT,
            {
                "tenant": tenant_id,
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
        return int(cursor.rowcount)
