"""HTTP transport: the rules every request obeys, above a backend that sends one exchange.

Everything regframe sends goes through :class:`Transport`.  It owns the rules
that must hold for *every* request, so no caller (and no backend) can forget them:

* a timeout on every request and a wall-clock deadline on every body
  (the backend enforces them; the values come from here);
* bodies are read with a byte limit (manifests, configs and token answers are
  small; anything larger is an attack or a bug);
* redirects are followed by hand so ``Authorization`` is dropped the moment a
  redirect leaves the origin that asked for it, and never comes back;
* retries with exponential backoff and jitter on 408/429/5xx, connection
  failures and broken-off bodies (:mod:`regframe.client.retry`);
* a per-host concurrency limit that halves when a registry answers 429 and
  grows back slowly (:mod:`regframe.client.limits`).

Below it, a backend turns one :class:`Request` into one fully read :class:`Reply`
(as httpx's transports do): :mod:`regframe.client.transport_curl` (libcurl's multi
interface: HTTP/2 where the server offers it, the ``fast`` extra) or
:mod:`regframe.client.transport_requests` (``requests``/urllib3, HTTP/1.1: the
default without pycurl, and always for a caller's own ``session=``).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests

from regframe.client import green
from regframe.client.limits import AdaptiveLimit
from regframe.client.redact import redact_host, redact_url
from regframe.client.reply import DEFAULT_LIMIT, USER_AGENT, Reply, Request, host_key, origin_of
from regframe.client.retry import (
    DEFAULT_POLICY,
    PROBE_POLICY,
    RETRY_STATUSES,
    RetryPolicy,
    RetryState,
    pause,
)
from regframe.client.transport_requests import RequestsBackend, build_session
from regframe.errors import (
    BodyInterrupted,
    InvalidArgumentError,
    RegistryError,
    ResponseTooLarge,
    TransferFailed,
)

__all__ = [
    "BACKENDS",
    "USER_AGENT",
    "Backend",
    "Reply",
    "Request",
    "ResponseTooLarge",
    "Transport",
    "build_session",
    "default_workers",
    "fast_available",
    "json_errors",
    "origin_of",
]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BACKENDS = ("curl", "requests")
#: Requests in flight per host by default: HTTP/2 streams share one connection, so the
#: libcurl backend may keep many more in flight than 16 HTTP/1.1 connections allow.
DEFAULT_WORKERS = {"curl": 100, "requests": 16}
FAST_HINT = "pip install 'regframe[fast]'"


class Backend(Protocol):
    """Sends one request and reads its whole answer; no redirects, no retries."""

    name: str

    def send(self, request: Request, cancelled: threading.Event) -> Reply:
        """Raise TransferFailed (no answer), BodyInterrupted or ResponseTooLarge."""

    def close(self) -> None: ...


@functools.cache
def fast_available() -> bool:
    """True when the libcurl backend can be used (pycurl is installed and loads).

    Examples
    --------
    >>> isinstance(fast_available(), bool)
    True
    """
    try:
        import pycurl  # noqa: F401
    except ImportError:  # not installed, or its libcurl does not load here
        return False
    return True


def _backend_name(session: requests.Session | None, backend: str | None) -> str:
    """Which backend: a caller's session keeps ``requests``; else the argument, the
    ``$REGFRAME_TRANSPORT`` environment variable, or libcurl when pycurl is installed."""
    wanted = (backend or os.environ.get("REGFRAME_TRANSPORT", "") or "auto").strip().lower()
    if wanted not in (*BACKENDS, "auto"):
        raise InvalidArgumentError(
            f"unknown transport {wanted!r}: use one of {', '.join(BACKENDS)} or auto"
        )
    if session is not None:
        if backend == "curl":
            raise InvalidArgumentError("a requests session= is sent through requests, not curl")
        return "requests"
    if wanted == "auto":
        return "curl" if fast_available() else "requests"
    if wanted == "curl" and not fast_available():
        raise InvalidArgumentError(f"the libcurl transport needs pycurl: {FAST_HINT}")
    return wanted


def default_workers(session: requests.Session | None = None, backend: str | None = None) -> int:
    """Requests in flight per host when the caller names none (``max_workers=None``).

    100 with the libcurl backend (over HTTP/2 they are streams on one connection; over
    HTTP/1.1, at most 32 connections), 16 with ``requests`` (16 connections).

    Examples
    --------
    >>> default_workers(backend="requests")
    16
    """
    return DEFAULT_WORKERS[_backend_name(session, backend)]


class Transport:
    """Sends requests with regframe's safety rules; see the module docstring.

    Parameters
    ----------
    session
        A caller's ``requests.Session`` (used as is, adapters included: the
        ``requests`` backend) or ``None`` for regframe's own backend.
    timeout
        Seconds for connect and for each read; a body must also arrive within
        ``4 * timeout`` in total.
    max_workers
        Requests in flight per host (the ceiling; 429s lower it for a while).
        ``None``: :func:`default_workers`.
    verify
        ``True``, ``False`` or a CA bundle path; ``None`` keeps the session's own
        setting, else ``$REQUESTS_CA_BUNDLE``, ``$CURL_CA_BUNDLE``, then certifi's bundle.
    backend
        ``"curl"``, ``"requests"`` or ``None`` (``$REGFRAME_TRANSPORT``, else libcurl
        when pycurl is installed).

    Examples
    --------
    >>> transport = Transport(timeout=10, max_workers=4, backend="requests")
    >>> transport.request("GET", "https://ghcr.io/v2/").status  # doctest: +SKIP
    401
    >>> transport.backend.name
    'requests'
    >>> transport.close()
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float = 30.0,
        max_workers: int | None = None,
        verify: bool | str | None = None,
        backend: str | None = None,
    ) -> None:
        name = _backend_name(session, backend)
        self.timeout = float(timeout)
        self.max_workers = max(1, int(max_workers or DEFAULT_WORKERS[name]))
        if verify is None and (session is None or not session.trust_env):
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            verify = bundle or None
        self.verify = verify
        self.backend: Backend = _make_backend(name, session, self.timeout, self.max_workers, verify)
        if session is None and name == "requests" and not fast_available():
            log.debug("transport: requests (HTTP/1.1); for HTTP/2 and less CPU: %s", FAST_HINT)
        #: The ``requests.Session`` sending for the ``requests`` backend (``None`` for curl).
        self.session: requests.Session | None = getattr(self.backend, "session", None)
        self.owns_session = session is None
        # False for the transports share() hands out: the backend belongs to their parent.
        self._closes_backend = True
        #: Set to stop this transport: no new request or retry is sent, and the libcurl
        #: backend aborts what is on the wire (see ``jobs``).
        self.cancelled = threading.Event()
        self._limits: dict[str, AdaptiveLimit] = {}
        self._limits_lock = threading.Lock()
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "throttled": 0}
        self._stats_lock = threading.Lock()

    def share(self) -> Transport:
        """A transport for another repository of the same run.

        It sends through the same backend and counts against the same per-host
        limits (so reading several images at once never puts more than
        ``max_workers`` requests in flight to one host), keeps its own
        :attr:`stats`, and closing it leaves the backend open for the others.

        Examples
        --------
        >>> parent = Transport(max_workers=4)
        >>> child = parent.share()
        >>> child.backend is parent.backend, child.stats["requests"]
        (True, 0)
        >>> child.close(); parent.close()
        """
        other = Transport.__new__(Transport)
        other.__dict__.update(self.__dict__)
        other._closes_backend = False
        other.stats = {"requests": 0, "retries": 0, "throttled": 0}
        other._stats_lock = threading.Lock()
        return other

    def close(self) -> None:
        """Close the backend (and regframe's own session); a caller's session stays open."""
        if self._closes_backend:
            self.backend.close()

    def spawner(self) -> Callable[[Callable[[], None]], None] | None:
        """Where a read's jobs may run as greenlets instead of threads; ``None``: threads.

        The libcurl backend runs them on its driver's thread when greenlet is installed
        (see :mod:`regframe.client.green`); ``requests`` always uses threads.
        """
        spawn: Callable[[Callable[[], None]], None] | None = getattr(self.backend, "spawn", None)
        return spawn if green.enabled() else None

    def probe(self, url: str) -> Reply:
        """``GET url`` more cheaply: connection errors are retried, read timeouts are not.

        Used for the https attempt on registries that may also speak plain
        http: a server that never answers a TLS ClientHello would otherwise
        cost ``(1 + read retries) x timeout`` before the fallback.
        """
        return self._send_once(Request("GET", url, {}), PROBE_POLICY)

    def _limit_for(self, url: str) -> AdaptiveLimit:
        key = host_key(url)
        with self._limits_lock:
            limit = self._limits.get(key)
            if limit is None:
                limit = self._limits[key] = AdaptiveLimit(self.max_workers, self.cancelled)
            return limit

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] = self.stats.get(key, 0) + n

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        limit: int = DEFAULT_LIMIT,
        follow_redirects: bool = True,
        auth: tuple[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        """Send ``method url`` and return the fully read :class:`Reply`.

        ``Authorization`` in ``headers`` (and ``auth``) only ever goes to the
        origin of ``url``; redirects elsewhere are followed without it.  An
        https URL is never followed to plain http.  ``body`` is sent as is
        (set ``Content-Type`` in ``headers``); a 303 turns the request into a
        body-less GET, 307/308 send it again.  Only GET and HEAD are retried
        on 5xx/429 or after a request was sent: other methods are sent once.

        Raises
        ------
        ResponseTooLarge
            The body exceeded ``limit`` bytes.
        RegistryError
            Connection failures after retries, a redirect loop or downgrade.
        """
        hop = Request(method, url, dict(headers or {}), body, auth, limit)
        seen: set[str] = set()
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._send_once(hop)
            if not follow_redirects or reply.status not in _REDIRECT_STATUSES:
                return reply
            location = reply.headers.get("Location")
            if not location:
                return reply
            target = urljoin(hop.url, location)
            _check_redirect(hop.url, target, reply.status, seen)
            seen.add(target)
            hop = replace(hop, url=target)
            if origin_of(target) != origin_of(url):
                # Credentials were issued to the first origin only; once a
                # redirect leaves it they are gone for the rest of the chain.
                kept = {k: v for k, v in hop.headers.items() if k.lower() != "authorization"}
                hop = replace(hop, headers=kept, auth=None)
            if reply.status == 303:
                hop = replace(hop, method="GET", body=None)
        raise RegistryError(f"more than {MAX_REDIRECTS} redirects", url=redact_url(hop.url))

    def _send_once(self, request: Request, policy: RetryPolicy = DEFAULT_POLICY) -> Reply:
        """One request, sent again as :mod:`~regframe.client.retry` allows."""
        url = request.url
        state = RetryState(policy, request.method)
        broken_bodies = 0
        while True:
            try:
                reply = self._attempt(request)
            except TransferFailed as exc:
                if not state.allow(exc.kind):
                    raise exc.error from None
                wait = state.backoff()
            except BodyInterrupted as exc:
                # A body that broke off mid-read: a few fresh tries, on top of the budget.
                broken_bodies += 1
                if broken_bodies >= 3:
                    raise RegistryError(
                        f"{redact_host(url)} kept breaking off the answer: {exc}",
                        url=redact_url(url),
                    ) from None
                wait = 0.1 * 2 ** (broken_bodies - 1) + random.uniform(0, 0.1)  # noqa: S311
            else:
                if reply.status not in RETRY_STATUSES or not state.allow("status"):
                    return reply
                wait = state.wait_for(reply.status, reply.headers)
            self._count("retries")
            if not pause(wait, self.cancelled):
                raise _cancelled(url)

    def _attempt(self, request: Request) -> Reply:
        """Send once through the backend within the host's concurrency limit."""
        limiter = self._limit_for(request.url)
        if self.cancelled.is_set() or not limiter.acquire():
            raise _cancelled(request.url)
        throttled = False
        started = time.perf_counter()
        try:
            self._count("requests")
            reply = self.backend.send(request, self.cancelled)
            throttled = reply.status == 429
        finally:
            limiter.release(throttled)
        if throttled:
            self._count("throttled")
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s -> %d (%.0f ms, %s)",
                request.method,
                redact_url(request.url),
                reply.status,
                (time.perf_counter() - started) * 1000,
                reply.http_version or self.backend.name,
            )
        return reply


