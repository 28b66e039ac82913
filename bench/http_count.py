"""Count a client's HTTP requests by kind, at the ``requests`` adapter (exact, per attempt).

Wrapping the adapter sees every request a ``requests.Session`` sends, whichever
code sends it, without touching regframe: :func:`counting_session` returns the
same pooled session regframe would build itself, with a counter in front of its
adapter.  Retries urllib3 performs inside one ``send`` are added from the
response's retry history, so nothing the registry served goes uncounted.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import requests.adapters

from regframe.client.transport import build_session

__all__ = [
    "BY_DIGEST",
    "KINDS",
    "CountingAdapter",
    "RequestLog",
    "classify",
    "counting_session",
]

KINDS = (
    "ping",
    "token",
    "tags_list",
    "manifest_by_tag_get",
    "manifest_by_tag_head",
    "manifest_by_digest",
    "blob",
    "other",
)
#: Kinds that a warm run must never need: everything addressed by an immutable digest.
BY_DIGEST = ("manifest_by_digest", "blob")
_OBJECT = re.compile(r"/v2/.+/(manifests|blobs)/([^/]+)$")


def classify(method: str, url: str, registry_netloc: str) -> str:
    """Name the kind of a registry request (see :data:`KINDS`).

    Anything sent to another host than the registry (the token realm on
    127.0.0.2) is ``token``.

    Examples
    --------
    >>> classify("HEAD", "http://127.0.0.1:9/v2/a/b/manifests/1.0", "127.0.0.1:9")
    'manifest_by_tag_head'
    >>> classify("GET", "http://127.0.0.1:9/v2/a/blobs/sha256:ab", "127.0.0.1:9")
    'blob'
    """
    parts = urlsplit(url)
    if parts.netloc.lower() != registry_netloc.lower():
        return "token"
    path = parts.path
    if path.rstrip("/") == "/v2":
        return "ping"
    if path.endswith("/tags/list"):
        return "tags_list"
    m = _OBJECT.search(path)
    if m is None:
        return "other"
    if m.group(1) == "blobs":
        return "blob"
    if ":" in unquote(m.group(2)):
        return "manifest_by_digest"
    return f"manifest_by_tag_{method.lower()}" if method in ("GET", "HEAD") else "other"


class RequestLog:
    """Thread-safe counts of requests by kind for one registry.

    Examples
    --------
    >>> log = RequestLog("127.0.0.1:9")
    >>> log.add("GET", "http://127.0.0.1:9/v2/")
    >>> log.snapshot()["ping"], log.total
    (1, 1)
    """

    def __init__(self, registry_netloc: str) -> None:
        self.registry_netloc = registry_netloc
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, method: str, url: str, n: int = 1) -> None:
        kind = classify(method, url, self.registry_netloc)
        with self._lock:
            self._counts[kind] += n

    def snapshot(self) -> dict[str, int]:
        """Every kind in :data:`KINDS` order (zeros included)."""
        with self._lock:
            return {k: self._counts.get(k, 0) for k in KINDS}

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    @property
    def by_digest(self) -> int:
        snap = self.snapshot()
        return sum(snap[k] for k in BY_DIGEST)


class CountingAdapter(requests.adapters.BaseAdapter):
    """Forwards to ``inner`` and records every request (and urllib3 retry) in ``log``."""

    def __init__(self, inner: requests.adapters.BaseAdapter, log: RequestLog) -> None:
        super().__init__()
        self.inner = inner
        self.log = log

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        method, url = request.method or "GET", request.url or ""
        self.log.add(method, url)
        resp = self.inner.send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        retries: Any = getattr(resp.raw, "retries", None)
        history = getattr(retries, "history", ()) or ()
        if history:
            self.log.add(method, url, len(history))
        return resp

    def close(self) -> None:
        self.inner.close()


def counting_session(log: RequestLog, max_workers: int = 16) -> requests.Session:
    """regframe's own pooled session (:func:`regframe.client.transport.build_session`), counted.

    Examples
    --------
    >>> s = counting_session(RequestLog("127.0.0.1:9"))
    >>> type(s.get_adapter("http://x")).__name__
    'CountingAdapter'
    """
    session = build_session(max_workers)
    for prefix in ("http://", "https://"):
        session.mount(prefix, CountingAdapter(session.get_adapter(prefix), log))
    return session
