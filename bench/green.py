"""A measured alternative to worker threads: regframe's Transport driven by greenlets.

``read_tags`` today calls :class:`~regframe.client.transport.Transport` from up to
``max_workers`` threads, and the libcurl driver thread hands every answer to the thread
waiting for it: a lock wake-up and a GIL hand-off per request, which is where the client
CPU above raw pycurl goes (``bench/README.md``).  Here the same ``Transport`` (retries,
redirects, limits, every rule) runs in greenlets on the one thread that also drives the
multi handle: a request switches to the driver's loop instead of blocking a thread, and
a finished transfer switches back to the greenlet that sent it.  No thread waits and no
lock is handed over, so the difference to ``transport-curl-100`` in ``clients.py`` is
what the hand-offs cost.

Not a regframe feature: the read's own waits (a shared fetch in
``frame/chains.py``, the token lock in ``client/auth.py``, the host limit's condition,
the retry pause) block a thread and would stall every greenlet on it; they would need
to park a greenlet instead before ``read_tags`` could run this way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import greenlet
import pycurl

from regframe.client.curl_driver import CurlDriver, Sink, Transfer
from regframe.client.reply import Reply, Request
from regframe.client.transport import Transport
from regframe.client.transport_curl import CurlBackend

__all__ = ["run_green"]


class _GreenTransfer(Transfer):
    __slots__ = ("sender",)

    def __init__(self, handle: pycurl.Curl, sink: Sink, cancelled: threading.Event) -> None:
        super().__init__(handle, sink, cancelled)
        self.sender = greenlet.getcurrent()


class _GreenDriver(CurlDriver):
    """The driver whose loop is the hub: it resumes the greenlet of each finished transfer."""

    def __init__(self, *, timeout: float, max_host_connections: int) -> None:
        super().__init__(timeout=timeout, max_host_connections=max_host_connections)
        self.finished: list[_GreenTransfer] = []

    def submit(self, transfer: Transfer) -> None:
        # Called on the hub's own thread: no lock to take and no byte to wake it with.
        self._incoming.append(transfer)
        self._woken = True

    def _finish(self, transfer: Transfer, code: int, failure: str) -> None:
        super()._finish(transfer, code, failure)
        assert isinstance(transfer, _GreenTransfer)
        self.finished.append(transfer)

    def _turn(self, next_sweep: float) -> float | None:
        self._take_handed_in()  # greenlets hand in without a wake byte: take theirs first
        following = super()._turn(next_sweep)
        finished, self.finished = self.finished, []
        for transfer in finished:
            transfer.sender.switch()
        return following


class _GreenBackend(CurlBackend):
    """``send`` parks the calling greenlet until the hub resumes it with the answer."""

    def __init__(
        self, hub: Callable[[], greenlet.greenlet], *, timeout: float, max_workers: int, ca: str
    ) -> None:
        super().__init__(timeout=timeout, max_workers=max_workers, verify=ca)
        self.driver.close()
        self.driver = _GreenDriver(timeout=self.timeout, max_host_connections=self.connections)
        self._hub = hub

    def send(self, request: Request, cancelled: threading.Event) -> Reply:
        handle = self._handle()
        transfer = _GreenTransfer(handle, Sink(request.limit), cancelled)
        self._configure(transfer, request)
        self.driver.submit(transfer)
        self._hub().switch()
        self._give_back(handle)
        return self._result(transfer, request)


def run_green(
    urls: Iterable[str], *, ca: str, in_flight: int, headers: dict[str, str]
) -> list[int]:
    """GET every URL through a ``Transport`` on ``in_flight`` greenlets; their statuses.

    Examples
    --------
    >>> run_green([], ca="ca.pem", in_flight=4, headers={})
    []
    """
    feed = iter(urls)
    statuses: list[int] = []
    transport = Transport(max_workers=in_flight, verify=ca, backend="curl")
    transport.backend.close()
    backend = _GreenBackend(lambda: hub, timeout=transport.timeout, max_workers=in_flight, ca=ca)
    transport.backend = backend
    driver = backend.driver
    assert isinstance(driver, _GreenDriver)
    busy = [in_flight]

    def worker() -> None:
        for url in feed:
            statuses.append(transport.request("GET", url, headers=headers).status)
        busy[0] -= 1

    def loop() -> None:
        for _ in range(in_flight):
            greenlet.greenlet(worker).switch()  # runs to its first request, then back here
        next_sweep: float | None = 0.0
        while next_sweep is not None and busy[0]:
            next_sweep = driver._turn(next_sweep)

    hub = greenlet.greenlet(loop)
    hub.switch()
    transport.close()
    return statuses
