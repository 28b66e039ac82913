"""Which way a request leaves the requests backend: pooled fast path, adapter, or a caller's Session.

A plain session (regframe's own) sends GET/HEAD straight through the mounted adapter's
connection pool; anything a caller customised — a Session subclass, cookies, hooks, a
patched or custom adapter — keeps the full requests path, so it still sees every request.
The server is the real sandbox registry behind a LatencyProxy that counts connections.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import requests.adapters

from regframe.client.transport import Transport
from regframe.client.transport_requests import build_session
from regframe.errors import NetworkError
from regframe.testing.latency_proxy import LatencyProxy


@pytest.fixture
def proxy(registry_open: Any) -> Iterator[LatencyProxy]:
    host, port = registry_open.host.rsplit(":", 1)
    with LatencyProxy((host, int(port)), delay=0.0) as p:
        yield p


@pytest.fixture
def seeded(registry_open: Any, unique_repo: str) -> str:
    registry_open.pusher.push_image(unique_repo, ["1.0"], created="2024-01-01T00:00:00Z")
    return unique_repo


def _manifest_url(proxy: LatencyProxy, repo: str) -> str:
    return f"{proxy.url}/v2/{repo}/manifests/1.0"


ACCEPT = {"Accept": "application/vnd.oci.image.manifest.v1+json"}


def test_plain_session_uses_the_pool_keeps_one_connection_and_reads_whole_answers(
    proxy: LatencyProxy, seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    original = requests.adapters.HTTPAdapter.send
    transport = Transport(backend="requests")
    try:
        # Patching the adapter class is noticed: the patched send is honoured.
        monkeypatch.setattr(
            requests.adapters.HTTPAdapter,
            "send",
            lambda self, req, **kw: sent.append(req.url) or original(self, req, **kw),
        )
        transport.request("GET", _manifest_url(proxy, seeded), headers=ACCEPT)
        assert len(sent) == 1
        monkeypatch.undo()
        for _ in range(5):
            got = transport.request("GET", _manifest_url(proxy, seeded), headers=ACCEPT)
            head = transport.request("HEAD", _manifest_url(proxy, seeded), headers=ACCEPT)
        assert len(sent) == 1  # unpatched: the pooled path, not adapter.send
    finally:
        transport.close()
    assert got.status == 200 and head.status == 200
    assert got.headers["Docker-Content-Digest"] == head.headers["docker-content-digest"]
    assert len(got.body) == int(got.headers["Content-Length"]) > 0
    assert head.body == b""
    assert proxy.stats["connections"] == 1  # keep-alive on both paths


def test_session_subclass_still_sees_every_request(proxy: LatencyProxy, seeded: str) -> None:
    class Counting(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.trust_env = False
            self.seen: list[str] = []

        def request(self, method: str | bytes, url: str | bytes, *a: Any, **kw: Any) -> Any:  # type: ignore[override]
            self.seen.append(f"{method!s} {url!s}")
            return super().request(method, url, *a, **kw)

    session = Counting()
    transport = Transport(session)
    transport.request("GET", _manifest_url(proxy, seeded), headers=ACCEPT)
    transport.request("HEAD", _manifest_url(proxy, seeded), headers=ACCEPT)
    assert [s.split()[0] for s in session.seen] == ["GET", "HEAD"]
    session.close()


def test_custom_adapter_is_honoured(proxy: LatencyProxy, seeded: str) -> None:
    calls: list[str] = []

    class Recording(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
            calls.append(request.method or "")
            return super().send(request, **kw)

    session = build_session(4)
    session.mount("http://", Recording())
    transport = Transport(session)
    reply = transport.request("GET", _manifest_url(proxy, seeded), headers=ACCEPT)
    assert reply.status == 200
    assert calls == ["GET"]
    session.close()


def test_pooled_path_failures_are_the_same_plain_words(proxy: LatencyProxy) -> None:
    port = proxy.address[1]
    proxy.close()  # nothing listens there any more
    transport = Transport(timeout=2, session=None, backend="requests")
    with pytest.raises(NetworkError, match=f"connection refused by 127.0.0.1:{port}"):
        transport.request("GET", f"http://127.0.0.1:{port}/v2/")
    transport.close()
