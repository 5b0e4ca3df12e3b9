"""Tenant B's nearest-neighbour queries and vector upserts while tenant A builds and drops spaces.

    python benchmarks/tenant_isolation.py [--items 20000] [--dim 64] [--queries 1500]

Tenant B serves a space of `--items` vectors. Tenant A, in a thread of its own, builds spaces of
`--items` vectors the way training stores its collaborative space (a partition of its own, bulk
HNSW build, attach) and drops them (concurrent detach, drop), over and over. B's session runs
`vectorstore.nearest_items` (k=10) and, every tenth query, an upsert of 100 vectors:
first with A idle (the baseline, measured in the same run), then while A's DDL runs.

B's session has `lock_timeout = 200ms`: any statement that waited that long on a lock fails and
is counted (`lock_failures`, the target is 0). Latency targets: B's p99 while A works within 2x
of idle (issue 12: B's query went from 8 ms to 2,585 ms while A dropped a space). On a machine
with few cores A's index build also takes CPU from B; the lock count tells the two apart.
Results: benchmarks/results/tenant_isolation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from typing import Any

import _bench_data  # noqa: F401  (sets up Django and the benchmarks' data folder first)
import numpy as np
import numpy.typing as npt
from _bench_data import ROOT
from django.core.management import call_command
from django.db import connection, transaction
from retrieval_latency import latency_stats, machine_info

from recommender import vectorstore
from recommender.models import EmbeddingSpace, Item
from recommender.models.vectors import settings_digest
from tenants.models import Tenant
from tenants.services import tenant_get_or_create

RESULTS = ROOT / "benchmarks" / "results" / "tenant_isolation.json"
TARGET_P99_RATIO = 2.0
LOCK_TIMEOUT = "200ms"
CHUNK = 5_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> npt.NDArray[np.float32]:
    rows = rng.normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def reset(tenant: Tenant, items: int) -> list[int]:
    """The tenant's spaces dropped, and `items` items (kept between runs)."""
    for space in EmbeddingSpace.objects.for_tenant(tenant):
        vectorstore.drop_space(space)
        space.delete()
    have = list(Item.objects.for_tenant(tenant).order_by("pk").values_list("pk", flat=True))
    if len(have) < items:
        Item.objects.for_tenant(tenant).bulk_create(
            [
                Item(tenant=tenant, external_id=f"iso-{n}", title=f"item {n}")
                for n in range(len(have), items)
            ],
            batch_size=5_000,
        )
        have = list(Item.objects.for_tenant(tenant).order_by("pk").values_list("pk", flat=True))
    return have[:items]


def new_space(tenant: Tenant, dim: int, n: int) -> EmbeddingSpace:
    identity = {"model": "tenant-isolation-bench", "n": n, "at": time.time()}
    return EmbeddingSpace.objects.for_tenant(tenant).create(
        tenant=tenant,
        settings=identity,
        settings_hash=settings_digest(identity),
        dimension=dim,
        status=EmbeddingSpace.Status.BUILDING,
    )


def build(space: EmbeddingSpace, ids: list[int], vectors: npt.NDArray[np.float32]) -> None:
    """As training stores its CF space: own partition, chunked upserts, bulk index, attach."""
    vectorstore.space_create(space, attach=False)
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            vectorstore.upsert_item_vectors(
                space,
                ids[start : start + CHUNK],
                ["x"] * len(ids[start : start + CHUNK]),
                vectors[start : start + CHUNK],
            )
    vectorstore.space_index(space)


class Churn(threading.Thread):
    """Tenant A: build a space, drop it, again, until stopped."""

    def __init__(self, tenant: Tenant, ids: list[int], dim: int) -> None:
        super().__init__(daemon=True)
        self.tenant, self.ids, self.dim = tenant, ids, dim
        self.stop = threading.Event()
        self.cycles: list[dict[str, float]] = []
        self.error: str | None = None

    def run(self) -> None:
        rng = np.random.default_rng(2)
        try:
            while not self.stop.is_set():
                space = new_space(self.tenant, self.dim, len(self.ids))
                started = time.perf_counter()
                build(space, self.ids, unit_rows(rng, len(self.ids), self.dim))
                built = time.perf_counter()
                vectorstore.drop_space(space)
                space.delete()
                self.cycles.append(
                    {
                        "build_s": round(built - started, 2),
                        "drop_s": round(time.perf_counter() - built, 2),
                    }
                )
        except Exception as exc:  # reported in the results
            self.error = repr(exc)
        finally:
            connection.close()


