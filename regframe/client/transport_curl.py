"""The libcurl backend (pycurl, the ``fast`` extra): HTTP/2 where the server offers it.

Each exchange is an easy handle configured here, in the caller's thread, and handed
to :class:`~regframe.client.curl_driver.CurlDriver`, whose one thread multiplexes
them: over TLS, ALPN ``h2`` puts every request to a host on one connection as
streams (``PIPEWAIT`` makes the first requests wait for it instead of each opening
its own); plain http and servers without ``h2`` get a pool of HTTP/1.1
connections.  What ``requests`` did implicitly is set explicitly: the CA bundle
(pycurl's wheels look for a Red Hat path), proxies from the environment (resolved
by requests' own rules, so both backends agree), ``Accept-Encoding``.
"""

from __future__ import annotations

import base64
import errno
import os
import re
import socket
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import certifi
import pycurl
import requests.utils

from regframe.client.curl_driver import CurlDriver, Sink, Transfer
from regframe.client.green import current_job
from regframe.client.neterrors import FINAL_DNS
from regframe.client.redact import redact_host, redact_url
from regframe.client.reply import USER_AGENT, Headers, Reply, Request, host_key
from regframe.errors import (
    BodyInterrupted,
    NetworkError,
    RegistryError,
    ResponseTooLarge,
    TransferFailed,
)

__all__ = ["H1_CONNECTIONS", "CurlBackend", "ca_bundle"]

#: Connections per host at most: HTTP/1.1 needs one per request in flight, HTTP/2 one in all.
H1_CONNECTIONS = 32
_VERSIONS = {
    pycurl.CURL_HTTP_VERSION_1_0: "HTTP/1.0",
    pycurl.CURL_HTTP_VERSION_1_1: "HTTP/1.1",
    pycurl.CURL_HTTP_VERSION_2_0: "HTTP/2",
    getattr(pycurl, "CURL_HTTP_VERSION_3", 30): "HTTP/3",
}
# libcurl result codes (curl/curl.h); pycurl lacks names for some of them.
_E_RESOLVE = 6  # COULDNT_RESOLVE_HOST
_E_CONNECT = (5, 7, 97)  # COULDNT_RESOLVE_PROXY, COULDNT_CONNECT, PROXY
_E_TIMEOUT = 28
_E_TLS_UNTRUSTED = (60, 77)  # PEER_FAILED_VERIFICATION, SSL_CACERT_BADFILE
_E_TLS = (35, 53, 54, 58, 59, 66, 80, 83, 90, 91, 98)
_E_BROKEN = (16, 18, 52, 55, 56, 92, 95)  # HTTP2, PARTIAL_FILE, GOT_NOTHING, SEND/RECV, ...
_E_TOO_LARGE = (23, 63)  # WRITE_ERROR (our sink said stop), FILESIZE_EXCEEDED


def ca_bundle() -> str:
    """The CA file libcurl verifies with: ``$REQUESTS_CA_BUNDLE``, ``$CURL_CA_BUNDLE``, certifi.

    The same order ``requests`` uses, so both backends trust the same roots.

    Examples
    --------
    >>> ca_bundle().endswith(".pem") or ca_bundle().endswith(".crt")  # doctest: +SKIP
    True
    """
    return (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
    )


