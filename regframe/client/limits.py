"""Per-host concurrency that halves when a registry answers 429 and creeps back up on success.

Additive increase, multiplicative decrease, as TCP does: one cut per overload event
(at most one a second), one slot back per ``current`` successful answers.  With the
libcurl backend on HTTP/2 the slots are streams in flight on the host's connection;
on HTTP/1.1 they are requests on its pooled connections.
"""

from __future__ import annotations

import logging
import threading
import time

from regframe.client import green

__all__ = ["AdaptiveLimit"]

log = logging.getLogger(__name__)


class AdaptiveLimit:
    """Requests in flight to one host: at most ``maximum``, halved on 429.

    Examples
    --------
    >>> limit = AdaptiveLimit(16)
    >>> limit.acquire(); limit.release(throttled=True); int(limit.current)
    True
    8
    """

    def __init__(self, maximum: int, cancelled: threading.Event | None = None) -> None:
        self.maximum = max(1, maximum)
        self.cancelled = cancelled if cancelled is not None else threading.Event()
        self.current = float(self.maximum)
        self.in_flight = 0
        self._cond = threading.Condition()
        self._last_cut = 0.0

    def acquire(self) -> bool:
        """Take a slot; ``False`` (no slot taken) once the read is cancelled."""
        with self._cond:
            while self.in_flight >= int(self.current):
                if self.cancelled.is_set():
                    return False
                # Bounded waits: a cancelled read must not leave threads queued here.
                green.wait_on(self._cond, 0.25)
            self.in_flight += 1
            return True

    def release(self, throttled: bool) -> None:
        """Give the slot back; ``throttled`` when the answer was a 429."""
        with self._cond:
            self.in_flight -= 1
            now = time.monotonic()
            if throttled:
                # One cut per second: a burst of 429s from one overload event
                # should not collapse the pool to a single connection.
                if now - self._last_cut > 1.0:
                    self.current = max(1.0, self.current / 2)
                    self._last_cut = now
                    log.debug("throttled: concurrency now %d", int(self.current))
            elif self.current < self.maximum:
                self.current = min(float(self.maximum), self.current + 1.0 / self.current)
            # Wake only as many waiters as there are free slots: with several images
            # sharing a host, a hundred threads may wait here, and waking them all on
            # every reply costs more CPU than the requests themselves.
            free = int(self.current) - self.in_flight
            if free > 0:
                self._cond.notify(free)
