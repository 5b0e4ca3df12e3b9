"""SQL for the trained artifacts serving reads and writes: neighbour lists, users' top items,
rankings, newest items, and the one query that turns candidate ids into servable items under a
request's filters.

Raw SQL bypasses the tenant-scoped managers: every read takes the tenant id or a version id the
caller resolved inside the tenant's scope, and repeats it as a predicate. Vector SQL stays in
`recommender.vectorstore`; the filter's SQL comes from `recommender.stores.filter_sql`, which both
import so both compile it the same way.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from django.db import connection

from recommender.db_values import json_object
from recommender.engine.filters import ItemFilter
from recommender.stores.filter_sql import item_filter_sql

NEWEST_HALF_LIFE_DAYS = 30.0


@dataclass(frozen=True)
class ServableItem:
    """An item that may be served under the request's rules, with what rules and texts need."""

    id: int
    external_id: str
    title: str
    categories: tuple[str, ...]
    # The attributes column as read (jsonb text): parsed on first use, as only boosts read them.
    raw_attributes: Any = None

    @cached_property
    def attributes(self) -> dict[str, Any]:
        return json_object(self.raw_attributes)


# Binary COPY: the text form of 10,000,000 numbers took 40 s to write at 100,000 users, binary 10.
_LIST_ROW_TYPES = ("bigint", "varchar", "bigint", "bigint[]", "float8[]")


def _copy_lists(
    table: str,
    columns: str,
    version_id: int,
    source: str,
    owner_ids: npt.NDArray[np.int64],
    list_ids: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float32],
) -> int:
    written = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(list(_LIST_ROW_TYPES))
        for owner, ids, row_weights in zip(owner_ids, list_ids, weights, strict=True):
            keep = (ids >= 0) & (row_weights > 0)
            if not keep.any():
                continue
            copy.write_row(
                (
                    version_id,
                    source,
                    int(owner),
                    ids[keep].tolist(),
                    row_weights[keep].tolist(),
                )
            )
            written += 1
    return written


def store_neighbours(
    *,
    version_id: int,
    source: str,
    item_ids: npt.NDArray[np.int64],
    neighbour_ids: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float32],
) -> int:
    """Write one row per item: its neighbour ids and weights (rows of the 2-D arrays; a
    neighbour id of -1 or a weight <= 0 marks padding and is left out)."""
    return _copy_lists(
        "recommender_itemneighbours",
        "version_id, source, item_id, neighbour_ids, weights",
        version_id,
        source,
        item_ids,
        neighbour_ids,
        weights,
    )


def store_user_items(
    *,
    version_id: int,
    source: str,
    user_ids: npt.NDArray[np.int64],
    item_ids: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float32],
) -> int:
    """Write one row per user: their top item ids and scores, best first (an id of -1 or a
    score <= 0 is left out)."""
    return _copy_lists(
        "recommender_useritems",
        "version_id, source, user_id, item_ids, scores",
        version_id,
        source,
        user_ids,
        item_ids,
        scores,
    )


def store_ranking(
    *,
    version_id: int,
    ranking: str,
    item_ids: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float32],
) -> int:
    """Write a ranking's positive scores (items with no activity are not part of it)."""
    keep = scores > 0
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY recommender_itemranking (version_id, ranking, item_id, score) FROM STDIN"
        ) as copy,
    ):
        for item_id, score in zip(item_ids[keep], scores[keep], strict=True):
            copy.write_row((version_id, ranking, int(item_id), float(score)))
    return int(keep.sum())


ARTIFACT_TABLES = (
    "recommender_itemneighbours",
    "recommender_useritems",
    "recommender_itemranking",
)


