"""Ingestion throughput: batch API and import command, each next to psycopg COPY of the same rows.

    python benchmarks/ingest_throughput.py [--rows 200000] [--batch 1000] [--clients 2]

Baseline: COPY of the same interaction rows (ids already resolved) into the same table, with the
same indexes, measured in the same run. Targets: API >= 0.25x COPY, command >= 0.5x COPY.
Prints a table and saves benchmarks/results/ingest_throughput.json.
"""

import argparse
import csv
import datetime
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recsys_platform.settings")
os.environ.setdefault("RECSYS_DATA_DIR", str(ROOT / ".data-bench"))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from recommender.services.ingest.batches import items_upsert_batch  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import api_key_create  # noqa: E402

N_ITEMS = 10_000
N_USERS = 5_000
TYPES = ["view", "click", "cart", "purchase"]


def make_rows(count: int, tag: str) -> list[dict]:
    start = datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC)
    return [
        {
            "user": f"u-{(i * 7919) % N_USERS}",
            "item": f"sku-{(i * 104729) % N_ITEMS}",
            "type": TYPES[i % 4],
            "value": 1.0,
            "timestamp": (start + datetime.timedelta(seconds=i)).isoformat(),
            "event_id": f"{tag}-{i}",
        }
        for i in range(count)
    ]


def fresh_tenant(slug: str) -> Tenant:
    Tenant.objects.filter(slug=slug).delete()
    tenant = Tenant.objects.create(slug=slug, name=slug)
    items = [{"id": f"sku-{i}", "title": f"Item {i}"} for i in range(N_ITEMS)]
    for start in range(0, N_ITEMS, 5000):
        items_upsert_batch(tenant=tenant, payload={"items": items[start : start + 5000]})
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO recommender_enduser (tenant_id, external_id, attributes, profile_text,"
            " created_at, updated_at) SELECT %s, 'u-' || g, '{}', '', now(), now()"
            " FROM generate_series(0, %s) g",
            [tenant.pk, N_USERS - 1],
        )
    return tenant


def interaction_count(tenant: Tenant) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM recommender_interaction WHERE tenant_id = %s", [tenant.pk]
        )
        return int(cursor.fetchone()[0])


def bench_copy(rows: list[dict]) -> float:
    tenant = fresh_tenant("bench-copy")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT external_id, id FROM recommender_item WHERE tenant_id=%s", [tenant.pk]
        )
        item_ids = dict(cursor.fetchall())
        cursor.execute(
            "SELECT external_id, id FROM recommender_enduser WHERE tenant_id=%s", [tenant.pk]
        )
        user_ids = dict(cursor.fetchall())
    records = [
        (
            tenant.pk,
            user_ids[r["user"]],
            item_ids[r["item"]],
            r["type"],
            r["value"],
            datetime.datetime.fromisoformat(r["timestamp"]),
            r["event_id"],
        )
        for r in rows
    ]
    raw = connection.connection
    started = time.perf_counter()
    with (
        raw.cursor() as cursor,
        cursor.copy(
            "COPY recommender_interaction (tenant_id, user_id, item_id, type, value, timestamp,"
            " event_id, received_at) FROM STDIN"
        ) as copy,
    ):
        now = datetime.datetime.now(datetime.UTC)
        for record in records:
            copy.write_row((*record, now))
    raw.commit()
    elapsed = time.perf_counter() - started
    assert interaction_count(tenant) == len(rows)
    return len(rows) / elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_api(rows: list[dict], batch: int, clients: int) -> float:
    tenant = fresh_tenant("bench-api")
    _, raw_key = api_key_create(tenant=tenant)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "recsys_platform.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(clients),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        bodies = [
            json.dumps({"interactions": rows[s : s + batch]}).encode()
            for s in range(0, len(rows), batch)
        ]
        headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
        # Warm up each gunicorn worker (imports, connections) outside the timed part.
        for _ in range(clients * 2):
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("GET", "/api/v1/items?limit=1", headers=headers)
            conn.getresponse().read()
            conn.close()
        failures: list[str] = []

        def send(chunk: list[bytes]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            for body in chunk:
                conn.request("POST", "/api/v1/interactions/batch", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                if response.status != 200:
                    failures.append(payload.decode()[:300])
            conn.close()

        threads = [
            threading.Thread(target=send, args=(bodies[i::clients],)) for i in range(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    if failures:
        raise SystemExit(f"API batches failed: {failures[:3]}")
    assert interaction_count(tenant) == len(rows)
    return len(rows) / elapsed


def bench_command(rows: list[dict]) -> float:
    tenant = fresh_tenant("bench-cmd")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        path = handle.name
    try:
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "import_file",
                "--tenant",
                tenant.slug,
                "--kind",
                "interactions",
                path,
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - started
    finally:
        os.unlink(path)
    assert interaction_count(tenant) == len(rows)
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2, help="concurrent API clients / workers")
    parser.add_argument("--skip-command", action="store_true")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    rows = make_rows(args.rows, "e")
    results = {"copy": bench_copy(rows)}
    results["api"] = bench_api(rows, args.batch, args.clients)
    if not args.skip_command:
        results["command"] = bench_command(rows)
    for slug in ("bench-copy", "bench-api", "bench-cmd"):
        Tenant.objects.filter(slug=slug).delete()

    copy_rate = results["copy"]
    report = {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "batch": args.batch,
        "clients": args.clients,
        "cpu_count": os.cpu_count(),
        "rows_per_second": {k: round(v) for k, v in results.items()},
        "ratio_to_copy": {k: round(v / copy_rate, 3) for k, v in results.items()},
        "targets": {"api": 0.25, "command": 0.5},
    }
    print(f"{'method':<10}{'rows/s':>12}{'x COPY':>9}{'target':>9}")
    for name, rate in results.items():
        target = report["targets"].get(name)
        shown = "" if target is None else f">={target}"
        print(f"{name:<10}{rate:>12,.0f}{rate / copy_rate:>9.2f}{shown:>9}")
    out = ROOT / "benchmarks" / "results" / "ingest_throughput.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
