"""The processes of reading a big dataset: a pool of fresh interpreters that all run one
function with one context, how many of them this machine and its container allow, and how
a long read ends on SIGTERM.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from multiprocessing import get_context
from pathlib import Path
from tempfile import TemporaryDirectory
from types import FrameType
from typing import Any, Concatenate, ParamSpec, TypeVar

# Event files below this many bytes in all (about 30,000 events) are parsed in this
# process: starting workers (about a second of CPU each) would save little or nothing.
PARALLEL_BYTES = 32_000_000

CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max <period>"

C = TypeVar("C")
R = TypeVar("R")
P = ParamSpec("P")


def default_workers(paths: Sequence[Path]) -> int:
    """One worker per usable core once `paths` are big enough to be worth it, else 0."""
    size = 0
    for path in paths:
        with suppress(OSError):  # reported when the file is read
            size += path.stat().st_size
    cores = usable_cores()
    return min(cores, len(paths)) if size >= PARALLEL_BYTES and cores > 1 else 0


def usable_cores() -> int:
    """The cores this process may use: those it may run on, and no more than a container's
    CPU quota (`docker run --cpus 2` on a 64-core host is 2, not 64 workers' memory)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    with suppress(OSError, ValueError):
        quota, period = CPU_MAX.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))
    return cores


@contextmanager
def worker_pool(
    function: Callable[Concatenate[C, P], R], context: C, workers: int
) -> Iterator[Callable[P, Future[R]]]:
    """`submit(*args)`, which runs `function(context, *args)` in one of `workers` processes
    (0: here, at once). `function` must be importable by name; workers are started fresh
    ("spawn", safe whatever threads this process runs), so a script using them needs the
    usual `if __name__ == "__main__":` guard."""
    if not workers:

        def here(*args: P.args, **kwargs: P.kwargs) -> Future[R]:
            future: Future[R] = Future()
            future.set_result(function(context, *args, **kwargs))
            return future

        yield here
        return
    with TemporaryDirectory(prefix="timeline-workers-") as folder:
        # Workers read the context from a file: what a new process is sent must stay far
        # below a pipe's 64 KiB, or this process would wait forever on a worker that died
        # starting.
        saved = Path(folder) / "context.pickle"
        with saved.open("wb") as handle:
            pickle.dump((function, context), handle, protocol=pickle.HIGHEST_PROTOCOL)
        pool = ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_start, initargs=(saved,)
        )
        try:

            def submit(*args: P.args, **kwargs: P.kwargs) -> Future[R]:
                return pool.submit(_run, *args, **kwargs)

            yield submit
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


_job: tuple[Callable[..., Any], Any] | None = None  # a worker's function and context


def _start(saved: Path) -> None:
    global _job
    with saved.open("rb") as handle:
        _job = pickle.load(handle)
    gc.disable()  # see no_gc; a worker lives only as long as the read


def _run(*args: Any, **kwargs: Any) -> Any:
    assert _job is not None
    function, context = _job
    return function(context, *args, **kwargs)


@contextmanager
def no_gc() -> Iterator[None]:
    """No cyclic garbage collection: reading makes millions of new, acyclic objects, which
    the collector would rescan over and over."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Make SIGTERM end a load as Ctrl-C does: an exception, so the load rolls back, the
    workers stop and the spool is deleted (by default the process would just die, leaving
    both behind). Only in the main thread, where Python runs signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
