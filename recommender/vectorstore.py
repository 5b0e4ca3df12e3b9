"""Every SQL statement that touches pgvector: per-space index DDL, vector upserts, neighbours,
and the vector subqueries that other stores' statements embed (`recommender.stores.user_reads`).

Raw SQL bypasses the tenant-scoped managers, so every function takes the EmbeddingSpace and
repeats its `space_id` predicate. The space id and dimension are written into the SQL as integer
literals (never user input): the planner matches a partial index only against a literal
predicate, and the cast to `vector(dim)` must equal the indexed expression.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


ITEM_TABLE = "recommender_itemvector"
USER_TABLE = "recommender_uservector"
# Memory for one HNSW build: a graph that does not fit is built on disk, many times slower (100,000
# CF factors of 65 dimensions need ~100 MB). Set for the building session only.
INDEX_BUILD_WORK_MEM = "512MB"


def partition_name(table: str, space: EmbeddingSpace) -> str:
    """The space's own partition of `table` (LIST partitions on space_id, migration 0012)."""
    space_id, _ = _literals(space)
    return f"{table}_p{space_id}"


def _ops(space: EmbeddingSpace) -> str:
    return "vector_ip_ops" if _is_ip(space) else "vector_cosine_ops"


def _index_sql(space: EmbeddingSpace, *, concurrently: bool) -> str:
    _, dim = _literals(space)
    how = "CONCURRENTLY " if concurrently else ""
    # No WHERE: the partition holds the space's rows only.
    return (
        f"CREATE INDEX {how}IF NOT EXISTS {space.index_name}"
        f" ON {partition_name(ITEM_TABLE, space)}"
        f" USING hnsw ({_expr(dim)} {_ops(space)})"
        f" WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
    )


def _attached(cursor: Any, partition: str) -> bool | None:
    """None: no such table; False: a table of its own (or detach pending); True: attached."""
    cursor.execute(
        "SELECT i.inhdetachpending FROM pg_class c"
        " LEFT JOIN pg_inherits i ON i.inhrelid = c.oid"
        " WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
        [partition],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return row[0] is False


def _create_detached(cursor: Any, table: str, space: EmbeddingSpace) -> str:
    """The partition as a table of its own, not yet attached: its creation locks nothing that
    another space's statements use. Its CHECK lets ATTACH skip the scan that proves its rows
    belong; LIKE ... INCLUDING INDEXES gives it the parent's unique indexes, which ATTACH then
    adopts instead of building them."""
    space_id, _ = _literals(space)
    partition = partition_name(table, space)
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {partition}"
        f" (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES,"
        f" CONSTRAINT {partition}_space CHECK (space_id = {space_id}))"
    )
    return partition


def _attach(cursor: Any, table: str, space: EmbeddingSpace) -> None:
    """Attach the space's partition: SHARE UPDATE EXCLUSIVE on the parent, which reads and
    writes of other spaces do not conflict with."""
    space_id, _ = _literals(space)
    partition = partition_name(table, space)
    if _attached(cursor, partition):
        return
    cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {partition} FOR VALUES IN ({space_id})")


# The first key of the session advisory lock that serialises one space's partition DDL (two
# encode jobs of a tenant may create the same space's partitions; two cleanups drop them). The
# keys of `tenants.locks` are small purpose numbers: no collision.
SPACE_DDL_LOCK = 1000
# Second keys of the per-table detach locks (`_detach_concurrently`): negative, as space ids are
# positive.
TABLE_DETACH_LOCKS = {ITEM_TABLE: -1, USER_TABLE: -2}


@contextmanager
def _space_ddl(space: EmbeddingSpace) -> Iterator[Any]:
    space_id, _ = _literals(space)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [SPACE_DDL_LOCK, space_id])
        try:
            yield cursor
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SPACE_DDL_LOCK, space_id])


def space_create(space: EmbeddingSpace, *, attach: bool = True) -> None:
    """Create the space's partitions of the item and user vector tables, with the (empty) HNSW
    index on its item partition, and attach them (idempotent).

    `attach=False` leaves the item partition a table of its own, to be filled through
    `upsert_item_vectors` and indexed and attached by `space_index` (a bulk build on a table
    no one else reads, instead of growing the graph row by row)."""
    with _space_ddl(space) as cursor:
        for table in (ITEM_TABLE, USER_TABLE):
            _create_detached(cursor, table, space)
        if attach and not _attached(cursor, partition_name(ITEM_TABLE, space)):
            cursor.execute(_index_sql(space, concurrently=False))
            _attach(cursor, ITEM_TABLE, space)
        _attach(cursor, USER_TABLE, space)