class CurlBackend:
    """Sends one exchange through libcurl's multi interface (see the module docstring).

    Examples
    --------
    >>> backend = CurlBackend(timeout=5, max_workers=64, verify=None)
    >>> backend.name, backend.connections
    ('curl', 32)
    >>> backend.close()
    """

    name = "curl"

    def __init__(self, *, timeout: float, max_workers: int, verify: bool | str | None) -> None:
        self.timeout = timeout
        self.verify = verify
        # Asked once: a stat per request was 5 % of a cold read's GIL time at 100 in flight.
        self._ca_dir = isinstance(verify, str) and os.path.isdir(verify)
        self.connections = max(1, min(max_workers, H1_CONNECTIONS))
        self.driver = CurlDriver(timeout=timeout, max_host_connections=self.connections)
        self._handles: list[pycurl.Curl] = []
        self._for_get: list[pycurl.Curl] = []
        self._handles_lock = threading.Lock()
        self._proxies: dict[str, str] = {}

    def close(self) -> None:
        self.driver.close()
        with self._handles_lock:
            for handle in [*self._handles, *self._for_get]:
                handle.close()
            self._handles.clear()
            self._for_get.clear()

    def send(self, request: Request, cancelled: threading.Event) -> Reply:
        """One exchange; raises TransferFailed, BodyInterrupted or ResponseTooLarge."""
        handle = self._handle(request.method)
        transfer = Transfer(handle, Sink(request.limit), cancelled, current_job())
        self._configure(transfer, request)
        try:
            self.driver.submit(transfer)
        except RuntimeError:
            self._give_back(handle, request.method)
            raise TransferFailed(
                "other", RegistryError("the transport is closed", url=redact_url(request.url))
            ) from None
        if self.driver.owns(transfer):
            self.driver.hub.park()  # resumed by the driver's loop when the transfer ends
        else:
            try:
                transfer.done.acquire()
            except BaseException:
                # Interrupted while waiting (Ctrl-C in the main thread): take it off the wire.
                self.driver.abort(transfer)
                raise
        self._give_back(handle, request.method)
        try:
            return self._result(transfer, request)
        finally:
            transfer.sink.chunks.clear()  # an idle handle's callback keeps the sink alive

    def spawn(self, job: Callable[[], None]) -> None:
        """Run ``job`` as a greenlet on the driver's thread (see :mod:`regframe.client.green`)."""
        self.driver.spawn(job)

    def _handle(self, method: str) -> pycurl.Curl:
        """An idle handle; one that last sent a GET keeps its options for another GET.

        ``reset`` and setting again the options every request shares took about 6 %
        of the time a cold read held the GIL (py-spy), so a GET after a GET sets only
        what differs; any other method starts from a reset handle.
        """
        with self._handles_lock:
            if method == "GET" and self._for_get:
                return self._for_get.pop()
            handle = self._handles.pop() if self._handles else None
        if handle is None:
            handle = pycurl.Curl()
        else:
            handle.reset()
        self._configure_shared(handle)
        return handle

    def _give_back(self, handle: pycurl.Curl, method: str) -> None:
        with self._handles_lock:
            (self._for_get if method == "GET" else self._handles).append(handle)

    def _configure_shared(self, c: pycurl.Curl) -> None:
        """The options every request sets alike (kept by a handle across GETs)."""
        c.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        c.setopt(pycurl.ACCEPT_ENCODING, "gzip, deflate")
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
        c.setopt(pycurl.PIPEWAIT, 1)
        c.setopt(pycurl.NOSIGNAL, 1)
        c.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(self.timeout * 1000)))
        self._configure_tls(c)

    def _configure(self, transfer: Transfer, request: Request) -> None:
        c, url, method, body = transfer.handle, request.url, request.method, request.body
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.HTTPHEADER, _header_lines(request.headers, request.auth, url))
        c.setopt(pycurl.MAXFILESIZE_LARGE, request.limit)
        c.setopt(pycurl.HEADERFUNCTION, transfer.head.write)
        c.setopt(pycurl.WRITEFUNCTION, transfer.sink.write)
        c.setopt(pycurl.PROXY, self._proxy_for(url))
        if method == "HEAD":
            c.setopt(pycurl.NOBODY, 1)
        elif method == "POST":
            c.setopt(pycurl.POSTFIELDS, body or b"")
        elif method != "GET":
            c.setopt(pycurl.CUSTOMREQUEST, method)
            if body is not None:
                c.setopt(pycurl.POSTFIELDS, body)

    def _configure_tls(self, c: pycurl.Curl) -> None:
        if self.verify is False:
            c.setopt(pycurl.SSL_VERIFYPEER, 0)
            c.setopt(pycurl.SSL_VERIFYHOST, 0)
        elif isinstance(self.verify, str) and self._ca_dir:
            c.setopt(pycurl.CAPATH, self.verify)
        else:
            c.setopt(pycurl.CAINFO, self.verify if isinstance(self.verify, str) else ca_bundle())

    def _proxy_for(self, url: str) -> str:
        """The environment's proxy for ``url`` by requests' rules (``""``: none), once per host."""
        key = host_key(url)
        found = self._proxies.get(key)
        if found is None:
            proxies = requests.utils.get_environ_proxies(url)
            found = self._proxies[key] = requests.utils.select_proxy(url, proxies) or ""
        return found

    def _result(self, transfer: Transfer, request: Request) -> Reply:
        """The :class:`Reply`, or the exception that says how the exchange failed."""
        info = transfer.info
        if transfer.code or transfer.failure:
            raise _failure(transfer, request.url, request.limit, self.timeout)
        head = _last_head(transfer.head.getvalue())
        version = _VERSIONS.get(info.get("version", 0), "")
        body = b"" if request.method == "HEAD" else b"".join(transfer.sink.chunks)
        return Reply(int(info["status"]), head, body, request.url, version)


def _header_lines(
    headers: Mapping[str, str], auth: tuple[str, str] | None, url: str
) -> list[bytes]:
    """``Name: value`` lines as libcurl sends them, refusing what requests refuses.

    A value with a line break (from a hostile token server, say) would smuggle headers
    past libcurl, which sends lines as given: such a request is never sent.

    Examples
    --------
    >>> _header_lines({"Accept": "a/b"}, ("u", "p"), "https://r/")[:2]
    [b'Accept: a/b', b'Authorization: Basic dTpw']
    """
    pairs = dict(headers)
    if auth is not None:  # as requests does: auth= replaces an Authorization header
        pairs = {k: v for k, v in pairs.items() if k.lower() != "authorization"}
        user, password = (x.encode("utf-8") for x in auth)
        pairs["Authorization"] = "Basic " + base64.b64encode(user + b":" + password).decode()
    if not any(k.lower() == "user-agent" for k in pairs):
        pairs["User-Agent"] = USER_AGENT
    lines = []
    for name, value in pairs.items():
        line = f"{name}: {value}"
        if "\r" in line or "\n" in line or not name.strip() or ":" in name:
            # Never quoted: the value may be a credential.
            error = RegistryError("refusing to send an invalid header value", url=redact_url(url))
            raise TransferFailed("other", error)
        lines.append(line.encode("latin-1", "replace"))
    return [*lines, b"Expect:"]  # no 100-continue round trip for a POST body


