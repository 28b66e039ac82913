"""The ``requests``/urllib3 backend: one exchange over pooled HTTP/1.1 connections.

The default when pycurl (the ``fast`` extra) is not installed, and always the path
of a caller's own ``requests.Session`` (``session=``), whose adapters, hooks and
settings it honours.  Retries and redirects are the transport's
(:mod:`regframe.client.transport`): regframe's own session mounts adapters that
never retry, so a request is never retried twice over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import cast
from urllib.parse import urlsplit

import requests
import requests.adapters
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    LocationValueError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import InvalidHeader as Urllib3InvalidHeader
from urllib3.exceptions import SSLError as Urllib3SSLError

from regframe.client.neterrors import failure_kind, network_error, short_error
from regframe.client.redact import redact_host, redact_url
from regframe.client.reply import USER_AGENT, Reply, Request
from regframe.errors import BodyInterrupted, RegistryError, ResponseTooLarge, TransferFailed

__all__ = ["RequestsBackend", "build_session"]


class _NoNetrc(requests.auth.AuthBase):
    """Stops requests from adding ``~/.netrc`` credentials to hosts that never asked."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def build_session(max_workers: int = 16) -> requests.Session:
    """A ``requests.Session`` pooled for ``max_workers`` threads; its adapters never retry.

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
        pool_connections=8, pool_maxsize=max(1, max_workers), max_retries=0, pool_block=False
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # requests re-reads the proxy environment on every request when trust_env
    # is on (about 15% of the client's CPU in a 3,000-request run).  The backend
    # resolves the environment once per origin instead, so proxies, NO_PROXY
    # and REQUESTS_CA_BUNDLE keep working.
    session.trust_env = False
    return session


class RequestsBackend:
    """Sends one exchange through a ``requests.Session`` (regframe's own, or a caller's).

    Examples
    --------
    >>> backend = RequestsBackend(None, timeout=5, max_workers=4, verify=None)
    >>> backend.name, backend.session.trust_env
    ('requests', False)
    >>> backend.close()
    """

    name = "requests"

    def __init__(
        self,
        session: requests.Session | None,
        *,
        timeout: float,
        max_workers: int,
        verify: bool | str | None,
    ) -> None:
        self.session = session if session is not None else build_session(max_workers)
        self.owns_session = session is None
        self.timeout = timeout
        self.verify = verify
        self._proxies: dict[str, dict[str, str]] = {}
        self._plain = _is_plain(self.session)

    def close(self) -> None:
        if self.owns_session:
            self.session.close()

    def send(self, request: Request, cancelled: threading.Event) -> Reply:
        """One exchange; raises TransferFailed, BodyInterrupted or ResponseTooLarge."""
        url = request.url
        try:
            resp = self._send_http(request)
        except requests.exceptions.RetryError as exc:  # a caller's adapter gave up
            error = RegistryError(
                f"{redact_host(url)} kept failing after retries: {short_error(exc)}",
                url=redact_url(url),
            )
            raise TransferFailed("other", error) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            # SSLError and ProxyError are ConnectionErrors too.
            error = network_error(exc, url, self.timeout)
            raise TransferFailed(failure_kind(exc), error) from None
        except requests.exceptions.InvalidHeader:
            # Never quoted: the value may be a credential (a token with a line break).
            error = RegistryError("refusing to send an invalid header value", url=redact_url(url))
            raise TransferFailed("other", error) from None
        except requests.exceptions.RequestException as exc:
            error = RegistryError(
                f"request to {redact_host(url)} failed: {short_error(exc)}", url=redact_url(url)
            )
            raise TransferFailed("other", error) from None
        try:
            if request.method == "HEAD":
                # Consuming the (empty) body is what returns the socket to the
                # pool; closing an unread response drops it, and every warm-run
                # HEAD would pay a new connection.
                _ = resp.content
                data = b""
            else:
                data = self._read_body(resp, request.limit, url)
        finally:
            resp.close()
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(getattr(resp.raw, "version", 0), "")
        return Reply(resp.status_code, resp.headers, data, url, version)

    def _proxies_for(self, url: str) -> dict[str, str] | None:
        """Environment proxies for ``url``'s origin, looked up once (see build_session)."""
        if self.session.trust_env:
            return None  # a caller's session: requests applies the environment itself
        key = urlsplit(url).netloc.lower()
        found = self._proxies.get(key)
        if found is None:
            found = self._proxies[key] = requests.utils.get_environ_proxies(url)
        return found

    def _send_http(self, request: Request) -> requests.Response:
        """One HTTP exchange through the session's adapter."""
        url = request.url
        # requests lets $REQUESTS_CA_BUNDLE beat session.verify when verify is
        # None (psf/requests#3829): a caller's CA must win.
        verify = self.verify if self.verify is not None else self.session.verify
        if not self._plain:
            return self.session.request(
                request.method,
                url,
                headers=dict(request.headers),
                auth=request.auth if request.auth is not None else _NoNetrc(),
                data=request.body,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                stream=True,
                verify=verify,
                proxies=self._proxies_for(url),
            )
        # A session without cookies, hooks, auth, params or environment
        # lookups gains nothing from Session.request's merging, which costs
        # about a third of the client's CPU per request; the mounted adapter
        # still sends the request.
        env = self._proxies_for(url)
        proxies = {**self.session.proxies, **env} if env else self.session.proxies
        adapter = self.session.get_adapter(url)
        if (
            request.auth is None
            and request.body is None
            and not proxies
            and request.method in ("GET", "HEAD")
            and url.isascii()
            and type(adapter) is requests.adapters.HTTPAdapter
            and requests.adapters.HTTPAdapter.send is _ADAPTER_SEND
        ):
            return self._send_pooled(adapter, request, verify)
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method,
            url=url,
            headers={**self.session.headers, **request.headers},
            auth=request.auth,
            data=request.body,
        )
        return adapter.send(
            prepared,
            stream=True,
            timeout=(self.timeout, self.timeout),
            verify=True if verify is None else verify,
            cert=self.session.cert,
            proxies=proxies,
        )

    def _send_pooled(
        self, adapter: requests.adapters.HTTPAdapter, request: Request, verify: bool | str | None
    ) -> requests.Response:
        """What ``HTTPAdapter.send`` does for a plain GET or HEAD, minus its per-call overhead.

        The adapter's own connection pool sends the request; only the request
        preparation and the cookie bookkeeping of the response are skipped (no
        cookies are kept for a plain session).  urllib3's exceptions become the
        ones the adapter would raise, so callers see no difference.
        """
        url = request.url
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
                method=request.method,
                url=path,
                body=None,
                headers={**cast("Mapping[str, str]", self.session.headers), **request.headers},
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                retries=adapter.max_retries,
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
            )
        except Exception as exc:  # mapped as HTTPAdapter.send maps them
            raise _as_requests_error(exc) from exc
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


def _as_requests_error(exc: Exception) -> Exception:
    """The exception ``HTTPAdapter.send`` raises for what ``urlopen`` raised."""
    errors = requests.exceptions
    if isinstance(exc, MaxRetryError):
        reason = exc.reason
        if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
            return errors.ConnectTimeout(exc)
        if isinstance(reason, ResponseError):
            return errors.RetryError(exc)
        if isinstance(reason, Urllib3SSLError):
            return errors.SSLError(exc)
        return errors.ConnectionError(exc)
    if isinstance(exc, (ProtocolError, OSError, ClosedPoolError)):
        return errors.ConnectionError(exc)
    if isinstance(exc, Urllib3SSLError):
        return errors.SSLError(exc)
    if isinstance(exc, ReadTimeoutError):
        return errors.ReadTimeout(exc)
    if isinstance(exc, Urllib3InvalidHeader):
        return errors.InvalidHeader(exc)
    if isinstance(exc, ValueError):  # http.client's checks of header values and paths
        return (errors.InvalidHeader if "header" in str(exc).lower() else errors.InvalidURL)(exc)
    return exc


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