def space_index(space: EmbeddingSpace) -> None:
    """Give the space's filled item partition its HNSW index, refresh its statistics and attach
    it (idempotent).

    Detached, it is indexed with a plain CREATE INDEX: no other session can see the table.
    Attached and without an index (a space of an older release), CREATE INDEX CONCURRENTLY,
    outside any transaction; inside one (the tests' transactions) a plain one, whose SHARE lock
    is on this space's partition only."""
    partition = partition_name(ITEM_TABLE, space)
    with _space_ddl(space) as cursor:
        state = _attached(cursor, partition)
        if state and index_state(space)["valid"]:
            return
        if state is None:
            _create_detached(cursor, ITEM_TABLE, space)
        concurrently = bool(state) and not connection.in_atomic_block
        _drop_invalid_index(cursor, space, concurrently=concurrently)
        cursor.execute("SHOW maintenance_work_mem")
        work_mem = cursor.fetchone()[0]
        cursor.execute(f"SET maintenance_work_mem = '{INDEX_BUILD_WORK_MEM}'")
        try:
            cursor.execute(_index_sql(space, concurrently=concurrently))
        finally:
            cursor.execute(f"SET maintenance_work_mem = '{work_mem}'")
        cursor.execute(f"ANALYZE {partition}")
        _attach(cursor, ITEM_TABLE, space)


def _drop_invalid_index(cursor: Any, space: EmbeddingSpace, *, concurrently: bool) -> None:
    """A failed CREATE INDEX CONCURRENTLY leaves an invalid index that IF NOT EXISTS would keep."""
    state = index_state(space)
    if state["exists"] and not state["valid"]:
        how = "CONCURRENTLY " if concurrently else ""
        cursor.execute(f"DROP INDEX {how}IF EXISTS {space.index_name}")


def ensure_space_index(space: EmbeddingSpace) -> None:
    """The space's partitions exist and are attached, its item partition has its HNSW index
    (cosine, or inner product for CF factors)."""
    space_create(space, attach=False)
    space_index(space)


def drop_space(space: EmbeddingSpace) -> None:
    """Drop a retired space's partitions (its index and vectors go with them).

    Outside a transaction, as services run it (after their commit): DETACH PARTITION
    CONCURRENTLY, which waits for the queries that may still read the partition instead of
    blocking the parent, then DROP TABLE, which locks only the detached table. Inside a
    transaction (tests, the benchmarks' resets) the partition is dropped in place, which takes
    the parent's ACCESS EXCLUSIVE lock until commit: services never do that."""
    with _space_ddl(space) as cursor:
        for table in (ITEM_TABLE, USER_TABLE):
            partition = partition_name(table, space)
            state = _attached(cursor, partition)
            if state is None:
                continue
            if not connection.in_atomic_block:
                _detach_concurrently(cursor, table, partition)
            cursor.execute(f"DROP TABLE IF EXISTS {partition}")


def _detach_concurrently(cursor: Any, table: str, partition: str) -> None:
    """PostgreSQL refuses a concurrent detach while any partition of the same table is pending
    detach, so detaches of one table take turns (a session lock per table; the wait is another
    space's cleanup, after its commit, never a query). A partition left pending by an
    interrupted detach is finalised first: under the lock, no one else is detaching it."""
    key = [SPACE_DDL_LOCK, TABLE_DETACH_LOCKS[table]]
    cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
    try:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass AND i.inhdetachpending",
            [table],
        )
        for (pending,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {pending} FINALIZE")
        if _attached(cursor, partition):
            cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {partition} CONCURRENTLY")
    finally:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


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


def item_vector_state(space: EmbeddingSpace, item_id: int) -> str:
    """Whether the item has a vector in the space: "current", "stale" (encoded from older text;
    content spaces only), or "missing". Collaborative vectors carry no text hash: "current"."""
    text_hash = _item_text_hash_sql(space)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT v.content_hash = {text_hash} FROM recommender_itemvector v"  # noqa: S608
            " JOIN recommender_item i ON i.id = v.item_id"
            " WHERE v.space_id = %s AND v.item_id = %s AND i.tenant_id = %s",
            [space.pk, item_id, space.tenant_id],
        )
        row = cursor.fetchone()
    if row is None:
        return "missing"
    if row[0] or space.purpose != EmbeddingSpace.Purpose.CONTENT:
        return "current"
    return "stale"


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
    # Into the space's partition itself: it may not be attached yet (`space_create`).
    with _cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {partition_name(table, space)}"  # noqa: S608
            f" (space_id, {key}, embedding, content_hash, updated_at)"
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
    _upsert(ITEM_TABLE, "item_id", space, item_ids, hashes, vectors)


def upsert_user_vectors(
    space: EmbeddingSpace,
    user_ids: Sequence[int],
    hashes: Sequence[str],
    vectors: npt.NDArray[np.float32],
) -> None:
    _upsert(USER_TABLE, "user_id", space, user_ids, hashes, vectors)


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
