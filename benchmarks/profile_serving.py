"""Where a recommendation request spends its time: each SQL statement's share, in process.

    RECSYS_DATA_DIR=/tmp/recsys-bench-retrieval \
        python benchmarks/profile_serving.py [--requests 300] [--only recs,similar]

Runs against the serving benchmark's first tenant (load it with serving_latency.py first) and
prints, per endpoint variant, the mean time per request in total, in SQL (by statement shape) and
in Python. A tool for finding the next thing to speed up; the latency figures that count are
serving_latency.py's, through HTTP.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import _bench_data  # noqa: F401  (sets up Django and the benchmarks' data folder first)
from django.db import connection

from recommender.services.serving.lists import ranked_list, recommend_for_user, similar_items
from tenants.models import Tenant
from tenants.scoping import tenant_scope


def statement_shape(sql: str) -> str:
    """The statement with literals and lists folded, short enough to read in a table."""
    text = re.sub(r"\s+", " ", sql).strip()
    text = re.sub(r"'[^']*'", "?", text)
    text = re.sub(r"\b\d+\b", "N", text)
    return text[:110]


class QueryTimer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = statement_shape(sql)
            self.seconds[shape] += time.perf_counter() - started
            self.calls[shape] += 1


def profile(name: str, call: Callable[[int], Any], requests: int) -> None:
    timer = QueryTimer()
    for n in range(10):
        call(n)  # warm the process caches
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        for n in range(requests):
            call(n)
    total = (time.perf_counter() - started) / requests * 1000
    sql = sum(timer.seconds.values()) / requests * 1000
    print(f"\n== {name}: {total:.2f} ms per request; SQL {sql:.2f} ms; Python {total - sql:.2f} ms")
    for shape, seconds in sorted(timer.seconds.items(), key=lambda kv: -kv[1])[:14]:
        per = seconds / requests * 1000
        print(f"  {per:6.2f} ms  x{timer.calls[shape] / requests:4.1f}  {shape}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--tenant", default="bench-t0")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: recs, recs-explain, recs-filtered, similar, popular",
    )
    args = parser.parse_args()
    tenant = Tenant.objects.get(slug=args.tenant)
    rng = random.Random(7)
    users = [f"user-{rng.randrange(100_000):06d}" for _ in range(args.requests + 10)]
    items = [f"sku-{rng.randrange(100_000):06d}" for _ in range(args.requests + 10)]
    categories = ["running", "kitchen", "camping", "books", "shoes"]
    count = [("count", "10")]
    variants: dict[str, Callable[[int], Any]] = {
        "recs": lambda n: recommend_for_user(tenant=tenant, user_id=users[n], params=count),
        "recs-explain": lambda n: recommend_for_user(
            tenant=tenant, user_id=users[n], params=[("count", "10"), ("explain", "true")]
        ),
        "recs-filtered": lambda n: recommend_for_user(
            tenant=tenant,
            user_id=users[n],
            params=[("count", "10"), ("category", categories[n % 5]), ("attr.price", "..150")],
        ),
        "similar": lambda n: similar_items(tenant=tenant, item_id=items[n], params=count),
        "popular": lambda n: ranked_list(tenant=tenant, ranking="popular", params=count),
    }
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    with tenant_scope(tenant):
        for name, call in variants.items():
            if not only or name in only:
                profile(name, call, args.requests)


if __name__ == "__main__":
    main()
