"""Every SQL statement that touches pgvector: per-space index DDL, vector upserts, neighbours,
and the vector subqueries that other stores' statements embed (`recommender.stores.user_reads`).

Raw SQL bypasses the tenant-scoped managers, so every function takes the EmbeddingSpace and
repeats its `space_id` predicate. The space id and dimension are written into the SQL as integer
literals (never user input): the planner matches a partial index only against a literal
predicate, and the cast to `vector(dim)` must equal the indexed expression.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from pgvector import Vector
from pgvector.psycopg import register_vector

from recommender.db_values import json_object
from recommender.engine.filters import ItemFilter
from recommender.models.vectors import EmbeddingSpace
from recommender.stores.filter_sql import item_filter_sql

HNSW_M = 16
# 256, not pgvector's 64: at 100,000 items 64 left 0.4-1.6% of queries missing their whole
# neighbourhood (recall@10 0.982-0.994); 256 gave 1.000 for a 2.4x longer build
# (benchmarks/retrieval_latency.py; README).
HNSW_EF_CONSTRUCTION = 256
EF_SEARCH_MIN = 100


@dataclass(frozen=True)
class Neighbour:
    item_id: int
    similarity: float


def _cursor() -> Any:
    """A cursor whose connection knows the `vector` type (registered once per connection)."""
    connection.ensure_connection()
    raw = connection.connection
    if not getattr(raw, "_recsys_vector_registered", False):
        register_vector(raw)
        raw._recsys_vector_registered = True
    return connection.cursor()


# Vectors are read as vector_send(embedding), pgvector's binary form (2-byte dimension, 2 unused
# bytes, big-endian float4s): parsing the text form cost more than the query on the serving path.
def _from_sent(data: bytes | memoryview) -> npt.NDArray[np.float32]:
    return np.frombuffer(data, dtype=">f4", offset=4).astype(np.float32)


def _literals(space: EmbeddingSpace) -> tuple[int, int]:
    # int() twice over: these go into SQL text, so they must be integers and nothing else.
    return int(space.pk), int(space.dimension)


def _expr(dim: int) -> str:
    return f"(embedding::vector({dim}))"


def _is_ip(space: EmbeddingSpace) -> bool:
    return space.metric == EmbeddingSpace.Metric.INNER_PRODUCT


def ensure_space_index(space: EmbeddingSpace) -> None:
    """Create the space's own HNSW index (cosine, or inner product for CF factors), restricted
    to its rows."""
    space_id, dim = _literals(space)
    ops = "vector_ip_ops" if _is_ip(space) else "vector_cosine_ops"
    with connection.cursor() as cursor:
        # PostgreSQL refuses CREATE INDEX on a table with pending (deferred) FK checks, which a
        # vector upsert earlier in the same transaction leaves behind: run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {space.index_name} ON recommender_itemvector "
            f"USING hnsw ({_expr(dim)} {ops}) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
            f"WHERE space_id = {space_id}"
        )


def drop_space(space: EmbeddingSpace) -> None:
    """Drop a retired space's index and vectors."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {space.index_name}")
        cursor.execute("DELETE FROM recommender_itemvector WHERE space_id = %s", [space.pk])
        cursor.execute("DELETE FROM recommender_uservector WHERE space_id = %s", [space.pk])


def index_state(space: EmbeddingSpace) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid, pg_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = %s",
            [space.index_name],
        )
        row = cursor.fetchone()
    if row is None:
        return {"exists": False, "valid": False, "size_bytes": 0}
    return {"exists": True, "valid": bool(row[0]), "size_bytes": int(row[1])}


def vector_counts(space: EmbeddingSpace) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM recommender_itemvector WHERE space_id = %s),"
            " (SELECT count(*) FROM recommender_uservector WHERE space_id = %s)",
            [space.pk, space.pk],
        )
        items, users = cursor.fetchone()
    return {"items": int(items), "users": int(users)}


