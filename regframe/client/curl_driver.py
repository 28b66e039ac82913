"""One thread drives libcurl's multi handle; callers hand it transfers and wait for theirs.

libcurl multiplexes many transfers over few connections (HTTP/2 streams on one
TLS connection where the server offers ``h2``, a pool of HTTP/1.1 connections
otherwise) when a single thread owns the multi handle.  :class:`CurlDriver` is
that thread: it waits on the sockets libcurl names (``CURLMOPT_SOCKETFUNCTION``)
and exactly as long as libcurl's own timer says (``CURLMOPT_TIMERFUNCTION``), is
woken through a socketpair when a transfer is handed in, and releases each
caller's lock when its transfer ends (or resumes the job greenlet that sent it, when
a read's jobs run on this thread: :mod:`regframe.client.green`).  pycurl exposes
neither ``curl_multi_poll`` nor ``curl_multi_wakeup``, so the socket API plus a
socketpair does their job.

Every ``SWEEP`` seconds (and at most ``timeout / 4``) it also enforces what libcurl
cannot express per transfer the way regframe promises it: no byte for
``timeout`` seconds once connected is a read timeout, a body must arrive within
``4 * timeout`` of its first byte, and a transfer whose ``cancelled`` event is set
(an interrupt) is removed from the wire at once.
"""

from __future__ import annotations

import collections
import contextlib
import io
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pycurl

from regframe.client.green import Hub, Job

__all__ = ["CurlDriver", "Sink", "Transfer"]

log = logging.getLogger(__name__)

#: Longest wait between two looks at timeouts and cancellations, seconds.
SWEEP = 0.1
# The integer (_T) forms where pycurl has them; the float forms are deprecated there.
_PRETRANSFER = getattr(pycurl, "PRETRANSFER_TIME_T", pycurl.PRETRANSFER_TIME)
_CONNECT = getattr(pycurl, "CONNECT_TIME_T", pycurl.CONNECT_TIME)
_DECLARED = getattr(pycurl, "CONTENT_LENGTH_DOWNLOAD_T", pycurl.CONTENT_LENGTH_DOWNLOAD)