def analyze_artifacts() -> None:
    """Refresh the planner's statistics of the tables a training run filled. Until autoanalyze
    came round (a minute later), the planner took the new version's id for a rare value and
    walked the version_id index through every one of its rows: neighbour lists read in 4-5 ms
    instead of 0.5 and recommendations took 1.8x as long (benchmarks/, right after training).
    A space's vector partitions are analysed when they are indexed (`vectorstore.space_index`)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(ARTIFACT_TABLES)}")


def drop_version_artifacts(version_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM recommender_itemneighbours WHERE version_id = %s", [version_id])
        cursor.execute("DELETE FROM recommender_itemranking WHERE version_id = %s", [version_id])
        cursor.execute("DELETE FROM recommender_useritems WHERE version_id = %s", [version_id])
        cursor.execute("DELETE FROM recommender_rankermodel WHERE version_id = %s", [version_id])


def neighbour_lists(
    *, version_id: int, source: str, item_ids: Sequence[int]
) -> dict[int, tuple[list[int], list[float]]]:
    """The stored neighbour lists of `item_ids` (one indexed row per item)."""
    if not item_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, neighbour_ids, weights FROM recommender_itemneighbours"
            " WHERE version_id = %s AND source = %s AND item_id = ANY(%s::bigint[])",
            [version_id, source, list(item_ids)],
        )
        return {row[0]: (list(row[1]), list(row[2])) for row in cursor.fetchall()}


def _candidate_conditions(
    exclude_item_ids: Sequence[int], item_filter: ItemFilter | None
) -> tuple[str, dict[str, Any]]:
    where, params = item_filter_sql(item_filter)
    params["exclude"] = list(exclude_item_ids)
    return f"i.available AND NOT (i.id = ANY(%(exclude)s::bigint[])) AND {where}", params


# A filtered ranking request first reads this many of the ranking's top rows per requested item
# (an index range), then filters them: the planner otherwise joins the whole catalog first.
RANKING_WINDOW_PER_ITEM = 50


def ranked_items(
    *,
    version_id: int,
    ranking: str,
    k: int,
    exclude_item_ids: Sequence[int] = (),
    item_filter: ItemFilter | None = None,
) -> list[tuple[int, float]]:
    """The top k of a ranking among servable items that pass the filter (walks the ranking's
    index from the top, so an unfiltered request reads about k rows)."""
    conditions, params = _candidate_conditions(exclude_item_ids, item_filter)
    params.update(version=version_id, ranking=ranking, k=k)
    window = k * RANKING_WINDOW_PER_ITEM
    params["window"] = window
    ranked = (
        "SELECT r.item_id, r.score FROM recommender_itemranking r"
        " WHERE r.version_id = %(version)s AND r.ranking = %(ranking)s"
        " ORDER BY r.score DESC, r.item_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH top AS MATERIALIZED ({ranked} LIMIT %(window)s)"  # noqa: S608
            " SELECT t.item_id, t.score FROM top t JOIN recommender_item i ON i.id = t.item_id"
            f" WHERE {conditions} ORDER BY t.score DESC, t.item_id LIMIT %(k)s",
            params,
        )
        rows = cursor.fetchall()
        if len(rows) < k and not (item_filter is None or item_filter.is_empty):
            # A narrow filter: fewer than k of the top rows passed; look down the whole ranking.
            cursor.execute(
                "SELECT r.item_id, r.score FROM recommender_itemranking r"  # noqa: S608
                " JOIN recommender_item i ON i.id = r.item_id"
                " WHERE r.version_id = %(version)s AND r.ranking = %(ranking)s"
                f" AND {conditions} ORDER BY r.score DESC, r.item_id LIMIT %(k)s",
                params,
            )
            rows = cursor.fetchall()
    return [(int(item_id), float(score)) for item_id, score in rows]


def ranking_top(*, version_id: int, ranking: str, k: int) -> list[tuple[int, float]]:
    """A ranking's first k rows, whatever the items' state (callers check availability)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, score FROM recommender_itemranking"
            " WHERE version_id = %s AND ranking = %s ORDER BY score DESC, item_id LIMIT %s",
            [version_id, ranking, k],
        )
        return [(int(item_id), float(score)) for item_id, score in cursor.fetchall()]


def newest_items(
    *,
    tenant_id: int,
    k: int,
    exclude_item_ids: Sequence[int] = (),
    item_filter: ItemFilter | None = None,
    half_life_days: float = NEWEST_HALF_LIFE_DAYS,
) -> list[tuple[int, float]]:
    """The k most recently created servable items; score = freshness 0.5^(age / half-life),
    as the engine's newest source scores them."""
    conditions, params = _candidate_conditions(exclude_item_ids, item_filter)
    params.update(tenant=tenant_id, k=k, half_life=float(half_life_days))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, power(0.5, greatest(extract(epoch FROM (now() - i.created_at)), 0)"  # noqa: S608
            " / 86400.0 / %(half_life)s) FROM recommender_item i"
            f" WHERE i.tenant_id = %(tenant)s AND {conditions}"
            " ORDER BY i.created_at DESC, i.id DESC LIMIT %(k)s",
            params,
        )
        return [(int(item_id), float(fresh)) for item_id, fresh in cursor.fetchall()]


