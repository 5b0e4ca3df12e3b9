"""Offline evaluation harness: run recommenders over held-out users and tabulate metrics.

Pure Python/numpy; a recommender is any callable, so models, baselines and test doubles are
evaluated the same way. Ids throughout are **database ids**: the harness passes database user
ids and expects database item ids back. Mapping to and from matrix positions is the adapter's
job (it knows its `InteractionMatrix`), so the metrics never depend on one model's indexing.

Besides the whole test set, each row can be read on three slices of it (`SliceRow`):
- warm_users: the test users with more than `splits.COLD_USER_MAX_EVENTS` training events;
- cold_users: the others (1 or 2 training events; users with none are not in the hold-out);
- cold_items: every test user with at least one cold-item target (an item with no training
  event), scored against those targets only: the list is the user's whole list, but only its
  cold-item targets count as relevant, so recall@K there is the share of cold targets found.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from recommender.engine.metrics import Hits, ItemPopularity, coverage, novelty
from recommender.engine.splits import Slices

Recommend = Callable[[Sequence[int], int], list[list[int]]]
"""(database user ids, k) → per user, in the same order, its top-k database item ids, best
first, already excluding the items that user interacted with in training."""

METRIC_FIELDS = ("recall", "ndcg", "map", "hit_rate", "coverage", "novelty")
SLICE_NAMES = ("warm_users", "cold_users", "cold_items")
SLICE_FIELDS = ("recall", "ndcg", "map", "hit_rate")


def _rounded(value: float) -> float | None:
    # NaN becomes None so the dict is valid JSON (Postgres jsonb rejects NaN).
    return None if math.isnan(value) else round(float(value), 4)


@dataclass(frozen=True)
class SliceRow:
    """One recommender's ranking metrics on one slice of the test set (see the module doc).

    recall, ndcg, map, hit_rate: means over `users`, NaN when the slice is empty; targets: the
    relevant items those users hold in the slice (all of theirs, or only the cold ones).
    """

    recall: float
    ndcg: float
    map: float
    hit_rate: float
    users: int
    targets: int

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {
            name: _rounded(getattr(self, name)) for name in SLICE_FIELDS
        }
        return {**out, "users": self.users, "targets": self.targets}


@dataclass(frozen=True)
class MetricRow:
    """One recommender's scores; the first four are means over `users` evaluated users.

    recall, ndcg, map, hit_rate: mean recall@K, nDCG@K, AP@K (MAP@K), hit@K (see
    `engine.metrics`); coverage: share of the catalog in anyone's top-K; novelty: mean
    -log2 p(i) of the recommended items (bits); users: how many users were evaluated.
    A metric is NaN when undefined (no users; novelty also when nothing was recommended).
    slices: slice name → `SliceRow`, when `evaluate` was given the hold-out's `Slices`.
    """

    recall: float
    ndcg: float
    map: float
    hit_rate: float
    coverage: float
    novelty: float
    users: int
    slices: Mapping[str, SliceRow] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Metrics rounded to 4 decimals, NaN as None; "slices" only when there are some."""
        out: dict[str, Any] = {name: _rounded(getattr(self, name)) for name in METRIC_FIELDS}
        out["users"] = int(self.users)
        if self.slices:
            out["slices"] = {name: row.as_dict() for name, row in self.slices.items()}
        return out


def evaluate(
    recommenders: Mapping[str, Recommend],
    holdout_test: Mapping[int, frozenset[int]],
    *,
    k: int = 10,
    item_popularity: ItemPopularity,
    n_items: int,
    batch_size: int = 256,
    slices: Slices | None = None,
) -> dict[str, MetricRow]:
    """Score each recommender on the users of `holdout_test` (user id → relevant item ids),
    and with `slices` on each of `SLICE_NAMES` too (see the module doc).

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
        row = _row(lists, relevant, k, item_popularity, n_items)
        if slices is not None:
            row = replace(row, slices=_slice_rows(users, lists, relevant, k, slices))
        rows[name] = row
    return rows


def _slice_rows(
    users: list[int],
    lists: list[list[int]],
    relevant: list[frozenset[int]],
    k: int,
    slices: Slices,
) -> dict[str, SliceRow]:
    """Each slice's (lists, relevant sets) pairs, scored as the whole set is."""
    cold = [user in slices.cold_users for user in users]
    parts = {
        "warm_users": [
            (items, r) for items, r, c in zip(lists, relevant, cold, strict=True) if not c
        ],
        "cold_users": [(items, r) for items, r, c in zip(lists, relevant, cold, strict=True) if c],
        "cold_items": [
            (items, r & slices.cold_items)
            for items, r in zip(lists, relevant, strict=True)
            if r & slices.cold_items
        ],
    }
    return {name: _slice_row(pairs, k) for name, pairs in parts.items()}


def _slice_row(pairs: list[tuple[list[int], frozenset[int]]], k: int) -> SliceRow:
    if not pairs:
        return SliceRow(math.nan, math.nan, math.nan, math.nan, 0, 0)
    hits = Hits.build([items for items, _ in pairs], [r for _, r in pairs], k)
    return SliceRow(*_ranking_means(hits), users=len(pairs), targets=int(hits.n_relevant.sum()))


def _ranking_means(hits: Hits) -> tuple[float, float, float, float]:
    """Mean recall, nDCG, AP and hit rate over the users of `hits`, in `SLICE_FIELDS` order."""
    return (
        float(np.mean(hits.recall())),
        float(np.mean(hits.ndcg())),
        float(np.mean(hits.average_precision())),
        float(np.mean(hits.hit_rate())),
    )


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
        *_ranking_means(hits),
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
