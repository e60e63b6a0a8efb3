"""Worker processes that never outlive the process that started them.

A run's workers are killed when the run stops on an error or a signal, and end on their own when the
process that started them is gone (killed with SIGKILL, say), so that none is left computing, or
waiting on a queue forever, with its parent's pipes held open."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["exit_with_parent", "machine_memory_bytes", "pool_worker", "kill", "usable_cores"]

#: s: how often a worker without PR_SET_PDEATHSIG checks that its parent still runs
PARENT_CHECK_S = 0.5
#: prctl option: the signal this process gets when the thread that started it ends (linux/prctl.h)
_PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    """The cores this process may use (its CPU affinity where the platform has one), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)   # pragma: no cover - not on Linux


def machine_memory_bytes() -> int:
    """This machine's physical memory (bytes); 16 GiB where the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):   # pragma: no cover - not POSIX
        return 16 * 2**30


def exit_with_parent(parent: int) -> None:
    """In a worker: end this process when process ``parent`` is gone (killed without its shutdown).
    A thread checks every :data:`PARENT_CHECK_S` s, whichever thread of the parent started the worker."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def pool_worker() -> None:
    """Initializer of a run's worker processes.

    - SIGTERM ends the worker; SIGINT (Ctrl+C, sent to the whole process group) is left to the run,
      which stops its workers itself. A forked worker would otherwise run the run's handlers.
    - The worker ends with the process that started it: the run's process, or the fork server that
      the run started (which ends with the run). On Linux the kernel kills the worker at once when that
      process's thread that started it ends, even while it computes in compiled code
      (PR_SET_PDEATHSIG); elsewhere :func:`exit_with_parent` does.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if parent == 1:               # the parent ended before this worker got here
        os._exit(0)
    if not (sys.platform.startswith("linux") and _die_with_parent()):
        exit_with_parent(parent)
    if os.getppid() != parent:    # the parent ended before the line above took effect
        os._exit(0)


def _die_with_parent() -> bool:
    """PR_SET_PDEATHSIG with SIGKILL for this process; whether it took effect."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):   # pragma: no cover - no prctl in this C library
        return False


def kill(processes: Iterable[Any]) -> None:
    """SIGKILL each process still running (``multiprocessing`` process objects), then reap it."""
    processes = list(processes)
    for p in processes:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.kill()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=1.0)