def _item_text_hash_sql(space: EmbeddingSpace) -> str:
    """What an item's vector must have been encoded from, as SQL: the item's content hash (title,
    description, categories), plus its attributes when the space's item template names them (an
    attribute change then re-encodes the item; with other templates it costs nothing)."""
    if "attributes" in str(space.settings.get("item_template", "")):
        # One digest of both: the vector's hash column holds 64 characters.
        return "md5(i.content_hash || i.attributes::text)"
    return "i.content_hash"


def items_to_encode(
    space: EmbeddingSpace, *, after_id: int, limit: int
) -> list[tuple[int, str, dict[str, Any]]]:
    """Items of the space's tenant whose vector is missing or stale, in id order after `after_id`.

    Returns (item_id, the hash the vector is to carry, fields for the text template).
    """
    text_hash = _item_text_hash_sql(space)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.id, {text_hash}, i.external_id, i.title, i.description, i.categories,"  # noqa: S608
            " i.attributes FROM recommender_item i"
            " LEFT JOIN recommender_itemvector v ON v.item_id = i.id AND v.space_id = %s"
            " WHERE i.tenant_id = %s AND i.id > %s"
            f" AND (v.id IS NULL OR v.content_hash <> {text_hash})"
            " ORDER BY i.id LIMIT %s",
            [space.pk, space.tenant_id, after_id, limit],
        )
        rows = cursor.fetchall()
    return [
        (
            row[0],
            row[1],
            {
                "id": row[2],
                "title": row[3],
                "description": row[4],
                "categories": row[5],
                "attributes": json_object(row[6]),
            },
        )
        for row in rows
    ]


def count_items_to_encode(space: EmbeddingSpace) -> int:
    text_hash = _item_text_hash_sql(space)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM recommender_item i"  # noqa: S608
            " LEFT JOIN recommender_itemvector v ON v.item_id = i.id AND v.space_id = %s"
            f" WHERE i.tenant_id = %s AND (v.id IS NULL OR v.content_hash <> {text_hash})",
            [space.pk, space.tenant_id],
        )
        return int(cursor.fetchone()[0])


class UserText(NamedTuple):
    """A user as encoding sees them: the fields of the user text template and the content hash
    of their stored vector in the space (None: no vector)."""

    user_id: int
    external_id: str
    profile_text: str
    attributes: dict[str, Any]
    vector_hash: str | None


