"""`scripts/_supervise.sh`, which up.sh runs worker, beat and web under: a supervised process that
dies is started again, and stopping the supervisor stops its process too.

A real bash runs the real function over a `sleep`, the cheapest process to kill."""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

TIMEOUT_S = 20


def _running(pid: int) -> bool:
    """A process that exists and has not exited (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}


def _wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.05)


def _pid(pidfile: Path) -> int:
    text = pidfile.read_text().strip() if pidfile.exists() else ""
    return int(text) if text.isdigit() else 0


def test_a_dead_process_is_started_again_and_a_stop_ends_it(tmp_path: Path) -> None:
    script = settings.BASE_DIR / "scripts" / "_supervise.sh"
    # As up.sh runs it: strict mode, in the background of a bash.
    supervisor = subprocess.Popen(
        ["bash", "-c", f"set -euo pipefail; source '{script}'; supervise sleeper sleep 300"],
        env={**os.environ, "SUPERVISE_DIR": str(tmp_path)},
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    pidfile = tmp_path / "sleeper.pid"
    try:
        _wait_for("the process is started", lambda: _running(_pid(pidfile)))
        first = _pid(pidfile)

        os.kill(first, signal.SIGKILL)

        _wait_for(
            "a new process is started",
            lambda: _pid(pidfile) not in (0, first) and _running(_pid(pidfile)),
        )
        second = _pid(pidfile)
        assert not _running(first)
        assert supervisor.poll() is None

        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=TIMEOUT_S)
        _wait_for("the supervised process is stopped", lambda: not _running(second))
        assert _pid(pidfile) == second  # stopped, not started a third time
        assert supervisor.stderr is not None
        assert "supervise: sleeper exited with status 137" in supervisor.stderr.read().decode()
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait(timeout=10)
        for pid in (_pid(pidfile),):
            if pid and _running(pid):
                os.kill(pid, signal.SIGKILL)