class Sink:
    """Collects a body up to ``limit`` bytes; past it, tells libcurl to stop (a write error).

    Examples
    --------
    >>> sink = Sink(4)
    >>> sink.write(b"abc"), sink.write(b"de"), sink.over
    (None, 0, True)
    """

    __slots__ = ("chunks", "limit", "over", "size")

    def __init__(self, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.over = False

    def write(self, data: bytes) -> int | None:
        self.size += len(data)
        if self.size > self.limit:
            self.over = True
            return 0  # fewer bytes taken than given: libcurl ends the transfer
        self.chunks.append(data)
        return None


class Transfer:
    """One request on its way: the easy handle, what came back, and how it ended.

    ``done`` is held until the driver has finished with the transfer (or, for one
    that a job greenlet of the driver's own thread sent, ``job`` is resumed); then
    ``code`` is libcurl's result (0 for success) and ``failure`` names what the
    driver itself ended it for (``"timeout"``, ``"body-timeout"``, ``"slow-body"``,
    ``"cancelled"``).
    """

    __slots__ = (
        "body_deadline",
        "cancelled",
        "code",
        "done",
        "failure",
        "handle",
        "head",
        "info",
        "job",
        "last_change",
        "last_size",
        "message",
        "sink",
    )

    def __init__(
        self,
        handle: pycurl.Curl,
        sink: Sink,
        cancelled: threading.Event,
        job: Job | None = None,
    ) -> None:
        self.handle = handle
        self.job = job
        self.sink = sink
        self.head = io.BytesIO()
        self.cancelled = cancelled
        self.done = threading.Lock()
        self.done.acquire()
        self.code = 0
        self.message = ""
        self.failure = ""
        self.info: dict[str, Any] = {}
        self.last_size = -1
        self.last_change = 0.0
        self.body_deadline = 0.0


class CurlDriver:
    """Owns a ``CurlMulti`` and the thread that drives it.

    Parameters
    ----------
    timeout
        Seconds without a byte before a connected transfer fails, and a quarter of
        the time its body may take.
    max_host_connections
        Connections per host (HTTP/1.1 needs one per request in flight; HTTP/2
        carries them all as streams on one).

    Examples
    --------
    >>> driver = CurlDriver(timeout=5, max_host_connections=4)
    >>> driver.close()
    """

    def __init__(self, *, timeout: float, max_host_connections: int) -> None:
        self.timeout = timeout
        self._sweep_every = min(SWEEP, max(0.01, timeout / 4))
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        self._multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, max(1, max_host_connections))
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._incoming: collections.deque[Transfer] = collections.deque()
        self._aborts: collections.deque[Transfer] = collections.deque()
        self._woken = False
        self._closing = False
        self._active: dict[int, Transfer] = {}
        self._timer: float | None = None
        self._thread: threading.Thread | None = None
        #: The job greenlets this thread runs (see :meth:`spawn`).
        self.hub = Hub()

    # -- called by other threads -------------------------------------------------------

    def submit(self, transfer: Transfer) -> None:
        """Hand ``transfer`` to the driver thread (started on first use)."""
        with self._lock:
            if self._closing:
                raise RuntimeError("the transport is closed")
            self._incoming.append(transfer)
            if self.owns(transfer):
                # From a job on this thread: the loop looks at _woken before it waits.
                self._woken = True
            else:
                self._start()
                self._wake()

    def owns(self, transfer: Transfer) -> bool:
        """Whether ``transfer`` comes from a job greenlet of this driver's thread."""
        return transfer.job is not None and transfer.job.hub is self.hub

    def spawn(self, job: Callable[[], None]) -> None:
        """Run ``job`` as a greenlet on the driver thread (see :mod:`regframe.client.green`)."""
        with self._lock:
            if self._closing:
                raise RuntimeError("the transport is closed")
            self.hub.spawn(job)
            self._start()
            self._wake()

    def _start(self) -> None:
        # Under self._lock.
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="regframe-curl", daemon=True)
            self._thread.start()

    def abort(self, transfer: Transfer) -> None:
        """Take ``transfer`` off the wire soon (its caller was interrupted)."""
        with self._lock:
            self._aborts.append(transfer)
            self._wake()

    def close(self) -> None:
        """Abort what is in flight, stop the thread and free the multi handle."""
        with self._lock:
            self._closing = True
            thread = self._thread
            self._wake()
        if thread is not None:
            thread.join(5.0)
        if thread is None or not thread.is_alive():
            self._release()

    def _wake(self) -> None:
        # Under self._lock.  One byte wakes the loop; more would only be drained.
        if not self._woken:
            self._woken = True
            # A full buffer means the loop is awake anyway.
            with contextlib.suppress(OSError):
                self._wake_w.send(b"\0")

    # -- libcurl callbacks (driver thread) ---------------------------------------------

    def _on_socket(self, what: int, fd: int, multi: object, data: object) -> None:
        events = (selectors.EVENT_READ if what & pycurl.POLL_IN else 0) | (
            selectors.EVENT_WRITE if what & pycurl.POLL_OUT else 0
        )
        if not events:  # CURL_POLL_REMOVE (or _NONE): nothing to wait for on this socket
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fd)
            return
        try:
            self._selector.modify(fd, events)
        except KeyError:
            self._selector.register(fd, events)

    def _on_timer(self, ms: int) -> None:
        self._timer = None if ms < 0 else time.monotonic() + ms / 1000

    # -- the loop (driver thread) --------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException:  # a bug here must not leave callers blocked for ever
            log.exception("the libcurl driver stopped")
            with self._lock:
                self._closing = True
                stranded = [*self._incoming, *self._active.values()]
                self._incoming.clear()
            self._active.clear()
            for transfer in stranded:
                transfer.code, transfer.failure = -1, "driver"
                self._hand_back(transfer)
        self.hub.drain()

    def _loop(self) -> None:
        next_sweep: float | None = time.monotonic()
        while next_sweep is not None:
            next_sweep = self._turn(next_sweep)

    def _turn(self, next_sweep: float) -> float | None:
        """Wait for sockets or the timer once, act on it; when to sweep next (``None``: closed)."""
        for key, mask in self._selector.select(self._wait(next_sweep)):
            if key.fileobj is self._wake_r:
                continue
            action = (pycurl.CSELECT_IN if mask & selectors.EVENT_READ else 0) | (
                pycurl.CSELECT_OUT if mask & selectors.EVENT_WRITE else 0
            )
            self._multi.socket_action(key.fd, action)
        if self._timer is not None and time.monotonic() >= self._timer:
            self._timer = None
            self._multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        if not self._take_handed_in():
            return None
        self._collect()
        now = time.monotonic()
        if now >= next_sweep:
            self._sweep(now)
            next_sweep = now + self._sweep_every
        self.hub.run()
        return next_sweep

    def _wait(self, next_sweep: float) -> float | None:
        """How long select may wait: until the sweep, libcurl's timer or a job's wake-up."""
        if self._woken or self.hub.pending():
            return 0.0
        now = time.monotonic()
        wait = next_sweep - now if self._active else None
        if self._timer is not None:
            wait = max(0.0, min(wait if wait is not None else 3600.0, self._timer - now))
        return self.hub.cap(wait)

    def _take_handed_in(self) -> bool:
        """Add new transfers and remove aborted ones; ``False`` once closing is done."""
        if not self._woken:
            # Nothing handed in (read without the lock: a hand-in racing with this look
            # has written the wake byte, so the next select returns at once).
            return True
        with self._lock:
            try:
                while self._wake_r.recv(4096):
                    pass
            except BlockingIOError:
                pass
            self._woken = False
            incoming, self._incoming = self._incoming, collections.deque()
            aborts, self._aborts = self._aborts, collections.deque()
            closing = self._closing
        now = time.monotonic()
        for transfer in incoming:
            transfer.last_change = now
            self._active[id(transfer.handle)] = transfer
            self._multi.add_handle(transfer.handle)
        for transfer in aborts:
            # The handle may already carry another transfer: compare the transfer itself.
            if self._active.get(id(transfer.handle)) is transfer:
                self._finish(transfer, -1, "cancelled")
        if closing:
            for transfer in list(self._active.values()):
                self._finish(transfer, -1, "cancelled")
            return False
        return True

    def _collect(self) -> None:
        """Finish every transfer libcurl reports as done."""
        while True:
            queued, ok, failed = self._multi.info_read()
            for handle in ok:
                self._finish(self._active[id(handle)], 0, "")
            for handle, code, message in failed:
                transfer = self._active[id(handle)]
                transfer.message = message
                self._finish(transfer, code, "")
            if not queued:
                return

    def _sweep(self, now: float) -> None:
        """Enforce read timeouts, body deadlines and cancellations."""
        for transfer in list(self._active.values()):
            if transfer.cancelled.is_set():
                self._finish(transfer, -1, "cancelled")
                continue
            size = transfer.head.tell() + transfer.sink.size
            if size != transfer.last_size:
                transfer.last_size = size
                transfer.last_change = now
            elif transfer.handle.getinfo(_PRETRANSFER) == 0:
                # Still connecting (libcurl's connect timeout covers that) or queued
                # for a connection: not idle.
                transfer.last_change = now
            elif now - transfer.last_change > self.timeout:
                self._finish(transfer, -1, "slow-body" if size else "timeout")
                continue
            if size and not transfer.body_deadline:
                transfer.body_deadline = now + 4 * self.timeout
            elif transfer.body_deadline and now > transfer.body_deadline:
                self._finish(transfer, -1, "body-timeout")

    def _finish(self, transfer: Transfer, code: int, failure: str) -> None:
        """Record how ``transfer`` ended, take it off the multi handle and wake its caller."""
        handle = transfer.handle
        del self._active[id(handle)]
        info = transfer.info
        info["status"] = handle.getinfo(pycurl.RESPONSE_CODE)
        info["version"] = handle.getinfo(pycurl.INFO_HTTP_VERSION)
        if code or failure:  # what only a failed transfer's error message needs
            info["os_errno"] = handle.getinfo(pycurl.OS_ERRNO)
            # A reused connection has no connect time of its own, but a pre-transfer time.
            info["connected"] = handle.getinfo(_CONNECT) > 0 or handle.getinfo(_PRETRANSFER) > 0
            info["declared"] = handle.getinfo(_DECLARED)
        self._multi.remove_handle(handle)
        transfer.code = code
        transfer.failure = failure
        self._hand_back(transfer)

    def _hand_back(self, transfer: Transfer) -> None:
        """Wake whoever waits for ``transfer``: its job greenlet, or its thread."""
        if transfer.job is not None and self.owns(transfer):
            self.hub.resume(transfer.job)
        else:
            transfer.done.release()

    def _release(self) -> None:
        try:
            self._multi.close()
        finally:
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()
