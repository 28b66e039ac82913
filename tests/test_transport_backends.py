"""Both transport backends against real servers: HTTP/2, pools, TLS, proxies, GOAWAY, cancel.

Every test runs on libcurl (``curl``) and on ``requests`` in every test environment,
whatever ``$REGFRAME_TRANSPORT`` the rest of the suite runs on.  The servers are the
real CNCF registry of the sandbox (over TLS: the Go server offers ``h2`` by ALPN, at most
250 streams), a :class:`~regframe.testing.latency_proxy.LatencyProxy` in front of it
(which counts TCP connections), and Debian's nginx (tests/nginx.py), which ends every
connection after a fixed number of requests with GOAWAY, as load balancers do.  The
https proxy (``ConnectProxy``, a few lines below) is written here: it only needs to
answer ``CONNECT`` and pipe bytes, the TLS inside stays the registry's.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pytest

import regframe as rf
from regframe.client.transport import Transport
from regframe.errors import NetworkError, RegistryError
from regframe.testing.latency_proxy import LatencyProxy
from regframe.testing.sandbox import Sandbox
from tests.backends import AVAILABLE
from tests.nginx import GoawayProxy

ACCEPT = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
REPO = "backends/app"
TAGS = [f"1.{i}" for i in range(40)]


@pytest.fixture(scope="module")
def tls_registry() -> Iterator[Sandbox]:
    """An anonymous registry over https (its CA in ``ca_path``) holding ``REPO:TAGS``."""
    from tests.conftest import _started

    for sandbox in _started(Sandbox(tls=True)):
        pusher = sandbox.pusher
        pusher.run_parallel(
            [
                lambda i=i, t=t, p=pusher: p.push_image(
                    REPO, [t], created=f"2024-01-01T{i // 60:02d}:{i % 60:02d}:00Z"
                )
                for i, t in enumerate(TAGS)
            ]
        )
        yield sandbox


@pytest.fixture(params=AVAILABLE)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _get_all(transport: Transport, urls: list[str], threads: int) -> list[Any]:
    def get(url: str) -> Any:
        return transport.request("GET", url, headers=ACCEPT)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(get, urls))


def test_http2_where_tls_offers_it_else_a_pool_of_http11(tls_registry, backend):
    host, port = tls_registry.address
    with LatencyProxy((host, port), delay=0.05) as proxy:
        transport = Transport(max_workers=64, verify=str(tls_registry.ca_path), backend=backend)
        urls = [f"https://{proxy.netloc}/v2/{REPO}/manifests/{t}" for t in TAGS * 4]
        try:
            replies = _get_all(transport, urls, 64)
        finally:
            transport.close()
        connections = proxy.stats["connections"]
    assert [r.status for r in replies] == [200] * len(urls)
    assert len({r.headers["Docker-Content-Digest"] for r in replies}) == len(TAGS)
    if backend == "curl":
        # 160 requests, 64 at a time: streams on one connection (PIPEWAIT kept the first
        # requests from opening connections of their own before h2 was agreed).
        assert {r.http_version for r in replies} == {"HTTP/2"}
        assert connections == 1
    else:
        assert {r.http_version for r in replies} == {"HTTP/1.1"}
        assert 1 < connections <= 64


def test_get_after_head_post_and_put_is_a_plain_get(registry_open, backend):
    """libcurl reuses an idle handle: a GET after a HEAD, POST or PUT must be a plain GET.

    One request at a time on one transport, so each exchange takes a handle an exchange
    before it gave back: a HEAD's no-body or a PUT's method and body left on it would turn
    the next GET into a HEAD (an empty body) or a PUT (the registry would not answer with
    the manifest).  The PUT's body must arrive whole: the blob is read back.
    """
    repo = f"backends/methods-{backend}"
    digest = registry_open.pusher.push_image(repo, ["1.0"], created=None)
    manifest = f"{registry_open.url}/v2/{repo}/manifests/1.0"
    blob = f"regframe {backend} upload".encode()
    blob_digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    transport = Transport(max_workers=1, timeout=10, backend=backend)
    try:
        first = transport.request("GET", manifest, headers=ACCEPT)
        head = transport.request("HEAD", manifest, headers=ACCEPT)
        after_head = transport.request("GET", manifest, headers=ACCEPT)
        start = transport.request("POST", f"{registry_open.url}/v2/{repo}/blobs/uploads/")
        after_post = transport.request("GET", manifest, headers=ACCEPT)
        location = urllib.parse.urljoin(registry_open.url, start.headers["Location"])
        put = transport.request(
            "PUT",
            f"{location}{'&' if '?' in location else '?'}digest={blob_digest}",
            headers={"Content-Type": "application/octet-stream"},
            body=blob,
        )
        after_put = transport.request("GET", manifest, headers=ACCEPT)
        stored = transport.request("GET", f"{registry_open.url}/v2/{repo}/blobs/{blob_digest}")
    finally:
        transport.close()
    assert first.status == 200 and first.headers["Docker-Content-Digest"] == digest
    assert (head.status, head.body) == (200, b"")
    assert head.headers["Content-Length"] == str(len(first.body))
    assert (after_head.status, after_head.body) == (200, first.body)
    assert start.status == 202, start.body[:200]
    assert (after_post.status, after_post.body) == (200, first.body)
    assert put.status == 201, put.body[:200]
    assert (after_put.status, after_put.body) == (200, first.body)
    assert (stored.status, stored.body) == (200, blob)


def test_plain_http_gets_http11_with_at_most_32_connections(registry_open, backend):
    registry_open.pusher.push_image("backends/plain", ["1.0"], created=None)
    host, port = registry_open.address
    with LatencyProxy((host, int(port)), delay=0.05) as proxy:
        transport = Transport(max_workers=64, backend=backend)
        urls = [f"{proxy.url}/v2/backends/plain/manifests/1.0"] * 128
        try:
            replies = _get_all(transport, urls, 64)
        finally:
            transport.close()
        connections = proxy.stats["connections"]
    assert [r.status for r in replies] == [200] * len(urls)
    assert {r.http_version for r in replies} == {"HTTP/1.1"}
    # libcurl caps connections per host (H1_CONNECTIONS); requests pools one per thread.
    assert 1 < connections <= (32 if backend == "curl" else 64)


def test_tls_trusts_only_the_named_ca_unless_verify_is_off(tls_registry, backend, monkeypatch):
    url = f"{tls_registry.url}/v2/"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    default = Transport(timeout=5, backend=backend)
    with pytest.raises(NetworkError, match=r"TLS certificate of 127\.0\.0\.1:\d+ is not trusted"):
        default.request("GET", url)
    default.close()
    for verify in (str(tls_registry.ca_path), False):
        transport = Transport(timeout=5, verify=verify, backend=backend)
        assert transport.request("GET", url).status == 200
        transport.close()
    # The environment's bundle, as requests reads it, on both backends.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_registry.ca_path))
    transport = Transport(timeout=5, backend=backend)
    assert transport.request("GET", url).status == 200
    transport.close()


class ConnectProxy:
    """A minimal HTTP proxy for https: answers ``CONNECT host:port`` and pipes bytes.

    Records each CONNECT target, so a test can tell the proxy was used (the TLS inside
    stays end to end: the client still verifies the registry's certificate).
    """

    def __init__(self) -> None:
        proxy = self
        self.targets: list[str] = []

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                method, target = head.split(b" ")[:2]
                if method != b"CONNECT":
                    self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                    return
                proxy.targets.append(target.decode())
                host, port = target.decode().rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pipe = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
                pipe.start()
                _pipe(self.request, upstream)
                pipe.join(5)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pipe(src: Any, dst: Any) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(2)


def test_https_through_the_environments_proxy(tls_registry, backend, monkeypatch):
    """``HTTPS_PROXY`` is read by requests' rules on both transports; ``NO_PROXY`` bypasses."""
    proxy = ConnectProxy()
    try:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        transport = Transport(timeout=5, verify=str(tls_registry.ca_path), backend=backend)
        reply = transport.request(
            "GET", f"{tls_registry.url}/v2/{REPO}/manifests/1.0", headers=ACCEPT
        )
        transport.close()
        assert reply.status == 200 and reply.headers["Docker-Content-Digest"].startswith("sha256:")
        assert proxy.targets == [tls_registry.host]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        transport = Transport(timeout=5, verify=str(tls_registry.ca_path), backend=backend)
        assert transport.request("GET", f"{tls_registry.url}/v2/").status == 200
        transport.close()
        assert proxy.targets == [tls_registry.host]  # bypassed: no second CONNECT
    finally:
        proxy.close()


def test_cancel_stops_queued_requests_and_curl_aborts_those_on_the_wire(registry_open, backend):
    """An interrupt sets ``cancelled``: nothing new is sent, and libcurl drops what is in
    flight within a sweep (0.1 s); ``requests`` cannot abort a blocking read, so its
    requests in flight end with their answers (one round trip, here 2 s)."""
    registry_open.pusher.push_image("backends/cancel", ["1.0"], created=None)
    host, port = registry_open.address
    with LatencyProxy((host, int(port)), delay=2.0) as proxy:
        transport = Transport(max_workers=4, timeout=10, backend=backend)
        url = f"{proxy.url}/v2/backends/cancel/manifests/1.0"
        outcomes: list[str] = []

        def get() -> None:
            try:
                outcomes.append(str(transport.request("GET", url, headers=ACCEPT).status))
            except RegistryError as exc:
                outcomes.append(str(exc))

        threads = [threading.Thread(target=get) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # four requests on the wire, eight waiting for a slot
        cancelled_at = time.monotonic()
        transport.cancelled.set()
        for t in threads:
            t.join(10)
        took = time.monotonic() - cancelled_at
        transport.close()
    cancelled = [o for o in outcomes if "cancelled" in o]
    if backend == "curl":
        assert len(cancelled) == 12
        assert took < 0.6
    else:
        assert len(cancelled) == 8 and outcomes.count("200") == 4
        assert took < 2.5
    with pytest.raises(RegistryError, match="cancelled"):
        transport.request("GET", url)


@pytest.mark.timeout(180)
def test_goaway_mid_run_costs_no_row(registry_open, unique_repo, backend, monkeypatch):
    """nginx ends each connection after 25 requests (GOAWAY on HTTP/2): a dates read of
    120 tags (about 150 requests, 48 in flight) must equal the direct read, row for row."""
    pusher = registry_open.pusher
    pusher.run_parallel(
        [
            lambda i=i: pusher.push_image(
                unique_repo, [f"2.{i}.0", f"2.{i}"], created=f"2024-05-{1 + i % 28:02d}T00:00:00Z"
            )
            for i in range(60)
        ]
    )
    direct = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    with GoawayProxy(registry_open.host, requests_per_connection=25) as nginx:
        monkeypatch.setenv("REGFRAME_TRANSPORT", backend)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", nginx.ca_path)
        df = rf.read_tags(f"{nginx.netloc}/{unique_repo}", dates=True, cache=False, max_workers=48)
        log = nginx.log()
    assert len(df) == 120 and df["error"].isna().all() and df["created"].notna().all()
    for frame in (df, direct):
        frame.attrs = {}
    columns = ["tag", "digest", "created", "platforms", "size"]
    pd.testing.assert_frame_equal(df[columns], direct[columns])
    connections = {conn for conn, _, _ in log}
    assert len(log) >= 140  # ping, tag list, 120 manifests, configs by digest
    assert len(connections) >= len(log) // 25  # nginx really closed them all along
    assert {proto for _, proto, _ in log} == {"HTTP/2.0" if backend == "curl" else "HTTP/1.1"}


def test_without_pycurl_the_default_is_requests_and_curl_says_how_to_get_it(monkeypatch):
    """A default install (no ``fast`` extra): today's path, and one sentence on the extra."""
    import sys

    import regframe.client.transport as transport_mod

    monkeypatch.setitem(sys.modules, "pycurl", None)  # `import pycurl` raises ImportError
    transport_mod.fast_available.cache_clear()
    try:
        monkeypatch.delenv("REGFRAME_TRANSPORT", raising=False)
        transport = Transport()
        assert transport.backend.name == "requests" and transport.max_workers == 16
        transport.close()
        monkeypatch.setenv("REGFRAME_TRANSPORT", "curl")
        with pytest.raises(rf.InvalidArgumentError, match=r"pip install 'regframe\[fast\]'"):
            Transport()
        monkeypatch.setenv("REGFRAME_TRANSPORT", "carrier-pigeon")
        with pytest.raises(rf.InvalidArgumentError, match="unknown transport"):
            rf.read_tags("localhost:5000/x")
    finally:
        transport_mod.fast_available.cache_clear()
