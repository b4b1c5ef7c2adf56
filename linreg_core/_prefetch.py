"""Streaming on every core: the next file or chunk is read while the current one is factored.

Reading (Arrow's and pandas' parsers, file I/O) and factoring (LAPACK, numpy) let go of the GIL for most of their
time, so threads overlap them without copies between processes. Results come back in the input's order, so the
statistics combine in the same order, to the same digits, however the work was scheduled; and the first error in
that order is the one raised, as when the work ran one item at a time.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["ordered_map", "prefetched", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")


def worker_count() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` threads (default: every core), in order, with at most ``workers + 1`` items
    in flight: memory stays a few items' worth however many there are."""
    workers = workers or worker_count()
    if workers == 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="linreg-stream")
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # an error or an early stop: what has not started is dropped, what runs finishes
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


_DONE = object()


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items`` produced by a thread of its own, up to ``depth`` ahead of the consumer (one chunk of a CSV parsed
    while the one before is factored). An error while producing is raised at its place in the sequence."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, who raises it
            slots.put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's own clean-up (its open file) runs here, in the thread that ran it

    thread = threading.Thread(target=produce, name="linreg-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = slots.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a producer waiting on a full queue see the stop
            try:
                slots.get(timeout=0.1)
            except queue.Empty:
                pass
        thread.join()