def users_to_encode(space: EmbeddingSpace, *, after_id: int, limit: int) -> list[UserText]:
    """Users of the space's tenant with a profile text or a vector in the space, in id order
    after `after_id`: those to encode, to re-encode, or (text gone) whose vector to delete."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.id, u.external_id, u.profile_text, u.attributes, v.content_hash"
            " FROM recommender_enduser u LEFT JOIN recommender_uservector v"
            " ON v.user_id = u.id AND v.space_id = %s"
            " WHERE u.tenant_id = %s AND u.id > %s AND (u.profile_text <> '' OR v.id IS NOT NULL)"
            " ORDER BY u.id LIMIT %s",
            [space.pk, space.tenant_id, after_id, limit],
        )
        rows = cursor.fetchall()
    return [
        UserText(user_id, external_id, profile_text, json_object(attributes), vector_hash)
        for user_id, external_id, profile_text, attributes, vector_hash in rows
    ]


def _upsert(
    table: str,
    key: str,
    space: EmbeddingSpace,
    ids: Sequence[int],
    hashes: Sequence[str],
    vectors: npt.NDArray[np.float32],
) -> None:
    if len(ids) == 0:
        return
    with _cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (space_id, {key}, embedding, content_hash, updated_at)"  # noqa: S608
            f" SELECT %s, u.id, u.embedding, u.hash, now()"
            f" FROM unnest(%s::bigint[], %s::vector[], %s::text[]) AS u(id, embedding, hash)"
            f" ON CONFLICT (space_id, {key}) DO UPDATE SET embedding = EXCLUDED.embedding,"
            f" content_hash = EXCLUDED.content_hash, updated_at = EXCLUDED.updated_at",
            [space.pk, list(ids), [Vector(v) for v in vectors], list(hashes)],
        )


def upsert_item_vectors(
    space: EmbeddingSpace,
    item_ids: Sequence[int],
    hashes: Sequence[str],
    vectors: npt.NDArray[np.float32],
) -> None:
    _upsert("recommender_itemvector", "item_id", space, item_ids, hashes, vectors)


def upsert_user_vectors(
    space: EmbeddingSpace,
    user_ids: Sequence[int],
    hashes: Sequence[str],
    vectors: npt.NDArray[np.float32],
) -> None:
    _upsert("recommender_uservector", "user_id", space, user_ids, hashes, vectors)


def delete_user_vectors(space: EmbeddingSpace, user_ids: Sequence[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM recommender_uservector"
            " WHERE space_id = %s AND user_id = ANY(%s::bigint[])",
            [space.pk, list(user_ids)],
        )


def item_vectors(
    space: EmbeddingSpace, item_ids: Sequence[int]
) -> dict[int, npt.NDArray[np.float32]]:
    if not item_ids:
        return {}
    with _cursor() as cursor:
        cursor.execute(
            "SELECT item_id, vector_send(embedding) FROM recommender_itemvector"
            " WHERE space_id = %s AND item_id = ANY(%s::bigint[])",
            [space.pk, list(item_ids)],
        )
        return {row[0]: _from_sent(row[1]) for row in cursor.fetchall()}


def all_item_vectors(space: EmbeddingSpace) -> list[tuple[int, npt.NDArray[np.float32]]]:
    """Every item vector of the space (training reads the whole space once)."""
    with _cursor() as cursor:
        cursor.execute(
            "SELECT item_id, vector_send(embedding) FROM recommender_itemvector"
            " WHERE space_id = %s",
            [space.pk],
        )
        return [(int(row[0]), _from_sent(row[1])) for row in cursor.fetchall()]


def _sent_vector_sql(table: str, key: str, space: EmbeddingSpace | None, id_sql: str) -> str:
    if space is None:
        return "NULL::bytea"
    space_id, _ = _literals(space)
    return (
        f"(SELECT vector_send(embedding) FROM {table}"  # noqa: S608
        f" WHERE space_id = {space_id} AND {key} = {id_sql})"
    )


def sent_item_vector_sql(space: EmbeddingSpace | None, item_id_sql: str) -> str:
    """A scalar subquery for a statement outside this module: the item's vector in `space` as
    `vector_send` bytes (NULL where it has none, and for a space of None). `item_id_sql` is the
    caller's SQL for the item id (a column or a parameter placeholder)."""
    return _sent_vector_sql("recommender_itemvector", "item_id", space, item_id_sql)


def sent_user_vector_sql(space: EmbeddingSpace | None, user_id_sql: str) -> str:
    """A scalar subquery: the user's vector in `space` (their text vector in a content space,
    their factor in a collaborative one) as `vector_send` bytes, or NULL; see
    `sent_item_vector_sql`."""
    return _sent_vector_sql("recommender_uservector", "user_id", space, user_id_sql)


def vector_from_sent(data: bytes | memoryview) -> npt.NDArray[np.float32]:
    """A vector read through `sent_item_vector_sql` or `sent_user_vector_sql`."""
    return _from_sent(data)


def _neighbour_sql(space: EmbeddingSpace, *, exact: bool, where: str = "TRUE") -> str:
    space_id, dim = _literals(space)
    operator, function = ("<#>", "inner_product") if _is_ip(space) else ("<=>", "cosine_distance")
    distance = f"{_expr(dim)} {operator} %(query)s::vector({dim})"
    if exact:
        # The function form of the operator never matches an index, so no planner setting is
        # needed (a SET LOCAL would outlive the savepoint and turn indexes off for the caller's
        # whole transaction). inner_product() is the dot product; `<#>` its negation.
        sign = "-" if _is_ip(space) else ""
        distance = f"{sign}{function}({_expr(dim)}, %(query)s::vector({dim}))"
    similarity = "-d" if _is_ip(space) else "1 - d"
    # Re-sort outside: relaxed iterative scans may return the k neighbours slightly out of order.
    return (
        f"SELECT item_id, {similarity} AS similarity FROM ("  # noqa: S608
        f" SELECT v.item_id, {distance} AS d FROM recommender_itemvector v"
        " JOIN recommender_item i ON i.id = v.item_id"
        f" WHERE v.space_id = {space_id}"
        " AND (NOT %(only_available)s OR i.available)"
        " AND NOT (v.item_id = ANY(%(exclude)s::bigint[]))"
        f" AND {where}"
        f" ORDER BY {distance if not exact else 'd'} LIMIT %(k)s"
        ") AS c ORDER BY d"
    )


