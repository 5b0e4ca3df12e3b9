"""Text-aware EASE against plain EASE and the content source, on planted data with cold items.

Engine only (no database): the planted generator's events and group-clustered item vectors, a
global temporal 80/20 split, then `--cold-share` of the items lose every training event. For
each source: warm NDCG@10 / Recall@10 (held-out items with training events), Recall@10 on cold
items (held-out items without), the share of top-10 slots given to cold items, fit seconds and
peak traced memory of the fit (numpy buffers included: tracemalloc sees their allocations).

    python benchmarks/text_ease_quality.py                      # 2,000 items
    python benchmarks/text_ease_quality.py --items 20000 --users 30000 --only-fit
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recommender.engine.data import InteractionMatrix  # noqa: E402
from recommender.engine.metrics import Hits  # noqa: E402
from recommender.engine.sources import CandidateSource, ContentSource, EASESource  # noqa: E402
from recommender.engine.sources.text_ease import SPEC, TextEASESource  # noqa: E402
from tests.support.planted import (  # noqa: E402
    cold_item_split,
    planted_dataset,
    planted_item_vectors,
)

K = 10


def _lists(source: CandidateSource, data: InteractionMatrix, users: list[int]) -> list[list[int]]:
    rows = np.array([data.user_index[u] for u in users], dtype=np.int64)
    cols, _ = source.recommend(rows, K)
    return [[int(data.items.ids[c]) for c in row if c >= 0] for row in cols]


def _scores(
    source: CandidateSource, data: InteractionMatrix, test: dict[int, frozenset[int]]
) -> tuple[float, float]:
    users = sorted(u for u in test if u in data.user_index)
    hits = Hits.build(_lists(source, data, users), [test[u] for u in users], K)
    return float(hits.ndcg().mean()), float(hits.recall().mean())


def run(args: argparse.Namespace) -> dict[str, Any]:
    planted = planted_dataset(args.users, args.items, args.groups, args.events_per_user, seed=3)
    vectors = planted_item_vectors(planted, noise=args.noise)
    split = cold_item_split(planted, args.cold_share, seed=4)
    data = InteractionMatrix.build(split.train, planted.items, half_life_days=30.0, now=planted.now)
    cold = np.isin(data.items.ids, split.cold_items)
    sources: dict[str, CandidateSource] = {
        "ease": EASESource(l2=args.l2, top_n=100, max_items=10**6),
        "content": ContentSource(vectors),
    }
    for beta in args.text_weight:
        for users in args.text_users:
            sources[f"text_ease b={beta:g} m={users:g}"] = TextEASESource(
                vectors,
                l2=args.l2,
                text_weight=beta,
                text_users=users,
                max_items=args.max_items,
                rank=args.rank,
                top_n=100,
            )
    results: dict[str, Any] = {
        "items": args.items,
        "users": args.users,
        "events": len(planted.events),
        "cold_items": int(cold.sum()),
        "sources": {},
    }
    for name, source in sources.items():
        tracemalloc.start()
        started = time.perf_counter()
        source.fit(data)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row: dict[str, Any] = {"fit_s": round(seconds, 2), "peak_mb": round(peak / 2**20)}
        if isinstance(source, TextEASESource):
            row["solver"] = source.solver
        if not args.only_fit:
            warm_ndcg, warm_recall = _scores(source, data, split.warm_test)
            _, cold_recall = _scores(source, data, split.cold_test)
            users = sorted(u for u in split.warm_test if u in data.user_index)[:2000]
            lists = _lists(source, data, users)
            cold_ids = set(split.cold_items.tolist())
            slots = sum(len(items) for items in lists)
            row.update(
                warm_ndcg=round(warm_ndcg, 4),
                warm_recall=round(warm_recall, 4),
                cold_recall=round(cold_recall, 4),
                cold_slots=round(sum(i in cold_ids for x in lists for i in x) / max(slots, 1), 4),
            )
        results["sources"][name] = row
        print(name, row, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=4_000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--events-per-user", type=float, default=20.0)
    parser.add_argument("--cold-share", type=float, default=0.1)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--l2", type=float, default=250.0)
    defaults = SPEC.defaults()
    parser.add_argument("--text-weight", type=float, nargs="+", default=[defaults["text_weight"]])
    parser.add_argument("--text-users", type=float, nargs="+", default=[defaults["text_users"]])
    parser.add_argument("--max-items", type=int, default=20_000)
    parser.add_argument("--rank", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only-fit", action="store_true", help="fit times and memory only")
    parser.add_argument("--save", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    with threadpool_limits(args.threads, "blas"):
        results = run(args)
    if args.save:
        args.save.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
