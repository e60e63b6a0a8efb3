"""Chunks of patients on a Dask cluster: the client, and the chunks' results in the run's order.

``dask`` is what a user gives: a ``distributed.Client``, a scheduler address ("tcp://host:8786") or
"local" (a cluster of one worker process per core on this machine, closed when the run ends).
:func:`in_order` runs one function over a run's chunks, here or on the workers, and hands the
results back in chunk order, with at most a few chunks in flight, so the caller's memory holds a
bounded number of chunks whatever the run's size. The workers run the same function as a local run,
so the results are the same, bit for bit.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .._internal.processes import kill, pool_worker, usable_cores
from .._internal.text import quote
from ..errors import OptionError

__all__ = ["connected", "in_order", "describe", "LocalProcesses", "local_workers", "CONNECT_TIMEOUT_S",
           "CHUNKS_PER_WORKER"]

T = TypeVar("T")

#: s: how long a scheduler address is tried before the run stops with an error
CONNECT_TIMEOUT_S = 10
#: chunks in flight per worker: one computing, one waiting (the caller holds at most this many per worker)
CHUNKS_PER_WORKER = 2


def describe(dask: Any) -> str | None:
    """What ran the chunks, for provenance: None (here), "local", the address, or "client"."""
    if dask is None:
        return None
    return dask if isinstance(dask, str) else "client"


@contextlib.contextmanager
def connected(dask: Any) -> Iterator[Any]:
    """A Dask client for ``dask`` (None yields None: run here); a client or local cluster opened here
    is closed on leaving, a Client given is left open."""
    if dask is None:
        yield None
        return
    if hasattr(dask, "submit"):
        yield dask
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dask extra is installed with dev
        raise OptionError("running on Dask needs the 'distributed' package; install mschemo[dask].") from None
    if not isinstance(dask, str) or not dask.strip():
        raise OptionError(f"dask {dask!r} is not a cluster; give a scheduler address such as tcp://host:8786, "
                          "'local' or a distributed.Client.")
    address = dask.strip()
    cluster = None
    if address == "local":
        # ":0": any free port (the scheduler's web server starts even without a dashboard, and two
        # clusters on the default port would clash)
        cluster = LocalCluster(n_workers=max(1, os.cpu_count() or 2), threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
        from ..backends.compiled import share_cores

        client.run(share_cores, 1)      # a worker per core: one kernel thread each, as for local processes
    else:
        try:
            client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except ValueError as exc:
            raise OptionError(f"dask address {quote(address, 40)} is not a scheduler address ({quote(exc, 60)}); give one such as "
                              "tcp://host:8786, or 'local' for a cluster on this machine.") from None
        except OSError:
            raise OptionError(f"no Dask scheduler answers at {quote(address, 40)} within {CONNECT_TIMEOUT_S} s; give a running "
                              "scheduler's address, or 'local' for a cluster on this machine.") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def local_workers(workers: int | None, n_chunks: int) -> int:
    """Worker processes for a run of ``n_chunks`` chunks on this machine: as asked, else one per core
    this process may use (one when there is a single chunk)."""
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise OptionError(f"workers = {workers!r}; give a whole number of processes >= 1, or leave it out for "
                              "one per core.")
        return min(workers, max(1, n_chunks))
    return max(1, min(usable_cores(), n_chunks))


def _worker_start(threads: int) -> None:
    """A worker process's start: :func:`pool_worker`, then its share of the cores for the compiled
    kernel's threads (two workers on two cores: one thread each, not two threads each competing)."""
    pool_worker()
    from ..backends.compiled import share_cores

    share_cores(threads)


class LocalProcesses:
    """Worker processes on this machine, with the few methods of a Dask client :func:`in_order` uses
    (forked where the platform can, so a worker starts with the parent's modules and compiled kernel;
    from a fork server once JAX is loaded, as JAX's threads make a fork of this process unsafe; else
    spawned). Use as a context manager: leaving it normally waits for the chunks still running; leaving
    it on an error or an interrupt kills the workers at once. A worker also ends when this process does,
    however that happens (:func:`~mschemo._internal.processes.pool_worker`)."""

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        method = "fork" if "fork" in methods else "spawn"
        if method == "fork" and "jax" in sys.modules:
            method = "forkserver" if "forkserver" in methods else "spawn"
        self.workers = int(workers)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                         initializer=_worker_start, initargs=(max(1, usable_cores() // self.workers),))

    def submit(self, fn: Callable[..., T], *args: Any, pure: bool = False) -> Any:
        return self._pool.submit(fn, *args)

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": dict.fromkeys(range(self.workers))}

    def cancel(self, futures: list) -> None:
        for f in futures:
            f.cancel()

    def __enter__(self) -> LocalProcesses:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            return
        # an error or a signal: the chunks still queued or running are not wanted, and waiting for them
        # could take long (or forever, if the signal landed inside the pool's own bookkeeping)
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        writer = getattr(getattr(self._pool, "_result_queue", None), "_writer", None)
        self._pool.shutdown(wait=False, cancel_futures=True)   # first: the pool forgets the queued chunks
        kill(processes)
        # a worker killed while it sent a chunk's result leaves the pool's thread reading the rest of the
        # message, and this process holds the pipe's other end: closing it gives that read an end of
        # file, so the thread stops (else the interpreter would wait for it forever at exit)
        if writer is not None:
            with contextlib.suppress(OSError):
                writer.close()


@contextlib.contextmanager
def chunk_client(dask: Any, workers: int | None, n_chunks: int) -> Iterator[tuple[Any, int]]:
    """Where the chunks of a run go, and how many processes on this machine run them: a Dask client for
    ``dask`` (:func:`connected`), else worker processes (:class:`LocalProcesses`, :func:`local_workers`),
    else None (here, for one worker). For use with :func:`in_order`."""
    n_workers = 1 if dask is not None else local_workers(workers, n_chunks)
    with connected(dask) as client, (LocalProcesses(n_workers) if n_workers > 1
                                     else contextlib.nullcontext()) as pool:
        yield (client if client is not None else pool), n_workers


def in_order(fn: Callable[..., T], tasks: Iterable[tuple], client: Any = None) -> Iterator[T]:
    """``fn(*task)`` for each task, yielded in the tasks' order: one after another here (client None),
    or on the client's workers with at most :data:`CHUNKS_PER_WORKER` per worker in flight. Tasks are
    read lazily; chunks still in flight are cancelled when the caller stops early or a chunk fails."""
    if client is None:
        for task in tasks:
            yield fn(*task)
        return
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = CHUNKS_PER_WORKER * workers
    todo = iter(tasks)
    queue: deque = deque(client.submit(fn, *task, pure=False) for task in itertools.islice(todo, max(1, window - 1)))
    try:
        while queue:
            fut = queue.popleft()     # awaited below, with the next chunk submitted: `window` in flight
            nxt = next(todo, None)
            if nxt is not None:
                queue.append(client.submit(fn, *nxt, pure=False))
            yield _take(fut)     # not bound to a name: the caller alone holds the result
    finally:
        if queue:
            client.cancel(list(queue))


def _take(fut: Any) -> Any:
    """A finished chunk's result, let go on the cluster."""
    result = fut.result()
    if hasattr(fut, "release"):    # a Dask future (a local process's future holds nothing more)
        fut.release()
    return result