def _last_head(raw: bytes) -> Headers:
    """Headers of the final answer (after any 1xx or proxy CONNECT answer), repeats joined.

    Examples
    --------
    >>> raw = b"HTTP/1.1 100 Continue\\r\\n\\r\\nHTTP/2 200\\r\\nlink: <a>\\r\\nLink: <b>"
    >>> _last_head(raw)["LINK"]
    '<a>, <b>'
    """
    text = raw.decode("latin-1").rstrip("\r\n")
    block = text[text.rfind("\r\n\r\n") + 4 :] if "\r\n\r\n" in text else text
    # Lowered once here and kept: requests' CaseInsensitiveDict would lower every name
    # again, one Python call each (half of this parse's time).
    found: dict[str, tuple[str, str]] = {}
    for line in block.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            continue
        key = name.lower()
        if key in found:
            value = f"{found[key][1]}, {value}"
        found[key] = (name, value)
    return Headers(found)


def _failure(transfer: Transfer, url: str, limit: int, timeout: float) -> Exception:
    """What a failed transfer means, in the words :mod:`~regframe.client.neterrors` uses."""
    info, code, host, safe = transfer.info, transfer.code, redact_host(url), redact_url(url)
    answered = bool(info.get("status"))
    if transfer.failure == "cancelled":
        return TransferFailed(
            "other", RegistryError("request cancelled: the read was interrupted", url=safe)
        )
    if transfer.failure in ("slow-body", "body-timeout"):
        return BodyInterrupted("body did not arrive in time")
    if transfer.failure == "timeout" or code == _E_TIMEOUT:
        error = NetworkError(
            f"{host} did not answer within {timeout:g} s", reason="timeout", url=safe
        )
        # The driver's own timeout only runs once the request is out.  libcurl's is the
        # connect timeout, which urllib3 counts as a read once TCP is up (a peer silent
        # after the TLS ClientHello); libcurl before 8.12 does not say whether TCP was up,
        # so over https it counts as a read too: never retried by the probe.
        sent = transfer.failure == "timeout" or info.get("connected") or url.startswith("https:")
        return TransferFailed("read" if sent else "connect", error)
    if code in _E_TOO_LARGE or transfer.sink.over:
        declared = info.get("declared", -1)
        size = f" of {int(declared)} bytes" if declared and declared > limit else ""
        status = info.get("status") or None
        return ResponseTooLarge(
            f"answer{size} exceeds the {limit}-byte limit", status_code=status, url=safe
        )
    if code in _E_BROKEN:
        if answered:
            return BodyInterrupted(transfer.message or "connection broke off")
        return TransferFailed("read", NetworkError(f"{host} closed the connection", url=safe))
    return _connect_failure(transfer, url, host, safe)


def _connect_failure(transfer: Transfer, url: str, host: str, safe: str) -> TransferFailed:
    code, detail = transfer.code, transfer.message
    if code == _E_RESOLVE:
        name = urlsplit(url).hostname or ""
        error = NetworkError(f"could not resolve host {name}", reason="resolve", url=safe)
        return TransferFailed("other" if _name_unknown(url) else "connect", error)
    if code in _E_CONNECT:
        if transfer.info.get("os_errno") == errno.ECONNREFUSED:
            error = NetworkError(f"connection refused by {host}", reason="refused", url=safe)
        else:
            error = NetworkError(f"could not reach {host}: {_plain(detail)}", url=safe)
        return TransferFailed("connect", error)
    if code in _E_TLS_UNTRUSTED:
        suffix = f" ({_plain(detail)})" if detail else ""
        error = NetworkError(
            f"TLS certificate of {host} is not trusted{suffix}", reason="tls", url=safe
        )
        return TransferFailed("other", error)
    if code in _E_TLS:
        suffix = f" ({_plain(detail)})" if detail else ""
        error = NetworkError(
            f"TLS handshake with {host} failed{suffix}", reason="handshake", url=safe
        )
        return TransferFailed("other", error)
    return TransferFailed(
        "other", NetworkError(f"could not reach {host}: {_plain(detail)}", url=safe)
    )


def _plain(message: str) -> str:
    """libcurl's message, without its own prefixes, cut short."""
    text = message.split(": ", 1)[-1] if message.startswith(("OpenSSL", "SSL")) else message
    text = re.sub(r" \(\d+\)$", "", text)  # the OpenSSL code after the words
    return text[:200] or "unknown error"


def _name_unknown(url: str) -> bool:
    """The resolver says the host does not exist (final; a temporary failure is retried)."""
    parts = urlsplit(url)
    try:
        socket.getaddrinfo(parts.hostname or "", parts.port or 443)
    except socket.gaierror as exc:
        return exc.errno in FINAL_DNS
    except OSError:
        return False
    return False
