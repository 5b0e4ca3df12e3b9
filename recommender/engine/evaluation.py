"""Offline evaluation harness: run recommenders over held-out users and tabulate metrics.

Pure Python/numpy; a recommender is any callable, so models, baselines and test doubles are
evaluated the same way. Ids throughout are **database ids**: the harness passes database user
ids and expects database item ids back. Mapping to and from matrix positions is the adapter's
job (it knows its `InteractionMatrix`), so the metrics never depend on one model's indexing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from recommender.engine.metrics import Hits, ItemPopularity, coverage, novelty

Recommend = Callable[[Sequence[int], int], list[list[int]]]
"""(database user ids, k) → per user, in the same order, its top-k database item ids, best
first, already excluding the items that user interacted with in training."""

METRIC_FIELDS = ("recall", "ndcg", "map", "hit_rate", "coverage", "novelty")


@dataclass(frozen=True)
class MetricRow:
    """One recommender's scores; the first four are means over `users` evaluated users.

    recall, ndcg, map, hit_rate: mean recall@K, nDCG@K, AP@K (MAP@K), hit@K (see
    `engine.metrics`); coverage: share of the catalog in anyone's top-K; novelty: mean
    -log2 p(i) of the recommended items (bits); users: how many users were evaluated.
    A metric is NaN when undefined (no users; novelty also when nothing was recommended).
    """

    recall: float
    ndcg: float
    map: float
    hit_rate: float
    coverage: float
    novelty: float
    users: int

    def as_dict(self) -> dict[str, float | int | None]:
        """Metrics rounded to 4 decimals; NaN becomes None so the dict is valid JSON (Postgres
        jsonb rejects NaN)."""
        out: dict[str, float | int | None] = {}
        for name, value in asdict(self).items():
            if name == "users":
                out[name] = int(value)
            else:
                out[name] = None if math.isnan(value) else round(float(value), 4)
        return out


def evaluate(
    recommenders: Mapping[str, Recommend],
    holdout_test: Mapping[int, frozenset[int]],
    *,
    k: int = 10,
    item_popularity: ItemPopularity,
    n_items: int,
    batch_size: int = 256,
) -> dict[str, MetricRow]:
    """Score each recommender on the users of `holdout_test` (user id → relevant item ids).

    Users with an empty relevant set are skipped; users are asked for in ascending id order, in
    batches of `batch_size`. Lists longer than k are cut to k; shorter lists count the missing
    slots as misses. `item_popularity` must come from the training events and `n_items` is the
    size of the catalog the recommenders draw from. Returns rows in the order of `recommenders`.
    Raises ValueError when a recommender returns a different number of lists than users asked.
    """
    if k < 1 or batch_size < 1:
        raise ValueError("k and batch_size must be at least 1")
    users = sorted(user for user, items in holdout_test.items() if items)
    relevant = [holdout_test[user] for user in users]
    rows: dict[str, MetricRow] = {}
    for name, recommend in recommenders.items():
        lists: list[list[int]] = []
        for start in range(0, len(users), batch_size):
            batch = users[start : start + batch_size]
            result = recommend(batch, k)
            if len(result) != len(batch):
                raise ValueError(
                    f"recommender {name!r} returned {len(result)} lists for {len(batch)} users"
                )
            lists.extend(list(items[:k]) for items in result)
        rows[name] = _row(lists, relevant, k, item_popularity, n_items)
    return rows


def _row(
    lists: list[list[int]],
    relevant: list[frozenset[int]],
    k: int,
    item_popularity: ItemPopularity,
    n_items: int,
) -> MetricRow:
    if not lists:
        return MetricRow(math.nan, math.nan, math.nan, math.nan, 0.0, math.nan, 0)
    # One hit matrix serves all four ranking metrics.
    hits = Hits.build(lists, relevant, k)
    return MetricRow(
        recall=float(np.mean(hits.recall())),
        ndcg=float(np.mean(hits.ndcg())),
        map=float(np.mean(hits.average_precision())),
        hit_rate=float(np.mean(hits.hit_rate())),
        coverage=coverage(lists, n_items),
        novelty=novelty(lists, item_popularity),
        users=len(lists),
    )


def _headers(k: int | None) -> list[str]:
    at = f"@{k}" if k is not None else ""
    return [
        f"recall{at}",
        f"ndcg{at}",
        f"map{at}",
        f"hit_rate{at}",
        "coverage",
        "novelty",
        "users",
    ]


def _cells(row: MetricRow) -> list[str]:
    values = [getattr(row, name) for name in METRIC_FIELDS]
    return [("n/a" if math.isnan(v) else f"{v:.4f}") for v in values] + [str(row.users)]


def format_table(rows: Mapping[str, MetricRow], *, k: int | None = None) -> str:
    """Fixed-width text table, one line per recommender in mapping order; `k` labels headers."""
    header = ["model", *_headers(k)]
    body = [[name, *_cells(row)] for name, row in rows.items()]
    widths = [max(len(line[col]) for line in [header, *body]) for col in range(len(header))]

    def render(line: list[str]) -> str:
        # Names left-aligned, numbers right-aligned so decimal points line up.
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(header), rule, *(render(line) for line in body)])


def format_markdown(rows: Mapping[str, MetricRow], *, k: int | None = None) -> str:
    """GitHub-flavoured markdown table, numbers right-aligned; `k` labels the headers."""
    header = ["model", *_headers(k)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for name, row in rows.items():
        # A '|' inside a name would split the cell.
        cells = [name.replace("|", "\\|"), *_cells(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
