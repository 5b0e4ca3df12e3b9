"""What the learned fusion costs, in process and without the database: building a ranker's
features and scoring one user's fused pool (the work serving adds to a request), and fitting
the ranker, on planted data where a fifth of the items are fresh (no events).

    python benchmarks/ranker_cost.py [--users 400] [--items 2000] [--pool 40]

Prints and saves benchmarks/results/ranker_cost.json. The ranker's quality is measured by the
tests and by training itself (the version's "ranker" report); this script times it only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender.engine.data import InteractionMatrix
from recommender.engine.fusion import fuse
from recommender.engine.fusion_learning import _Fusion, user_cases
from recommender.engine.ranker import ItemStats, features, fit_ranker
from recommender.engine.sources import (
    CandidateSource,
    ContentSource,
    CooccurrenceSource,
    PopularSource,
)
from recommender.engine.splits import HoldOut
from tests.support.planted import planted_dataset, planted_item_vectors

WEIGHTS = {"content": 0.5, "cooccurrence": 1.0, "popular": 0.1}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--pool", type=int, default=40)
    args = parser.parse_args()
    dataset = planted_dataset(args.users, args.items, 10, 20.0, seed=0)
    rng = np.random.default_rng(0)
    fresh = rng.random(len(dataset.items)) < 0.2
    fresh_ids = dataset.items.ids[fresh]
    past = dataset.events.select(~np.isin(dataset.events.item_ids, fresh_ids))
    groups = dataset.item_groups
    test = {
        int(u): frozenset(rng.choice(dataset.items.ids[fresh & (groups == g)], 3).tolist())
        for u, g in zip(dataset.user_ids, dataset.user_groups, strict=True)
    }
    split = HoldOut(train=past, test=test, cutoff=dataset.now)
    data = InteractionMatrix.build(past, dataset.items, half_life_days=30.0, now=dataset.now)
    sources: dict[str, CandidateSource] = {
        "content": ContentSource(item_vectors=planted_item_vectors(dataset, dim=32)),
        "cooccurrence": CooccurrenceSource(top_n=50),
        "popular": PopularSource(),
    }
    for source in sources.values():
        source.fit(data, events=past)
    cases = user_cases(sources, data, split, pool=args.pool, max_recent=200, max_users=args.users)
    names = list(sources)
    stats = ItemStats.build(past, dataset.items, dataset.now)
    fusion = _Fusion(
        cases, method="weighted", rrf_k=60, sources=names, stats=stats, now=dataset.now, k=10
    )
    mark = time.perf_counter()
    groups_ = fusion.groups(WEIGHTS)
    features_s = time.perf_counter() - mark
    mark = time.perf_counter()
    ranker = fit_ranker(groups_, names)
    fit_s = time.perf_counter() - mark

    per_request: list[float] = []
    fuse_only: list[float] = []
    pool_sizes: list[int] = []
    for case in cases:
        started = time.perf_counter()
        fused = fuse(case.candidates, WEIGHTS)
        fuse_only.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        x = features(case.candidates, fused, names, stats, case.context, dataset.now)
        ranker.scores(x)
        per_request.append(1000 * (time.perf_counter() - started))
        pool_sizes.append(len(fused))
    result = {
        "users": len(cases),
        "items": args.items,
        "pool_per_source": args.pool,
        "mean_fused_pool": round(statistics.mean(pool_sizes), 1),
        "training_features_s": round(features_s, 3),
        "ranker_fit_s": round(fit_s, 3),
        "fuse_ms_per_request_mean": round(statistics.mean(fuse_only), 3),
        # What the ranker adds to a request: its features and its scores of the fused pool.
        "ranker_ms_per_request_mean": round(statistics.mean(per_request), 3),
        "ranker_ms_per_request_p95": round(float(np.percentile(per_request, 95)), 3),
    }
    print(json.dumps(result, indent=2))
    out = Path(__file__).resolve().parent / "results" / "ranker_cost.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
