"""Which process runs a job's attempt, and whether that process is gone.

A worker process killed mid-job (OOM, SIGKILL of a prefork child) has its message re-delivered by
Celery at once (`task_reject_on_worker_lost`), while the job's heartbeat is still fresh. Waiting
for the heartbeat to go stale would cost the stale threshold; instead the attempt records its
owner, and a runner on the same machine, in the same PID namespace, can tell for certain that the
owner is dead: its PID is gone or belongs to a process started later.

Guarantees: `owner_is_gone` answers True only when it can prove the owner dead. On another machine
or PID namespace, or without /proc, it answers False, and the stale heartbeat decides as before.
"""

import os
import socket
from contextlib import suppress
from functools import cache
from pathlib import Path


def _read(path: str) -> str:
    with suppress(OSError):
        return Path(path).read_text().strip()
    return ""


@cache
def _machine() -> str:
    """This kernel boot and PID namespace, plus the host name; '' where /proc is missing.

    PIDs compare only within one PID namespace of one boot: containers on one host share the
    boot id but not the namespace, so both are in the key.
    """
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    if not boot:
        return ""
    return f"{socket.gethostname()}|{boot}|{namespace}"


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); '' if
    there is no such process or it has exited (a zombie not yet reaped). It tells a PID's owner
    from a later process given the same PID."""
    stat = _read(f"/proc/{pid}/stat")
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in {"Z", "X"}:
        return ""
    return fields[19]


def current_owner() -> str:
    """This process as a job's owner: machine, PID and start time; '' where it cannot be told."""
    machine = _machine()
    if not machine:
        return ""
    pid = os.getpid()
    return f"{machine}|{pid}|{_start_ticks(pid)}"


def owner_is_gone(owner: str) -> bool:
    """True only when `owner` (from `current_owner`) is a process of this machine that has ended."""
    parts = owner.rsplit("|", 2)
    if len(parts) != 3 or not parts[0] or parts[0] != _machine():
        return False
    pid_text, started = parts[1], parts[2]
    if not pid_text.isdigit() or not started:
        return False
    return _start_ticks(int(pid_text)) != started
