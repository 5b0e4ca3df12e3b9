"""Serving benchmark: recommendations through HTTP at 100,000 items and 1,000,000 interactions.

Two tenants of the same size share the database (the second one's rows sit in the same tables and
indexes). For the first tenant this script:
1. trains a model version in-process (`train_tenant`: offline evaluation, fit of every enabled
   source, storage of factors, neighbour lists and rankings) and records the time per source,
   next to `implicit`'s own ALS fitted directly on the same matrix (the reference: our ALS *is*
   implicit, so the ratio shows the wrapper's cost);
2. serves `GET /users/{id}/recommendations?count=10` from gunicorn (the real WSGI app, sync
   workers) to one keep-alive client and then to several concurrent ones, and reports p50, p95,
   p99 and requests/s; a filtered variant (`category=` and `attr.price=`) and similar items too;
3. measures in the same run the baseline `GET /items/{id}` (one row through the same stack:
   authentication, tenant scope, JSON) so the recommender's own share of the latency is visible.

Run with `--items 20000 --interactions 200000` as well to see that per-request cost does not
grow with the catalog. Results go to benchmarks/results/serving_latency.json (one entry per size).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import _bench_data  # noqa: F401  (sets up Django and the benchmarks' data folder first)
import numpy as np
from _bench_data import centre_count, item_ids, item_plan, retrieval_dataset
from _bench_events import load_events
from retrieval_latency import (
    free_port,
    latency_stats,
    machine_info,
    run_requests,
    start_gunicorn,
)
from threadpoolctl import threadpool_limits

from recommender.engine.data import InteractionMatrix
from recommender.models import ModelVersion
from recommender.services.config import active_config, config_save
from recommender.services.training.data import load_events as load_training_events
from recommender.services.training.data import load_items
from recommender.services.training.train import train_tenant
from tenants.scoping import tenant_scope

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "serving_latency.json"
TARGETS = {"p50_ms": 15.0, "p99_ms": 50.0}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def implicit_reference(tenant: Any, config: dict[str, Any]) -> float:
    """Seconds for implicit's ALS fitted directly on the tenant's matrix, same settings."""
    import implicit

    events = load_training_events(tenant_id=tenant.pk, interactions=config["interactions"])
    items = load_items(tenant_id=tenant.pk)
    data = InteractionMatrix.build(
        events, items, half_life_days=float(config["interactions"]["half_life_days"])
    )
    als = config["sources"]["als"]
    model = implicit.cpu.als.AlternatingLeastSquares(
        factors=als["factors"],
        regularization=als["regularization"],
        iterations=als["iterations"],
        alpha=als["alpha"],
        random_state=0,
    )
    started = time.perf_counter()
    with threadpool_limits(1, "blas"):
        model.fit(data.matrix, show_progress=False)
    return time.perf_counter() - started


def train(bench: Any, *, reuse_version: bool = False) -> dict[str, Any]:
    """Train (or, with `reuse_version`, read the active version's own record of its training)."""
    tenant = bench.tenant
    with tenant_scope(tenant):
        config = active_config(tenant)
        version = ModelVersion.objects.for_tenant(tenant).filter(status="active").first()
        if version is None or not reuse_version:
            started = time.perf_counter()
            version = train_tenant(tenant=tenant)
            wall = time.perf_counter() - started
        else:
            wall = float(version.timings.get("total_s", 0.0))
        reference = implicit_reference(tenant, config)
    als_seconds = version.sources.get("als", {}).get("fit_seconds")
    return {
        "version": version.label,
        "wall_s": round(wall, 1),
        "timings": version.timings,
        "fit_seconds": {name: info["fit_seconds"] for name, info in version.sources.items()},
        "implicit_als_direct_s": round(reference, 2),
        "als_vs_implicit": round(als_seconds / reference, 2) if als_seconds else None,
        "metrics": version.metrics,
        "data": version.data_summary,
    }


def serve(
    bench: Any,
    users: int,
    items: int,
    requests: int,
    clients: int,
    workers: int,
    seed: int,
    only: tuple[str, ...] = (),
) -> dict[str, Any]:
    rng = random.Random(seed)
    user_ids = [f"user-{rng.randrange(users):06d}" for _ in range(requests)]
    item_ids_ = [f"sku-{rng.randrange(items):06d}" for _ in range(requests)]
    categories = ["running", "kitchen", "camping", "books", "shoes"]
    suites: dict[str, list[tuple[str, str, bytes | None]]] = {
        "baseline: GET /items/{id}": [("GET", f"/api/v1/items/{i}", None) for i in item_ids_],
        "recommendations": [
            ("GET", f"/api/v1/users/{u}/recommendations?count=10", None) for u in user_ids
        ],
        "recommendations, explain": [
            ("GET", f"/api/v1/users/{u}/recommendations?count=10&explain=true", None)
            for u in user_ids
        ],
        "recommendations, filtered": [
            (
                "GET",
                f"/api/v1/users/{u}/recommendations?count=10"
                f"&category={categories[n % len(categories)]}&attr.price=..150",
                None,
            )
            for n, u in enumerate(user_ids)
        ],
        "similar items": [("GET", f"/api/v1/items/{i}/similar?count=10", None) for i in item_ids_],
    }
    if only:
        suites = {name: batch for name, batch in suites.items() if name.startswith(only)}
    headers = {"Authorization": f"Bearer {bench.api_key}", "Accept": "application/json"}
    port = free_port()
    os.environ.setdefault("RECSYS_TORCH_THREADS", "1")  # as scripts/up.sh runs the web
    server = start_gunicorn(port, workers, None, ROOT / ".data-bench-serving-conf")
    results: dict[str, Any] = {}
    try:
        warm: list[tuple[str, str, bytes | None]] = [
            ("GET", f"/api/v1/users/user-{n:06d}/recommendations", None) for n in range(40)
        ]
        run_requests(port, headers, warm, 2)
        for name, batch in suites.items():
            single, _, wall, failures = run_requests(port, headers, batch, 1)
            many, _, many_wall, many_failures = run_requests(port, headers, batch, clients)
            results[name] = {
                "one_client": latency_stats(single, wall),
                f"{clients}_clients": latency_stats(many, many_wall),
                "failures": (failures + many_failures)[:5],
            }
            one = results[name]["one_client"]
            log(
                f"{name}: p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms; "
                f"{clients} clients {results[name][f'{clients}_clients']['requests_per_s']} req/s"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000, help="items per tenant")
    parser.add_argument("--interactions", type=int, default=1_000_000, help="per tenant")
    parser.add_argument("--users", type=int, default=100_000, help="per tenant")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--eval-users", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--suites",
        default="",
        help="comma-separated prefixes of suites to run (default: all), e.g. baseline,similar",
    )
    parser.add_argument("--reuse", action="store_true", help="keep data already loaded")
    parser.add_argument(
        "--skip-training",
        action="store_true",
        help="serve the active version and report its stored training record",
    )
    args = parser.parse_args()

    load_before = os.getloadavg()
    tenants, dataset = retrieval_dataset(items=args.items, tenants=args.tenants, reuse=args.reuse)
    centres = centre_count(args.items)
    for index, bench in enumerate(tenants):
        assignment, _, _ = item_plan(args.items, centres, index)
        dataset["load"][bench.tenant.slug] = {
            "catalog": dataset["load"][bench.tenant.slug],
            **load_events(
                bench.tenant,
                item_pks=np.array(item_ids(bench.tenant), dtype=np.int64),
                assignment=assignment,
                users=args.users,
                interactions=args.interactions,
                seed=30_000 + index,
                reuse=args.reuse,
            ),
        }
    bench = tenants[0]
    with tenant_scope(bench.tenant):
        config_save(
            tenant=bench.tenant,
            data={"training": {"eval_users": args.eval_users, "retrain_every_hours": 0}},
            note="serving benchmark",
        )
    log(f"{bench.tenant.slug}: training")
    training = train(bench, reuse_version=args.skip_training)
    log(f"trained {training['version']} in {training['wall_s']} s: {training['fit_seconds']}")
    serving = serve(
        bench,
        args.users,
        args.items,
        args.requests,
        args.clients,
        args.workers,
        args.seed,
        tuple(name.strip() for name in args.suites.split(",") if name.strip()),
    )
    run = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "dataset": {
            **dataset,
            "users_per_tenant": args.users,
            "interactions_per_tenant": args.interactions,
        },
        "gunicorn_workers": args.workers,
        "targets": TARGETS,
        "training": training,
        "serving": serving,
    }
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    results["runs"][f"{args.items}x{args.tenants}"] = run
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_table(run)
    log(f"saved {RESULTS}")


def print_table(run: dict[str, Any]) -> None:
    print()
    print(f"{'suite':32} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s 1':>8} {'req/s N':>8}")
    for name, row in run["serving"].items():
        one = row["one_client"]
        many = next(value for key, value in row.items() if key.endswith("_clients"))
        print(
            f"{name:32} {one['p50_ms']:>8} {one['p95_ms']:>8} {one['p99_ms']:>8}"
            f" {one['requests_per_s']:>8} {many['requests_per_s']:>8}"
        )
    training = run["training"]
    if training:
        print(f"\ntraining {training['wall_s']} s; stages {training['timings']}")
        print(f"fit seconds per source: {training['fit_seconds']}")
        print(f"implicit ALS fitted directly: {training['implicit_als_direct_s']} s")
        rows = training["metrics"].get("rows", {})
        print(f"\n{'source':14} {'recall':>8} {'ndcg':>8} {'map':>8} {'hit':>8} {'cov':>8}")
        for name, row in rows.items():
            print(
                f"{name:14} {row['recall']:>8} {row['ndcg']:>8} {row['map']:>8}"
                f" {row['hit_rate']:>8} {row['coverage']:>8}"
            )


if __name__ == "__main__":
    main()
