"""Training time at 100,000 items and 1,000,000 interactions: with tuning against without.

Issue 11's target: the whole training with tuning at its default budget takes at most 2x the
training as it was before learned fusion (282 s then, on this machine). That baseline is measured
here in the same run, on the same data: the configuration with the learned ranker off
(`fusion.ranker: off`) and tuning off (`training.tuning_budget_s: 0`), i.e. weighted fusion as it
was. Then the default configuration (ranker `auto`, tuning at its default budget) trains on the
same tenant. Both are `train_tenant`, the code the `gpu` queue's worker runs, in-process.

Each training records its stages (load, offline evaluation, learned fusion and tuning, fit,
store); the store step is issue 12's figure too (225 of 282 s before the vector partitions).

Data: the serving benchmark's tenants (`_bench_data.retrieval_dataset`, two tenants of the same
size sharing the tables; `_bench_events.load_events`), reused from `.data-bench` when present.

    python benchmarks/training_time.py                       # 100,000 items, 1,000,000 events
    python benchmarks/training_time.py --items 20000 --interactions 200000 --users 20000

Results: benchmarks/results/training_time.json (one entry per size).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import _bench_data  # noqa: F401  (sets up Django and the benchmarks' data folder first)
import numpy as np
from _bench_data import centre_count, item_ids, item_plan, retrieval_dataset
from _bench_events import load_events
from retrieval_latency import machine_info

from recommender.services.config import active_config, config_save
from recommender.services.training.train import train_tenant
from tenants.scoping import tenant_scope

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "training_time.json"
TARGET_RATIO = 2.0
BEFORE_ISSUE_11_S = 282.0  # README, issue 10's run at 100,000 items (not this run)

BASELINE = {"fusion": {"ranker": "off"}, "training": {"tuning_budget_s": 0}}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def merged(config: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`config` with `changes` applied section by section (a saved version is whole)."""
    return {
        **config,
        **{section: {**config.get(section, {}), **values} for section, values in changes.items()},
    }


def train_with(tenant: Any, changes: dict[str, Any], note: str) -> dict[str, Any]:
    """Save `changes` over the tenant's configuration, train once, return its record."""
    with tenant_scope(tenant):
        config = merged(active_config(tenant), changes)
        config_save(tenant=tenant, data=config, note=note)
        load_before = os.getloadavg()
        started = time.perf_counter()
        version = train_tenant(tenant=tenant)
        wall = time.perf_counter() - started
    tuning = (version.metrics or {}).get("tuning") or {}
    return {
        "version": version.label,
        "fusion": {"ranker": config["fusion"]["ranker"]},
        "tuning_budget_s": config["training"]["tuning_budget_s"],
        "wall_s": round(wall, 1),
        "timings": {name: round(float(value), 2) for name, value in version.timings.items()},
        "fit_seconds": {name: info.get("fit_seconds") for name, info in version.sources.items()},
        "tuning": {key: value for key, value in tuning.items() if key != "history"},
        "ranker": (version.metrics or {}).get("ranker"),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000, help="items per tenant")
    parser.add_argument("--interactions", type=int, default=1_000_000, help="per tenant")
    parser.add_argument("--users", type=int, default=100_000, help="per tenant")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--eval-users", type=int, default=1000)
    parser.add_argument("--reuse", action="store_true", help="keep data already loaded")
    args = parser.parse_args()

    tenants, dataset = retrieval_dataset(items=args.items, tenants=args.tenants, reuse=args.reuse)
    centres = centre_count(args.items)
    for index, bench in enumerate(tenants):
        assignment, _, _ = item_plan(args.items, centres, index)
        load_events(
            bench.tenant,
            item_pks=np.array(item_ids(bench.tenant), dtype=np.int64),
            assignment=assignment,
            users=args.users,
            interactions=args.interactions,
            seed=30_000 + index,
            reuse=args.reuse,
        )
    tenant = tenants[0].tenant
    common = {"training": {"eval_users": args.eval_users, "retrain_every_hours": 0}}
    with tenant_scope(tenant):
        config = merged(active_config(tenant), common)
        config_save(tenant=tenant, data=config, note="training-time benchmark")

    log(f"{tenant.slug}: baseline training (ranker off, tuning off)")
    baseline = train_with(tenant, BASELINE, "baseline: weighted fusion, no tuning")
    log(f"baseline {baseline['wall_s']} s: {baseline['timings']}")
    log(f"{tenant.slug}: default training (ranker auto, tuning at its default budget)")
    defaults = train_with(
        tenant,
        {"fusion": {"ranker": "auto"}, "training": {"tuning_budget_s": 30}},
        "defaults: learned fusion, tuning",
    )
    log(f"defaults {defaults['wall_s']} s: {defaults['timings']}")

    ratio = defaults["wall_s"] / baseline["wall_s"]
    run = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "python benchmarks/training_time.py "
        f"--items {args.items} --interactions {args.interactions} --users {args.users}",
        "machine": machine_info(),
        "dataset": {
            **dataset,
            "items_per_tenant": args.items,
            "tenants": args.tenants,
            "users_per_tenant": args.users,
            "interactions_per_tenant": args.interactions,
            "eval_users": args.eval_users,
        },
        "baseline": baseline,
        "defaults": defaults,
        "defaults_over_baseline": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
        "before_issue_11_s": BEFORE_ISSUE_11_S,
    }
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    results["runs"][f"{args.items}x{args.tenants}"] = run
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print()
    print("| training | wall s | load | evaluate | learn fusion + tuning | fit | store |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, record in (("baseline", baseline), ("defaults", defaults)):
        t = record["timings"]
        print(
            f"| {name} | {record['wall_s']} | {t.get('load_s')} | {t.get('evaluate_s')} | "
            f"{t.get('learn_fusion_s', 0)} | {t.get('fit_s')} | {t.get('store_s')} |"
        )
    print(f"\ndefaults / baseline = {ratio:.2f} (target <= {TARGET_RATIO})")
    log(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