def servable_items(
    *,
    tenant_id: int,
    item_ids: Iterable[int],
    exclude_item_ids: Sequence[int] = (),
    item_filter: ItemFilter | None = None,
    no_events_before: datetime | None = None,
) -> dict[int, ServableItem]:
    """Of the candidate ids, those the tenant may serve now (available, not excluded, passing
    the filter), with their names, categories and attributes; with `no_events_before`, only
    those that had no event before that time (fresh to a model trained then)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    conditions, params = _candidate_conditions(exclude_item_ids, item_filter)
    params.update(tenant=tenant_id, ids=ids)
    if no_events_before is not None:
        # One probe of interaction_item_recent per candidate.
        conditions += (
            " AND NOT EXISTS (SELECT 1 FROM recommender_interaction e"
            " WHERE e.item_id = i.id AND e.timestamp < %(no_events_before)s)"
        )
        params["no_events_before"] = no_events_before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, i.external_id, i.title, i.categories, i.attributes"  # noqa: S608
            " FROM recommender_item i WHERE i.tenant_id = %(tenant)s"
            f" AND i.id = ANY(%(ids)s::bigint[]) AND {conditions}",
            params,
        )
        return {
            row[0]: ServableItem(
                id=row[0],
                external_id=row[1],
                title=row[2],
                categories=tuple(row[3] or ()),
                raw_attributes=row[4],
            )
            for row in cursor.fetchall()
        }


def log_served_list(
    *,
    tenant_id: int,
    recommendation_id: str,
    endpoint: str,
    user_id: int | None,
    item_ids: Sequence[int],
    version_id: int | None,
    config_version: int | None,
    variant_id: int | None = None,
) -> None:
    """Record a served list in one round trip. Its commit does not wait for the WAL flush
    (synchronous_commit off for this statement's transaction only): a crash may lose the last
    moment's lists, never a tenant's data, and a request spares an fsync."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO recommender_servedlist (tenant_id, recommendation_id, endpoint, user_id,"
            " item_ids, model_version_id, config_version, variant_id, created_at)"
            " SELECT %s, %s, %s, %s, %s::bigint[], %s, %s, %s, now()"
            " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS setting",
            [
                tenant_id,
                recommendation_id,
                endpoint,
                user_id,
                list(item_ids),
                version_id,
                config_version,
                variant_id,
            ],
        )


class ServingState(NamedTuple):
    """Ids of what serves a tenant now, and of the user a request names (None when unknown)."""

    config_id: int | None
    version_id: int | None
    content_space_id: int | None
    cf_space_id: int | None
    user_id: int | None
    # The tenant's running A/B test, whose variant may replace the configuration.
    experiment_id: int | None = None


def serving_state(tenant_id: int, user_external_id: str | None = None) -> ServingState:
    """In one round trip: the active configuration, model version, content space and
    collaborative space, the id of the tenant's user `user_external_id`, and the running
    experiment. Serving caches by the first four."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT id FROM recommender_recommenderconfig"
            "        WHERE tenant_id = %(t)s AND is_active),"
            " (SELECT id FROM recommender_modelversion WHERE tenant_id = %(t)s"
            "  AND status = 'active'),"
            " (SELECT id FROM recommender_embeddingspace WHERE tenant_id = %(t)s"
            "  AND purpose = 'content' AND status = 'active'),"
            " (SELECT id FROM recommender_embeddingspace WHERE tenant_id = %(t)s"
            "  AND purpose = 'collaborative' AND status = 'active'),"
            " (SELECT id FROM recommender_enduser WHERE tenant_id = %(t)s"
            "  AND external_id = %(user)s),"
            " (SELECT id FROM recommender_experiment WHERE tenant_id = %(t)s"
            "  AND status = 'running')",
            {"t": tenant_id, "user": user_external_id},
        )
        return ServingState(*cursor.fetchone())


def filtered_count(*, tenant_id: int, item_filter: ItemFilter, cap: int) -> int:
    """How many servable items pass the filter, counted up to `cap` (cap + 1 means "more")."""
    where, params = item_filter_sql(item_filter)
    params.update(tenant=tenant_id, cap=cap + 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT 1 FROM recommender_item i"  # noqa: S608
            f" WHERE i.tenant_id = %(tenant)s AND i.available AND {where} LIMIT %(cap)s) AS m",
            params,
        )
        return int(cursor.fetchone()[0])


def unknown_attributes(*, tenant_id: int, names: Sequence[str]) -> list[str]:
    """The names no item of the tenant has as an attribute (answered by the attributes GIN
    index)."""
    missing = []
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM recommender_item"
                " WHERE tenant_id = %s AND attributes ? %s)",
                [tenant_id, name],
            )
            if not cursor.fetchone()[0]:
                missing.append(name)
    return missing
