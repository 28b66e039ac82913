"""Jobs as greenlets on the libcurl driver's thread: a request parks a greenlet, not a thread.

With the libcurl backend, the jobs of a read (each tag's manifest chain) can run as
greenlets on the thread that drives the multi handle
(:class:`~regframe.client.curl_driver.CurlDriver`): a request hands its transfer in and
switches to the driver's loop, and the loop switches back when the transfer ends.  No
thread waits and no lock changes hands per request; on a hundred worker threads that
hand-off cost more client CPU than libcurl itself (``bench/clients.py`` measures both).

A job may also wait for something other than its own request: another job's shared
fetch, the token lock, the host's concurrency limit, a retry's pause.  Those waits go
through :func:`wait`, :func:`wait_on`, :func:`sleep` and :class:`TaskLock`, which park a
job greenlet (polling in short sleeps, so no wake-up can be lost between threads) and
block a thread as before.  A job that blocked its thread instead would stall every job
of the read.

``$REGFRAME_GREENLETS=0``, or greenlet not installed, keeps every job on threads.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

try:
    import greenlet
except ImportError:  # the `fast` extra brings it; without it jobs run on threads
    greenlet = None  # type: ignore[assignment]

__all__ = ["Hub", "Job", "TaskLock", "current_job", "enabled", "sleep", "wait", "wait_on"]

log = logging.getLogger(__name__)

#: Seconds between two looks of a parked job at what it waits for.
POLL = 0.005


def enabled() -> bool:
    """True when jobs may run as greenlets (greenlet installed, not switched off).

    Examples
    --------
    >>> isinstance(enabled(), bool)
    True
    """
    return greenlet is not None and os.environ.get("REGFRAME_GREENLETS", "1").strip() != "0"


class Hub:
    """The job greenlets of one driver thread: those to start, to resume and asleep.

    Everything but :meth:`spawn` runs on the driver thread; :meth:`run` once per turn
    of its loop starts new jobs and resumes those whose transfer ended or whose sleep
    is over, each until it parks again or ends.

    Examples
    --------
    >>> hub = Hub()
    >>> hub.spawn(lambda: None); hub.pending()
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spawned: list[Callable[[], None]] = []
        self._ready: list[Job] = []
        self._sleepers: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._main: greenlet.greenlet | None = None
        self.jobs = 0
        self.closing = False

    def spawn(self, job: Callable[[], None]) -> None:
        """Run ``job`` as a greenlet at the loop's next turn (any thread may call this)."""
        with self._lock:
            self._spawned.append(job)

    def pending(self) -> bool:
        """Whether a job is waiting to start or to be resumed (the loop must not sleep)."""
        return bool(self._ready or self._spawned)

    def cap(self, wait: float | None) -> float | None:
        """``wait`` shortened to the first sleeper's wake-up time."""
        if not self._sleepers:
            return wait
        left = max(0.0, self._sleepers[0][0] - time.monotonic())
        return left if wait is None else min(wait, left)

    def resume(self, job: Job) -> None:
        """Resume ``job`` at the next :meth:`run` (its transfer ended)."""
        self._ready.append(job)

    def park(self) -> None:
        """From a job: give the thread back to the loop until something resumes this job."""
        assert self._main is not None
        self._main.switch()

    def sleep(self, job: Job, seconds: float) -> None:
        """From ``job``: park it for ``seconds`` (once closing, only until the next round)."""
        if self.closing:
            self._ready.append(job)
        else:
            heapq.heappush(self._sleepers, (time.monotonic() + seconds, next(self._order), job))
        self.park()

    def run(self) -> None:
        """Start the jobs handed in and resume those due, each until it parks or ends."""
        if not (self._spawned or self._ready or self._sleepers):
            return  # the common turn (and the only one without greenlet installed)
        self._main = greenlet.getcurrent()
        with self._lock:
            spawned, self._spawned = self._spawned, []
        for job in spawned:
            self.jobs += 1
            self._ready.append(Job(self, job))
        now = time.monotonic()
        while self._sleepers and (self.closing or self._sleepers[0][0] <= now):
            self._ready.append(heapq.heappop(self._sleepers)[2])
        ready, self._ready = self._ready, []
        for each in ready:
            each.switch()

    def drain(self, rounds: int = 100) -> None:
        """Closing: resume parked jobs until they have all ended (their requests fail)."""
        self.closing = True
        for _ in range(rounds):
            if not self.jobs:
                return
            self.run()
        log.debug("%d job greenlets did not end when the transport closed", self.jobs)


_Greenlet: Any = greenlet.greenlet if greenlet is not None else object


class Job(_Greenlet):  # type: ignore[misc]
    """A job greenlet: it knows its hub, and its end hands the thread back to the hub."""

    def __init__(self, hub: Hub, job: Callable[[], None]) -> None:
        super().__init__(self._body)
        self.hub = hub
        self._job = job

    def _body(self) -> None:
        try:
            self._job()
        except BaseException:  # a job's bug must not end the driver's loop
            log.exception("a job greenlet failed")
        finally:
            self.hub.jobs -= 1


def current_job() -> Job | None:
    """The job greenlet running now, or ``None`` on an ordinary thread.

    Examples
    --------
    >>> current_job() is None
    True
    """
    if greenlet is None:
        return None
    current = greenlet.getcurrent()
    return current if isinstance(current, Job) else None


def sleep(seconds: float) -> None:
    """``time.sleep`` that parks a job greenlet instead of its thread.

    Examples
    --------
    >>> sleep(0.0)
    """
    job = current_job()
    if job is None:
        time.sleep(seconds)
    else:
        job.hub.sleep(job, seconds)


def wait(event: threading.Event, timeout: float, poll: float = POLL) -> bool:
    """``event.wait(timeout)`` that parks a job greenlet instead of its thread.

    Examples
    --------
    >>> done = threading.Event(); done.set()
    >>> wait(done, 1.0)
    True
    """
    job = current_job()
    if job is None:
        return event.wait(timeout)
    deadline = time.monotonic() + timeout
    while not event.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or job.hub.closing:
            return False
        job.hub.sleep(job, min(left, poll))
    return True


def wait_on(cond: threading.Condition, timeout: float) -> None:
    """``cond.wait(timeout)`` (held by the caller); a job greenlet parks a moment instead.

    The job lets go of ``cond`` while parked, as ``wait`` would, and callers look at their
    condition again afterwards, as after any wait.

    Examples
    --------
    >>> cond = threading.Condition()
    >>> with cond:
    ...     wait_on(cond, 0.0)
    """
    job = current_job()
    if job is None:
        cond.wait(timeout)
        return
    cond.release()
    try:
        job.hub.sleep(job, min(timeout, POLL))
    finally:
        cond.acquire()


class TaskLock:
    """A reentrant lock whose owner is a job greenlet or a thread (an ``RLock`` for both).

    ``threading.RLock`` belongs to a thread, so every job greenlet of the driver's
    thread would hold it at once; here each job is an owner of its own, and a job
    waiting for it parks.

    Examples
    --------
    >>> lock = TaskLock()
    >>> with lock, lock:
    ...     pass
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: object = None
        self._depth = 0

    def __enter__(self) -> None:
        job = current_job()
        me: object = job if job is not None else threading.get_ident()
        with self._cond:
            while self._owner is not None and self._owner != me:
                wait_on(self._cond, 0.05)
            self._owner = me
            self._depth += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._cond:
            self._depth -= 1
            if not self._depth:
                self._owner = None
                self._cond.notify_all()