def _cancelled(url: str) -> RegistryError:
    return RegistryError("request cancelled: the read was interrupted", url=redact_url(url))


def _check_redirect(url: str, target: str, status: int, seen: set[str]) -> None:
    """Refuse a redirect to another scheme, from https to http, or in a loop."""
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("http", "https"):
        raise RegistryError(
            f"refusing redirect to a non-HTTP URL scheme {scheme!r}",
            status_code=status,
            url=redact_url(url),
        )
    if urlsplit(url).scheme == "https" and scheme == "http":
        raise RegistryError(
            "refusing redirect from https to plain http", status_code=status, url=redact_url(url)
        )
    if target in seen:
        raise RegistryError("redirect loop", status_code=status, url=redact_url(target))


def _make_backend(
    name: str,
    session: requests.Session | None,
    timeout: float,
    max_workers: int,
    verify: bool | str | None,
) -> Backend:
    if name == "curl":
        from regframe.client.transport_curl import CurlBackend

        return CurlBackend(timeout=timeout, max_workers=max_workers, verify=verify)
    return RequestsBackend(session, timeout=timeout, max_workers=max_workers, verify=verify)


def json_errors(body: bytes) -> list[dict[str, Any]]:
    """The registry ``errors`` list from an error body, or ``[]`` when it has none.

    Examples
    --------
    >>> json_errors(b'{"errors": [{"code": "NAME_UNKNOWN", "message": "no repo"}]}')
    [{'code': 'NAME_UNKNOWN', 'message': 'no repo'}]
    >>> json_errors(b"<html>oops</html>")
    []
    """
    try:
        doc = json.loads(body.decode("utf-8", "replace")) if body else None
    except ValueError:
        return []
    if isinstance(doc, dict) and isinstance(doc.get("errors"), list):
        return [e for e in doc["errors"] if isinstance(e, dict)]
    return []
