"""Real Celery processes (worker, beat) over this test run's database and broker, and control of
the embedded Redis: what the fault tests start, kill and restart."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from recsys_platform import embedded
from recsys_platform.celery import app as celery_app


class StartCelery(Protocol):
    """Start `celery SUBCOMMAND ARGS` as process NAME with extra environment variables."""

    def __call__(
        self, name: str, args: Sequence[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]: ...


def celery_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a Celery process that talks to this test's database and broker."""
    env = dict(os.environ)
    test_db = connection.settings_dict["NAME"]
    if env.get("DATABASE_URL"):
        parts = urlsplit(env["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{test_db}"))
    else:
        # The embedded server of RECSYS_DATA_DIR (inherited), under the test database's name.
        env["RECSYS_EMBEDDED_DB_NAME"] = test_db
    env.update(
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        HF_HUB_OFFLINE="1",
        # Two cores on the test machine: the worker and this test's polling share them.
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
    )
    env.update(extra or {})
    return env


@pytest.fixture
def start_celery(tmp_path: Path) -> Iterator[StartCelery]:
    """Start Celery processes (each in its own process group); all killed at the end, and their
    logs printed (pytest shows them when the test fails)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        name: str, args: Sequence[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        extra = ["--loglevel=INFO"]
        if args[0] == "worker":
            extra += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
            extra += ["--without-heartbeat"]
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "recsys_platform", *args, *extra],
            cwd=settings.BASE_DIR,
            env=celery_env(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        started.append(process)
        return process

    celery_app.control.purge()
    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}")


def _redis_pid() -> int:
    text = (settings.RECSYS_DATA_DIR / "redis" / "redis.pid").read_text().strip()
    return int(text)


def embedded_redis_stop() -> None:
    """Stop the embedded Redis (SIGTERM, as an operator would) and wait until it is gone."""
    if os.environ.get("CELERY_BROKER_URL"):
        pytest.skip("the broker is not the embedded Redis; this test stops and starts it")
    pid = _redis_pid()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            pytest.fail("the embedded Redis did not stop")
        time.sleep(0.05)


def embedded_redis_start() -> None:
    """Start the embedded Redis again, on the same socket and data (append-only file)."""
    embedded.ensure_redis(settings.RECSYS_DATA_DIR)