def _params(
    query: npt.NDArray[np.float32], k: int, exclude_item_ids: Sequence[int], only_available: bool
) -> dict[str, Any]:
    return {
        "query": Vector(query),
        "k": k,
        "exclude": list(exclude_item_ids),
        "only_available": only_available,
    }


def _filtered_query(
    space: EmbeddingSpace,
    query: npt.NDArray[np.float32],
    *,
    k: int,
    exclude_item_ids: Sequence[int],
    only_available: bool,
    item_filter: ItemFilter | None,
    exact: bool,
) -> tuple[str, dict[str, Any]]:
    where, filter_params = item_filter_sql(item_filter)
    params = {**_params(query, k, exclude_item_ids, only_available), **filter_params}
    return _neighbour_sql(space, exact=exact, where=where), params


def _needs_wider_search(k: int) -> bool:
    # Sessions start with iterative scans on and ef_search = EF_SEARCH_MIN (settings.py).
    return 2 * int(k) > EF_SEARCH_MIN


def _set_index_scan(cursor: Any, k: int) -> None:
    """Inside a transaction: the session's settings, and a wider ef_search for a large k."""
    cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    cursor.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH_MIN, 2 * int(k))}")


def nearest_items(
    space: EmbeddingSpace,
    query: npt.NDArray[np.float32],
    *,
    k: int,
    exclude_item_ids: Sequence[int] = (),
    only_available: bool = True,
    item_filter: ItemFilter | None = None,
    exact: bool = False,
) -> list[Neighbour]:
    """The k items closest to `query` in the space (cosine; inner product for CF factors),
    through its HNSW index.

    Filters run inside the index scan; pgvector 0.8's iterative scan keeps scanning until k rows
    pass them, so a filter never shortens the list while enough items match. A narrow filter
    makes that scan long: `exact=True` ranks the filter's few items exactly instead.
    """
    if exact:
        return exact_nearest_items(
            space,
            query,
            k=k,
            exclude_item_ids=exclude_item_ids,
            only_available=only_available,
            item_filter=item_filter,
        )
    sql, params = _filtered_query(
        space,
        query,
        k=k,
        exclude_item_ids=exclude_item_ids,
        only_available=only_available,
        item_filter=item_filter,
        exact=False,
    )
    if not _needs_wider_search(k):
        with _cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    else:
        with transaction.atomic(), _cursor() as cursor:
            _set_index_scan(cursor, k)
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    return [Neighbour(int(item_id), float(sim)) for item_id, sim in rows]


def exact_nearest_items(
    space: EmbeddingSpace,
    query: npt.NDArray[np.float32],
    *,
    k: int,
    exclude_item_ids: Sequence[int] = (),
    only_available: bool = True,
    item_filter: ItemFilter | None = None,
) -> list[Neighbour]:
    """The same query by exhaustive scan (no index): the ground truth for recall."""
    sql, params = _filtered_query(
        space,
        query,
        k=k,
        exclude_item_ids=exclude_item_ids,
        only_available=only_available,
        item_filter=item_filter,
        exact=True,
    )
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [Neighbour(int(item_id), float(sim)) for item_id, sim in rows]


def explain_nearest(
    space: EmbeddingSpace,
    query: npt.NDArray[np.float32],
    *,
    k: int,
    exclude_item_ids: Sequence[int] = (),
    only_available: bool = True,
    item_filter: ItemFilter | None = None,
) -> str:
    """The query plan of `nearest_items` (tests prove the per-space index is used)."""
    sql, params = _filtered_query(
        space,
        query,
        k=k,
        exclude_item_ids=exclude_item_ids,
        only_available=only_available,
        item_filter=item_filter,
        exact=False,
    )
    with transaction.atomic(), _cursor() as cursor:
        _set_index_scan(cursor, k)
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())
