"""When to send a failed request again, and how long to wait first: one policy for every backend.

The rules are urllib3's :class:`~urllib3.util.retry.Retry` as regframe configured it
before it had two backends — separate budgets for connection failures, failures
after the request was sent, and retryable statuses; exponential backoff with
jitter; ``Retry-After`` honoured (capped) on 413/429/503 — written once here so the
``requests`` and libcurl backends retry alike.  Waits go through :func:`pause`,
which an interrupt cuts short.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from regframe.client import green
from regframe.client.headers import parse_retry_after

__all__ = [
    "DEFAULT_POLICY",
    "MAX_RETRY_AFTER",
    "PROBE_POLICY",
    "RETRY_STATUSES",
    "RetryPolicy",
    "RetryState",
    "pause",
]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses whose ``Retry-After`` replaces the backoff (as urllib3 does).
RETRY_AFTER_STATUSES = frozenset({413, 429, 503})
#: Longest ``Retry-After`` regframe waits (seconds); a server naming hours gets this.
MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budgets and backoff.

    Attributes
    ----------
    total
        Retries of any kind for one request.
    connect
        Retries after the request could not be sent (refused, connect timeout).
    read
        Retries after it was sent but no answer came (reset, read timeout); only
        for ``methods``, since the server may have acted on it.
    status
        Retries of an answer with a status in :data:`RETRY_STATUSES` (``methods`` only).
    backoff_factor, backoff_max, backoff_jitter
        The n-th consecutive retry waits ``factor * 2**(n-1)`` seconds (none before
        the first), plus up to ``jitter``, at most ``backoff_max``.

    Examples
    --------
    >>> DEFAULT_POLICY.total, PROBE_POLICY.read
    (8, 0)
    """

    total: int = 8
    connect: int = 6
    read: int = 6
    status: int = 7
    backoff_factor: float = 0.1
    backoff_max: float = 4.0
    backoff_jitter: float = 0.2
    methods: frozenset[str] = frozenset({"GET", "HEAD"})


# Eight attempts survive a registry that fails one request in four (resets, 503s and
# 429s together) with a per-request failure chance of about 2e-6; the short backoff
# keeps a registry that always fails to about 15 s before the typed error.
DEFAULT_POLICY = RetryPolicy()
#: The https attempt on a host that may speak plain http: a server that never answers a
#: TLS ClientHello must cost one timeout, not seven, before the fallback.
PROBE_POLICY = replace(DEFAULT_POLICY, read=0, status=1)


class RetryState:
    """The retries one request has used so far, and what the next one may do.

    Examples
    --------
    >>> state = RetryState(DEFAULT_POLICY, "GET")
    >>> state.allow("status"), state.allow("status"), state.used
    (True, True, 2)
    >>> 0.2 <= state.backoff() <= 0.4
    True
    >>> RetryState(DEFAULT_POLICY, "POST").allow("read")
    False
    """

    def __init__(self, policy: RetryPolicy, method: str) -> None:
        self.policy = policy
        self.method = method.upper()
        self.used = 0
        self.counts = {"connect": 0, "read": 0, "status": 0}

    def allow(self, kind: str) -> bool:
        """Count a retry of ``kind`` (``connect``, ``read``, ``status`` or ``other``) if allowed."""
        policy = self.policy
        if kind == "other" or self.used >= policy.total:
            return False
        if kind != "connect" and self.method not in policy.methods:
            return False
        if self.counts[kind] >= getattr(policy, kind):
            return False
        self.counts[kind] += 1
        self.used += 1
        return True

    def backoff(self) -> float:
        """Seconds to wait before the retry just allowed (0 before the first)."""
        if self.used <= 1:
            return 0.0
        policy = self.policy
        wait = policy.backoff_factor * 2 ** (self.used - 1)
        if policy.backoff_jitter:
            wait += random.random() * policy.backoff_jitter  # noqa: S311 - jitter, not secrecy
        return float(max(0.0, min(policy.backoff_max, wait)))

    def wait_for(self, status: int, headers: Mapping[str, str]) -> float:
        """The wait before retrying an answer: its ``Retry-After`` (capped), else the backoff."""
        if status in RETRY_AFTER_STATUSES:
            after = parse_retry_after(headers.get("Retry-After"), cap=MAX_RETRY_AFTER)
            if after is not None:
                return after
        return self.backoff()


def pause(seconds: float, cancelled: threading.Event) -> bool:
    """Wait ``seconds`` unless ``cancelled`` is set first; ``True`` if the wait ran out.

    Examples
    --------
    >>> stop = threading.Event(); stop.set()
    >>> pause(10.0, stop)
    False
    """
    if seconds <= 0:
        return not cancelled.is_set()
    return not green.wait(cancelled, seconds, poll=0.1)
