"""Network failures in plain words: which host, and what went wrong, never a library class name.

One rule for every message about a registry that could not be reached, so the library's
:class:`~regframe.errors.NetworkError` and the command line read the same.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from regframe.client.redact import redact_host, redact_url
from regframe.errors import NetworkError

__all__ = ["FINAL_DNS", "failure_kind", "name_unknown", "network_error", "short_error"]

# Resolver answers that mean "no such name" rather than "try again later".
FINAL_DNS = frozenset(
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
)


def short_error(exc: BaseException) -> str:
    """``exc`` as one line of at most about 200 characters, cut at a word."""
    text = str(exc) or type(exc).__name__
    # urllib3 wraps the root cause several levels deep and the whole repr can
    # run to several hundred characters; cut at a word, never inside one.
    if len(text) <= 200:
        return text
    return text[:200].rsplit(" ", 1)[0].rstrip(" ,;:(") + " ..."


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, urllib3 reasons, exception args."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        wrapped += list(current.args)
        todo.extend(w for w in wrapped if isinstance(w, BaseException))


def name_unknown(exc: BaseException) -> bool:
    """The resolver said the name does not exist (final, unlike a temporary DNS failure)."""
    return any(isinstance(e, socket.gaierror) and e.errno in FINAL_DNS for e in _causes(exc))


def failure_kind(exc: BaseException) -> str:
    """How the retry policy counts a ``requests`` failure: ``connect``, ``read`` or ``other``.

    ``connect``: nothing was sent (refused, no route, connect timeout, a proxy that
    failed); ``read``: the request went out and no answer came (reset, read timeout);
    ``other``: TLS failures and names the resolver says do not exist, which another
    try would not change.

    Examples
    --------
    >>> failure_kind(requests.exceptions.ReadTimeout())
    'read'
    """
    if isinstance(exc, requests.exceptions.SSLError) or name_unknown(exc):
        return "other"
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)):
        return "connect"
    causes = list(_causes(exc))
    if any(isinstance(e, (NewConnectionError, NameResolutionError)) for e in causes):
        return "connect"
    if any(isinstance(e, ssl.SSLError) for e in causes):
        return "other"
    return "read"


def network_error(exc: BaseException, url: str, timeout: float) -> NetworkError:
    """Say in plain words why ``url`` could not be reached: no library class names, no reprs.

    Parameters
    ----------
    exc
        What requests raised (its causes are searched for the root).
    url
        The URL that failed; only its ``host:port`` is named.
    timeout
        The timeout that was in force, for the "did not answer" message.

    Returns
    -------
    NetworkError
        With ``reason`` ``"resolve"``, ``"refused"``, ``"tls"`` (untrusted certificate),
        ``"handshake"``, ``"timeout"`` or ``"other"``.

    Examples
    --------
    >>> refused = ConnectionRefusedError(111, "Connection refused")
    >>> str(network_error(refused, "https://r:5000/v2/", 5))
    'connection refused by r:5000'
    >>> str(network_error(TimeoutError(), "https://r/v2/", 2.5))
    'r did not answer within 2.5 s'
    """
    host = redact_host(url)
    safe = redact_url(url)
    causes = list(_causes(exc))

    def found(*kinds: type[BaseException]) -> BaseException | None:
        return next((e for e in causes if isinstance(e, kinds)), None)

    if found(NameResolutionError, socket.gaierror):
        name = urlsplit(url).hostname
        return NetworkError(f"could not resolve host {name}", reason="resolve", url=safe)
    cert = found(ssl.SSLCertVerificationError)
    if cert is not None:
        detail = getattr(cert, "verify_message", "") or ""
        suffix = f" ({detail})" if detail else ""
        return NetworkError(
            f"TLS certificate of {host} is not trusted{suffix}", reason="tls", url=safe
        )
    refused = found(ConnectionRefusedError)
    if refused is not None or any(
        isinstance(e, OSError) and e.errno == errno.ECONNREFUSED for e in causes
    ):
        return NetworkError(f"connection refused by {host}", reason="refused", url=safe)
    if found(requests.exceptions.Timeout, Urllib3Timeout, TimeoutError) is not None:
        return NetworkError(
            f"{host} did not answer within {timeout:g} s", reason="timeout", url=safe
        )
    tls = found(ssl.SSLError)
    if tls is not None:
        detail = getattr(tls, "reason", None) or ""
        suffix = f" ({str(detail).lower().replace('_', ' ')})" if detail else ""
        return NetworkError(
            f"TLS handshake with {host} failed{suffix}", reason="handshake", url=safe
        )
    reset = found(ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
    if reset is not None:
        return NetworkError(f"{host} closed the connection", reason="other", url=safe)
    oserror = next((e for e in causes if isinstance(e, OSError) and e.strerror), None)
    detail = f": {oserror.strerror}" if isinstance(oserror, OSError) and oserror.strerror else ""
    return NetworkError(f"could not reach {host}{detail}", reason="other", url=safe)
