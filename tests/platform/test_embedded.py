"""The embedded servers: reused when running, restarted after an unclean stop."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from recsys_platform import embedded


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} did not exit")


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    yield folder
    embedded.stop_embedded(folder)


def test_postgres_starts_is_reused_and_survives_a_crash(data_dir: Path) -> None:
    host = embedded.ensure_postgres(data_dir, "probe")
    first_pid = _postmaster_pid(data_dir)
    assert embedded.ensure_postgres(data_dir, "probe") == host
    assert _postmaster_pid(data_dir) == first_pid  # reused, not restarted

    os.kill(first_pid, signal.SIGKILL)  # an unclean stop leaves a stale postmaster.pid
    _wait_gone(first_pid)
    host = embedded.ensure_postgres(data_dir, "probe")
    assert _postmaster_pid(data_dir) != first_pid
    with psycopg.connect(host=str(host), user="postgres", dbname="probe") as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        distance = conn.execute("SELECT '[1,0]'::vector <=> '[0,1]'::vector").fetchone()
    assert distance == (1.0,)


def test_redis_starts_is_reused_and_survives_a_crash(data_dir: Path) -> None:
    url = embedded.ensure_redis(data_dir)
    socket_path = url.removeprefix("redis+socket://")
    client = redis.Redis(unix_socket_path=socket_path)
    client.set("probe", "kept")
    pid = int(client.info()["process_id"])
    assert embedded.ensure_redis(data_dir) == url
    assert int(client.info()["process_id"]) == pid

    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid)
    assert embedded.ensure_redis(data_dir) == url
    restarted = redis.Redis(unix_socket_path=socket_path)
    assert int(restarted.info()["process_id"]) != pid
    assert restarted.ping()


def test_postgres_starts_with_our_tuning_and_the_override(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECSYS_PG_SHARED_BUFFERS_MB", "160")
    host = embedded.ensure_postgres(data_dir, "probe")
    with psycopg.connect(host=str(host), user="postgres", dbname="probe") as conn:
        assert conn.execute("SHOW shared_buffers").fetchone() == ("160MB",)
    # Started again, the include is not repeated.
    embedded.ensure_postgres(data_dir, "probe")
    conf = (data_dir / "postgres" / "postgresql.conf").read_text()
    assert conf.count(embedded.TUNING_FILE) == 1


def test_shared_buffers_are_a_quarter_of_memory_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RECSYS_PG_SHARED_BUFFERS_MB", raising=False)
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    expected = min(
        embedded.SHARED_BUFFERS_MAX_MB, max(embedded.SHARED_BUFFERS_MIN_MB, memory_mb // 4)
    )
    assert embedded.shared_buffers_mb() == expected
    monkeypatch.setenv("RECSYS_PG_SHARED_BUFFERS_MB", "8")
    assert embedded.shared_buffers_mb() == embedded.SHARED_BUFFERS_MIN_MB
