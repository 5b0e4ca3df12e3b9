"""What the rate limiter adds to a request: the token-bucket script (key and tenant buckets) and
the failed-auth check, against a Redis PING on the same connection, measured in the same run.

    python benchmarks/rate_limit_overhead.py [--calls 5000]    (seconds)

Uses the Redis of the data folder (RECSYS_DATA_DIR, default .data-bench) and in-memory tenants
and keys (no database rows). Prints a table and saves benchmarks/results/rate_limit_overhead.json.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsys_platform.settings")
os.environ.setdefault("RECSYS_DATA_DIR", str(ROOT / ".data-bench"))

import django  # noqa: E402

django.setup()

from tenants import ratelimit  # noqa: E402
from tenants.models import ApiKey, Tenant  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "rate_limit_overhead.json"


def timed(call: Callable[[], object], calls: int) -> dict[str, float]:
    for _ in range(200):  # warm the connection and the script cache
        call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    return {
        "mean_us": round(statistics.fmean(samples), 1),
        "p50_us": round(samples[len(samples) // 2], 1),
        "p99_us": round(samples[int(len(samples) * 0.99)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    # Limits far above the calls made, so every call takes the allowed path.
    tenant = Tenant(
        pk=10**9,
        slug="bench",
        rate_limit_key_per_s=1e6,
        rate_limit_key_burst=10**9,
        rate_limit_tenant_per_s=1e6,
        rate_limit_tenant_burst=10**9,
    )
    key = ApiKey(prefix="benchkey", tenant=tenant)
    client = ratelimit._client()
    results = {
        "baseline_ping": timed(client.ping, args.calls),
        "token_buckets": timed(lambda: ratelimit.acquire(key), args.calls),
        "auth_failure_check": timed(lambda: ratelimit.auth_blocked_for("benchkey"), args.calls),
    }
    # Only the benchmark's own buckets: live ones in the same Redis stay.
    client.delete(
        f"{ratelimit._NAMESPACE}key:benchkey", f"{ratelimit._NAMESPACE}tenant:{tenant.pk}"
    )
    overhead = results["token_buckets"]["p50_us"] + results["auth_failure_check"]["p50_us"]
    report = {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "calls": args.calls,
        "results": results,
        "per_request_p50_us": round(overhead, 1),
        "per_request_p50_vs_ping": round(overhead / results["baseline_ping"]["p50_us"], 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for name, row in results.items():
        mean, p50, p99 = row["mean_us"], row["p50_us"], row["p99_us"]
        print(f"{name:20} mean {mean:8} us  p50 {p50:8} us  p99 {p99:8} us")
    print(f"per request (p50): {overhead:.1f} us = {report['per_request_p50_vs_ping']}x a PING")


if __name__ == "__main__":
    main()
