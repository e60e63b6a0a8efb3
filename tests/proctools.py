"""The process table (Linux /proc): a process's children, and whether a process still runs."""

from __future__ import annotations

import time
from pathlib import Path


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state first, then the parent's pid)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat_fields(stat.parent.name)
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return _stat_fields(pid)[0] != "Z"
    except OSError:
        return False


def gone_within(pids: list[int] | set[int], seconds: float) -> bool:
    """Whether every one of ``pids`` has stopped running within ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        if not any(running(p) for p in pids):
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.02)