def measure_b(
    space: EmbeddingSpace, ids: list[int], queries: int, dim: int, seed: int
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    probes = unit_rows(rng, queries, dim)
    query_s: list[float] = []
    upsert_s: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    for n, probe in enumerate(probes):
        mark = time.perf_counter()
        try:
            vectorstore.nearest_items(space, probe, k=10, only_available=False)
            query_s.append(time.perf_counter() - mark)
        except Exception as exc:
            failures.append(f"query: {exc}"[:200])
        if n % 10 == 0:
            rows = rng.choice(len(ids), size=100, replace=False)
            mark = time.perf_counter()
            try:
                with transaction.atomic():
                    vectorstore.upsert_item_vectors(
                        space, [ids[r] for r in rows], ["y"] * 100, unit_rows(rng, 100, dim)
                    )
                upsert_s.append(time.perf_counter() - mark)
            except Exception as exc:
                failures.append(f"upsert: {exc}"[:200])
    wall = time.perf_counter() - started
    return {
        "query": latency_stats(query_s, wall),
        "upsert_100": latency_stats(upsert_s),
        "lock_failures": len(failures),
        "failures": failures[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20_000, help="vectors per space")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=1_500, help="B's queries per phase")
    args = parser.parse_args()

    load_before = os.getloadavg()
    call_command("migrate", verbosity=0)
    a, _ = tenant_get_or_create(slug="iso-a", name="Isolation A")
    b, _ = tenant_get_or_create(slug="iso-b", name="Isolation B")
    a_ids, b_ids = reset(a, args.items), reset(b, args.items)
    log(f"B: building a space of {args.items:,} vectors")
    b_space = new_space(b, args.dim, args.items)
    build(b_space, b_ids, unit_rows(np.random.default_rng(1), args.items, args.dim))
    b_space.status = EmbeddingSpace.Status.ACTIVE
    b_space.save(update_fields=["status"])
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    measure_b(b_space, b_ids, 200, args.dim, seed=3)  # warm-up
    log("B alone (A idle)")
    idle = measure_b(b_space, b_ids, args.queries, args.dim, seed=4)
    log(f"  p50 {idle['query']['p50_ms']} ms, p99 {idle['query']['p99_ms']} ms")
    churn = Churn(a, a_ids, args.dim)
    churn.start()
    log("B while A builds and drops spaces")
    busy = measure_b(b_space, b_ids, args.queries, args.dim, seed=4)
    # Keep A going until it has finished at least one whole build-and-drop inside the phase.
    while not churn.cycles and churn.error is None and churn.is_alive():
        extra = measure_b(b_space, b_ids, 200, args.dim, seed=5)
        busy["lock_failures"] += extra["lock_failures"]
    churn.stop.set()
    churn.join()
    log(f"  p50 {busy['query']['p50_ms']} ms, p99 {busy['query']['p99_ms']} ms; A: {churn.cycles}")
    ratio = busy["query"]["p99_ms"] / max(idle["query"]["p99_ms"], 1e-9)
    upsert_ratio = busy["upsert_100"]["p99_ms"] / max(idle["upsert_100"]["p99_ms"], 1e-9)
    run = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "items_per_space": args.items,
        "dimension": args.dim,
        "lock_timeout": LOCK_TIMEOUT,
        "b_idle": idle,
        "b_while_a_builds_and_drops": busy,
        "a_cycles": churn.cycles,
        "a_error": churn.error,
        "p99_ratio_query": round(ratio, 2),
        "p99_ratio_upsert": round(upsert_ratio, 2),
        "target_p99_ratio": TARGET_P99_RATIO,
        "meets_target": bool(
            ratio <= TARGET_P99_RATIO and busy["lock_failures"] == 0 and churn.error is None
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")  # the clean-up's concurrent detach may wait
    for space in EmbeddingSpace.objects.for_tenant(b):
        vectorstore.drop_space(space)
        space.delete()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(run, indent=2, default=str) + "\n")
    log(
        f"p99 ratio query {run['p99_ratio_query']}, upsert {run['p99_ratio_upsert']}; "
        f"lock failures {busy['lock_failures']}; meets target: {run['meets_target']}"
    )
    log(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
