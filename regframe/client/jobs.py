"""Runs batches of independent jobs on a few threads; an interrupt cancels what is still queued.

A :class:`JobRunner` starts ``max_workers`` threads per batch that take items
from one shared queue (or, given a transport's ``spawn``, as many greenlets on the
libcurl driver's thread: :mod:`regframe.client.green`).  The thread that called
:meth:`JobRunner.run` only waits and redraws progress a few times a second, instead
of waking for every finished job (which, for thousands of small requests, costs more
CPU than the requests' own Python code).

When that waiting thread is interrupted (``KeyboardInterrupt`` from Ctrl-C or a
notebook's kernel interrupt, or any other exception) the runner sets its
``cancel`` event: workers take no further item, the
:class:`~regframe.client.transport.Transport` sharing the event refuses new
requests and retries, and the runner waits at most ``grace`` seconds for the
requests already on the wire before re-raising.  Workers are daemon threads,
so one stuck on a dead connection never keeps the interpreter alive.  Nothing
a worker leaves half done can corrupt the digest cache: its writes are atomic
and every read re-hashes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from regframe.client import green
from regframe.client.progress import Progress

__all__ = ["JobRunner"]

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Seconds an idle worker thread waits for another batch before it ends.
IDLE = 1.0


class JobRunner:
    """Runs ``job(item)`` for every item of a batch on up to ``max_workers`` threads.

    Jobs handle their own expected failures (a tag that cannot be read becomes
    that tag's error); anything a job raises is a bug and is re-raised by
    :meth:`run` once the batch has stopped.

    Parameters
    ----------
    max_workers
        Threads per batch.
    progress
        Counts one step per finished job (``None``: count nothing).
    cancel
        Set on interrupt; share it with the transport so in-flight requests are
        not retried and queued ones are not sent.
    grace
        Seconds to wait, after an interrupt, for the requests already sent.
    poll
        Seconds between progress redraws while waiting.
    spawn
        Runs one of the batch's workers as a greenlet (a transport's
        :meth:`~regframe.client.transport.Transport.spawner`); ``None``: threads.

    Examples
    --------
    >>> done = []
    >>> JobRunner(4).run(range(10), done.append)
    >>> sorted(done) == list(range(10))
    True
    """

    def __init__(
        self,
        max_workers: int,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        grace: float = 2.0,
        poll: float = 0.1,
        spawn: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self.max_workers = max(1, int(max_workers))
        self.progress = progress
        self.cancel = cancel if cancel is not None else threading.Event()
        self.grace = grace
        self.poll = poll
        self.spawn = spawn
        # Threads outlive a batch: the resolver runs three batches back to back, and
        # starting 64 threads for each cost more CPU than a batch's own Python code.
        # Idle ones end after IDLE seconds without work.
        self._tasks: queue.SimpleQueue[_Batch[Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def run(self, items: Iterable[T], job: Callable[[T], object]) -> None:
        """Run ``job`` on every item and return when all are done.

        Raises
        ------
        KeyboardInterrupt
            Re-raised after cancelling the rest of the batch.
        BaseException
            The first exception a job raised (a bug), after the batch stopped.
        """
        items_ = list(items)
        if not items_:
            return
        if self.cancel.is_set():
            raise RuntimeError("this read was cancelled")
        if self.progress is not None:
            self.progress.expect(len(items_))
        batch = _Batch(items_, job, self.cancel, self.progress, min(self.max_workers, len(items_)))
        try:
            self._start(batch)
            while not green.wait(batch.finished, self.poll):
                if self.progress is not None:
                    self.progress.refresh()
        except BaseException:
            self.cancel.set()
            started = time.monotonic()
            # The requests already sent take about one round trip; a worker
            # stuck longer than the grace period is left behind (daemon).
            green.wait(batch.finished, self.grace)
            log.debug(
                "interrupted: queued jobs cancelled, waited %.2f s for those in flight",
                time.monotonic() - started,
            )
            raise
        if self.progress is not None:
            self.progress.refresh()
        if batch.failures:
            raise batch.failures[0]

    def _start(self, batch: _Batch[Any]) -> None:
        """Hand ``batch`` to ``batch.remaining`` workers: greenlets (``spawn``), else threads."""
        if self.spawn is not None:
            for _ in range(batch.remaining):
                self.spawn(batch.work)
            return
        # Under the lock: a waiting thread about to end checks for tasks under it too, so
        # one counted as idle here cannot end without taking this batch.
        with self._lock:
            spawn = max(0, batch.remaining - self._idle)
            for _ in range(batch.remaining):
                self._tasks.put(batch)
        for i in range(spawn):
            threading.Thread(target=self._serve, name=f"regframe-{i}", daemon=True).start()

    def _serve(self) -> None:
        """A worker thread: one batch after another, until idle for IDLE seconds."""
        while True:
            with self._lock:
                self._idle += 1
            try:
                batch = self._tasks.get(timeout=IDLE)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._tasks.empty():
                        return
                continue
            with self._lock:
                self._idle -= 1
            batch.work()


class _Batch(Generic[T]):
    """One :meth:`JobRunner.run`: the shared queue its threads take items from."""

    def __init__(
        self,
        items: list[T],
        job: Callable[[T], object],
        cancel: threading.Event,
        progress: Progress | None,
        threads: int,
    ) -> None:
        self.feed = iter(items)
        self.job = job
        self.cancel = cancel
        self.progress = progress
        self.lock = threading.Lock()
        self.failures: list[BaseException] = []
        # A bug stops this batch only; ``cancel`` (shared with the transport, and with
        # other reads of the same call) is for interrupts.
        self.stop = threading.Event()
        self.remaining = threads
        self.finished = threading.Event()

    def work(self) -> None:
        """One thread: take items until the queue is empty, cancelled or a job failed."""
        try:
            while not (self.cancel.is_set() or self.stop.is_set()):
                with self.lock:
                    try:
                        item = next(self.feed)
                    except StopIteration:
                        return
                try:
                    self.job(item)
                except BaseException as exc:  # a bug in a job: stop the batch, report it
                    self.failures.append(exc)
                    self.stop.set()
                    return
                finally:
                    if self.progress is not None:
                        self.progress.advance()
        finally:
            with self.lock:
                self.remaining -= 1
                if self.remaining == 0:
                    self.finished.set()
