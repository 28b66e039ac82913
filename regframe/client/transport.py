"""HTTP transport: one pooled session, bounded reads, safe redirects, retries, per-host limits.

Everything regframe sends goes through :class:`Transport`.  It owns the rules
that must hold for *every* request, so no caller can forget them:

* a timeout on every request and a wall-clock deadline on every body;
* bodies are read with a byte limit (manifests, configs and token answers are
  small; anything larger is an attack or a bug);
* redirects are followed by hand so ``Authorization`` is dropped the moment a
  redirect leaves the origin that asked for it, and never comes back;
* retries with exponential backoff and jitter on 408/429/5xx and connection
  errors (urllib3's :class:`~urllib3.util.retry.Retry`), plus a retry of the
  body read, which urllib3 cannot cover because requests reads bodies after
  urllib3 has returned;
* a per-host concurrency limit that halves when a registry answers 429 and
  grows back slowly (additive increase, multiplicative decrease).
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    LocationValueError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import InvalidHeader as Urllib3InvalidHeader
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from regframe._version import __version__
from regframe.client.headers import parse_retry_after
from regframe.client.neterrors import name_unknown, network_error, short_error
from regframe.client.redact import redact_host, redact_url
from regframe.errors import BodyInterrupted, RegistryError, ResponseTooLarge

__all__ = [
    "USER_AGENT",
    "Reply",
    "ResponseTooLarge",
    "Transport",
    "build_session",
    "json_errors",
    "network_error",
    "origin_of",
]

log = logging.getLogger(__name__)

USER_AGENT = f"regframe/{__version__} (+https://pypi.org/project/regframe/)"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
class CappedRetry(Retry):
    """urllib3 ``Retry`` that parses ``Retry-After`` leniently and caps it.

    urllib3 raises ``InvalidHeader`` on an unparsable ``Retry-After``, which
    would surface as a raw urllib3 traceback from a misbehaving registry, and
    older urllib3 releases honour any delay a server names (hours).  Both are
    worse than a bounded, typed outcome, so we override the one hook.
    """

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"), cap=MAX_RETRY_AFTER)

    def increment(self, *args: Any, **kwargs: Any) -> CappedRetry:
        error = kwargs.get("error", args[3] if len(args) > 3 else None)
        if isinstance(error, NameResolutionError) and name_unknown(error):
            # A name the resolver says does not exist will not exist a second
            # later; retrying it only makes a typo cost seconds.
            pool = kwargs.get("_pool", args[4] if len(args) > 4 else None)
            url = kwargs.get("url", args[1] if len(args) > 1 else None)
            raise MaxRetryError(pool, url, error) from error  # type: ignore[arg-type]
        return super().increment(*args, **kwargs)


def default_retry() -> Retry:
    """The retry policy used for every request regframe makes."""
    # Eight attempts survive a registry that fails one request in four
    # (resets, 503s and 429s together) with a per-request failure chance of
    # about 2e-6; the short backoff keeps a registry that always fails to
    # about 15 s before the typed error.
    return CappedRetry(
        total=8,
        connect=6,
        read=6,
        status=7,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.1,
        backoff_max=4.0,
        backoff_jitter=0.2,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=True,
    )


class _NoNetrc(requests.auth.AuthBase):
    """Stops requests from adding ``~/.netrc`` credentials to hosts that never asked."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def build_session(max_workers: int = 16, *, retry: Retry | None = None) -> requests.Session:
    """A ``requests.Session`` pooled for ``max_workers`` threads, with regframe's retry policy.

    Parameters
    ----------
    max_workers
        Connections kept per host; matches the thread pool so no thread waits
        for a socket.

    Examples
    --------
    >>> s = build_session(4)
    >>> s.headers["User-Agent"].startswith("regframe/")
    True
    """
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=8,
        pool_maxsize=max(1, max_workers),
        max_retries=retry if retry is not None else default_retry(),
        pool_block=False,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # requests re-reads the proxy environment on every request when trust_env
    # is on (about 15% of the client's CPU in a 3,000-request run).  Transport
    # resolves the environment once per origin instead, so proxies,
    # NO_PROXY and REQUESTS_CA_BUNDLE keep working.
    session.trust_env = False
    return session


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the default port filled in, for same-origin checks.

    Examples
    --------
    >>> origin_of("HTTPS://Registry.example/v2/") == origin_of("https://registry.example:443/x")
    True
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True)
class Reply:
    """A fully read HTTP answer.

    Examples
    --------
    >>> from requests.structures import CaseInsensitiveDict
    >>> headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8"})
    >>> Reply(200, headers, b"{}", "https://r.example/v2/").content_type
    'application/json'
    """

    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


class _AdaptiveLimit:
    """Per-host concurrency that halves on 429 and creeps back up on success."""

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
                self._cond.wait(0.25)
            self.in_flight += 1
            return True

    def release(self, throttled: bool) -> None:
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


class Transport:
    """Sends requests with regframe's safety rules; see the module docstring.

    Parameters
    ----------
    session
        A caller's session (used as is, including its adapters) or ``None`` to
        build a pooled one.
    timeout
        Seconds for connect and for each read; a body must also arrive within
        ``4 * timeout`` in total.
    max_workers
        Concurrency ceiling per host.
    verify
        Passed to requests (``True``, ``False`` or a CA bundle path); ``None``
        keeps the session's own setting (``$REQUESTS_CA_BUNDLE`` for ours).

    Examples
    --------
    >>> transport = Transport(timeout=10, max_workers=4)
    >>> transport.request("GET", "https://ghcr.io/v2/").status  # doctest: +SKIP
    401
    >>> transport.close()
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float = 30.0,
        max_workers: int = 16,
        verify: bool | str | None = None,
    ) -> None:
        self.session = session if session is not None else build_session(max_workers)
        self.owns_session = session is None
        # False for the transports share() hands out: the session belongs to their parent.
        self._closes_session = True
        self.timeout = float(timeout)
        self.max_workers = max(1, int(max_workers))
        self.verify = verify
        self._probe_session: requests.Session | None = None
        #: Set to stop this transport: no new request or retry is sent (see ``jobs``).
        self.cancelled = threading.Event()
        self._limits: dict[str, _AdaptiveLimit] = {}
        self._limits_lock = threading.Lock()
        self.stats: dict[str, int] = {"requests": 0, "retries": 0, "throttled": 0}
        self._stats_lock = threading.Lock()
        self._proxies: dict[str, dict[str, str]] = {}
        self._plain = _is_plain(self.session)
        if verify is None and not self.session.trust_env:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                self.verify = bundle

    def _proxies_for(self, url: str) -> dict[str, str] | None:
        """Environment proxies for ``url``'s origin, looked up once (see build_session)."""
        if self.session.trust_env:
            return None  # a caller's session: requests applies the environment itself
        key = urlsplit(url).netloc.lower()
        found = self._proxies.get(key)
        if found is None:
            found = self._proxies[key] = requests.utils.get_environ_proxies(url)
        return found

    def share(self) -> Transport:
        """A transport for another repository of the same run.

        It sends through the same session and counts against the same per-host
        limits (so reading several images at once never puts more than
        ``max_workers`` requests in flight to one host), keeps its own
        :attr:`stats`, and closing it leaves the session open for the others.

        Examples
        --------
        >>> parent = Transport(max_workers=4)
        >>> child = parent.share()
        >>> child.session is parent.session, child.stats["requests"]
        (True, 0)
        >>> child.close(); parent.close()
        """
        other = Transport.__new__(Transport)
        other.__dict__.update(self.__dict__)
        other._closes_session = False
        other._probe_session = None
        other.stats = {"requests": 0, "retries": 0, "throttled": 0}
        other._stats_lock = threading.Lock()
        return other

    def close(self) -> None:
        if self.owns_session and self._closes_session:
            self.session.close()
        if self._probe_session is not None:
            self._probe_session.close()

    def probe(self, url: str) -> Reply:
        """``GET url`` more cheaply: connection errors are retried, read timeouts are not.

        Used for the https attempt on registries that may also speak plain
        http: a server that never answers a TLS ClientHello would otherwise
        cost ``(1 + read retries) x timeout`` before the fallback.  Safe to
        swap the session here: ``RegistryClient.open`` probes before any
        worker thread exists.
        """
        if not self.owns_session:
            # A caller's session is used as is, adapters and retry policy included.
            return self.request("GET", url)
        if self._probe_session is None:
            probe = build_session(1, retry=default_retry().new(read=0, status=1))
            probe.trust_env = self.session.trust_env
            self._probe_session = probe
        saved, self.session = self.session, self._probe_session
        try:
            return self.request("GET", url)
        finally:
            self.session = saved

    def _limit_for(self, url: str) -> _AdaptiveLimit:
        key = urlsplit(url).netloc.lower()
        with self._limits_lock:
            limit = self._limits.get(key)
            if limit is None:
                limit = self._limits[key] = _AdaptiveLimit(self.max_workers, self.cancelled)
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
        limit: int = 4 * 1024 * 1024,
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
        on 5xx/429 by the session's policy: other methods are sent once.

        Raises
        ------
        ResponseTooLarge
            The body exceeded ``limit`` bytes.
        RegistryError
            Connection failures after retries, a redirect loop or downgrade.
        """
        first_origin = origin_of(url)
        hdrs = dict(headers or {})
        send_auth = auth
        seen: set[str] = set()
        for _hop in range(MAX_REDIRECTS + 1):
            reply = self._send_once(method, url, hdrs, limit, send_auth, body)
            if not follow_redirects or reply.status not in _REDIRECT_STATUSES:
                return reply
            location = reply.headers.get("Location")
            if not location:
                return reply
            target = urljoin(url, location)
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                raise RegistryError(
                    f"refusing redirect to a non-HTTP URL scheme {scheme!r}",
                    status_code=reply.status,
                    url=redact_url(url),
                )
            if urlsplit(url).scheme == "https" and scheme == "http":
                raise RegistryError(
                    "refusing redirect from https to plain http",
                    status_code=reply.status,
                    url=redact_url(url),
                )
            if target in seen:
                raise RegistryError(
                    "redirect loop", status_code=reply.status, url=redact_url(target)
                )
            seen.add(target)
            if origin_of(target) != first_origin:
                # Credentials were issued to the first origin only; once a
                # redirect leaves it they are gone for the rest of the chain.
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
                send_auth = None
            if reply.status == 303:
                method, body = "GET", None
            url = target
        raise RegistryError(f"more than {MAX_REDIRECTS} redirects", url=redact_url(url))

    def _send_once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        limit: int,
        auth: tuple[str, str] | None,
        payload: bytes | None = None,
    ) -> Reply:
        body_attempts = 3
        limiter = self._limit_for(url)
        for attempt in range(body_attempts):
            if self.cancelled.is_set() or not limiter.acquire():
                raise RegistryError(
                    "request cancelled: the read was interrupted", url=redact_url(url)
                )
            throttled = False
            try:
                self._count("requests")
                try:
                    resp = self._send_http(method, url, headers, auth, payload)
                except requests.exceptions.RetryError as exc:
                    raise RegistryError(
                        f"{redact_host(url)} kept failing after retries: {short_error(exc)}",
                        url=redact_url(url),
                    ) from None
                except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                    # SSLError and ProxyError are ConnectionErrors too.
                    raise network_error(exc, url, self.timeout) from None
                except requests.exceptions.RequestException as exc:
                    raise RegistryError(
                        f"request to {redact_host(url)} failed: {short_error(exc)}",
                        url=redact_url(url),
                    ) from None
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "%s %s -> %d (%.0f ms)",
                        method,
                        redact_url(url),
                        resp.status_code,
                        resp.elapsed.total_seconds() * 1000,
                    )
                history = getattr(getattr(resp.raw, "retries", None), "history", ()) or ()
                if history:
                    self._count("retries", len(history))
                throttled = resp.status_code == 429 or any(
                    getattr(h, "status", None) == 429 for h in history
                )
                if throttled:
                    self._count("throttled")
                try:
                    if method == "HEAD":
                        # Consuming the (empty) body is what returns the socket
                        # to the pool; closing an unread response drops it, and
                        # every warm-run HEAD would pay a new connection.
                        _ = resp.content
                        body = b""
                    else:
                        body = self._read_body(resp, limit, url)
                except BodyInterrupted as exc:
                    if attempt + 1 >= body_attempts:
                        raise RegistryError(
                            f"{redact_host(url)} kept breaking off the answer: {exc}",
                            url=redact_url(url),
                        ) from None
                    self._count("retries")
                    time.sleep(0.1 * (2**attempt) + random.uniform(0, 0.1))  # noqa: S311
                    continue
                finally:
                    resp.close()
                return Reply(resp.status_code, resp.headers, body, url)
            finally:
                limiter.release(throttled)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_http(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        auth: tuple[str, str] | None,
        payload: bytes | None = None,
    ) -> requests.Response:
        """One HTTP exchange through the session's adapter (its retries included)."""
        # requests lets $REQUESTS_CA_BUNDLE beat session.verify when verify is
        # None (psf/requests#3829): a caller's CA must win.
        verify = self.verify if self.verify is not None else self.session.verify
        if not self._plain:
            return self.session.request(
                method,
                url,
                headers=dict(headers),
                auth=auth if auth is not None else _NoNetrc(),
                data=payload,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                stream=True,
                verify=verify,
                proxies=self._proxies_for(url),
            )
        # A session without cookies, hooks, auth, params or environment
        # lookups gains nothing from Session.request's merging, which costs
        # about a third of the client's CPU per request; the mounted adapter
        # (with its urllib3 retry policy) still sends the request.
        env = self._proxies_for(url)
        proxies = {**self.session.proxies, **env} if env else self.session.proxies
        adapter = self.session.get_adapter(url)
        started = time.perf_counter()
        if (
            auth is None
            and payload is None
            and not proxies
            and method in ("GET", "HEAD")
            and url.isascii()
            and type(adapter) is requests.adapters.HTTPAdapter
            and requests.adapters.HTTPAdapter.send is _ADAPTER_SEND
        ):
            resp = self._send_pooled(adapter, method, url, headers, verify)
        else:
            prepared = requests.PreparedRequest()
            prepared.prepare(
                method=method,
                url=url,
                headers={**self.session.headers, **headers},
                auth=auth,
                data=payload,
            )
            resp = adapter.send(
                prepared,
                stream=True,
                timeout=(self.timeout, self.timeout),
                verify=True if verify is None else verify,
                cert=self.session.cert,
                proxies=proxies,
            )
        # Session.send would have timed it (the debug log shows it).
        resp.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
        return resp

    def _send_pooled(
        self,
        adapter: requests.adapters.HTTPAdapter,
        method: str,
        url: str,
        headers: Mapping[str, str],
        verify: bool | str | None,
    ) -> requests.Response:
        """What ``HTTPAdapter.send`` does for a plain GET or HEAD, minus its per-call overhead.

        The adapter's own connection pool and retry policy send the request; only
        the request preparation and the cookie bookkeeping of the response are
        skipped (no cookies are kept for a plain session).  urllib3's exceptions
        become the ones the adapter would raise, so callers see no difference.
        """
        target = requests.PreparedRequest()
        target.url = url
        tls = True if verify is None else verify
        try:
            pool = cast(
                "urllib3.HTTPConnectionPool",
                adapter.get_connection_with_tls_context(
                    target, tls, proxies=None, cert=self.session.cert
                ),
            )
        except LocationValueError as exc:
            raise requests.exceptions.InvalidURL(exc) from None
        adapter.cert_verify(pool, url, tls, self.session.cert)  # type: ignore[no-untyped-call]
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            raw = pool.urlopen(
                method=method,
                url=path,
                body=None,
                headers={**cast("Mapping[str, str]", self.session.headers), **headers},
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                retries=adapter.max_retries,
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
            )
        except (ProtocolError, OSError) as err:
            raise requests.exceptions.ConnectionError(err) from err
        except MaxRetryError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectTimeoutError) and not isinstance(
                reason, NewConnectionError
            ):
                raise requests.exceptions.ConnectTimeout(exc) from exc
            if isinstance(reason, ResponseError):
                raise requests.exceptions.RetryError(exc) from exc
            if isinstance(reason, Urllib3SSLError):
                raise requests.exceptions.SSLError(exc) from exc
            raise requests.exceptions.ConnectionError(exc) from exc
        except ClosedPoolError as exc:
            raise requests.exceptions.ConnectionError(exc) from exc
        except Urllib3SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except Urllib3InvalidHeader as exc:
            raise requests.exceptions.InvalidHeader(exc) from exc
        resp = requests.Response()
        resp.status_code = raw.status
        resp.headers = CaseInsensitiveDict(raw.headers)
        resp.raw = raw
        resp.reason = raw.reason or ""
        resp.url = url
        return resp

    def _read_body(self, resp: requests.Response, limit: int, url: str) -> bytes:
        declared = resp.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > limit:
            raise ResponseTooLarge(
                f"answer of {int(declared)} bytes exceeds the {limit}-byte limit",
                status_code=resp.status_code,
                url=redact_url(url),
            )
        deadline = time.monotonic() + 4 * self.timeout
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLarge(
                        f"answer exceeds the {limit}-byte limit",
                        status_code=resp.status_code,
                        url=redact_url(url),
                    )
                if time.monotonic() > deadline:
                    raise BodyInterrupted("body did not arrive in time")
                chunks.append(chunk)
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError,
            requests.exceptions.ContentDecodingError,
            requests.exceptions.Timeout,
        ) as exc:
            raise BodyInterrupted(short_error(exc)) from None
        return b"".join(chunks)


#: The adapter's own ``send``; a test or user that patches it keeps its patch (see _send_http).
_ADAPTER_SEND = requests.adapters.HTTPAdapter.send


def _is_plain(session: requests.Session) -> bool:
    """True when a session adds nothing per request beyond headers, proxies, verify and cert.

    A subclass that overrides how requests are made (to count or refuse them) is not plain.
    """
    kind = type(session)
    return (
        kind.request is requests.Session.request
        and kind.send is requests.Session.send
        and kind.prepare_request is requests.Session.prepare_request
        and not session.trust_env
        and not session.cookies
        and session.auth is None
        and not session.params
        and not any(session.hooks.values())
    )


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
