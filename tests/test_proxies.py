"""The loopback latency and fault proxies do what the benchmarks and hardening tests assume."""

from __future__ import annotations

import email.utils
import http.client
import math
import socket
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from scripted import Response, ScriptedServer, json_response

from regframe.testing.fault_proxy import FaultProxy
from regframe.testing.latency_proxy import LatencyProxy

BLOB = bytes(range(256)) * 400  # 102400 bytes


@pytest.fixture(scope="module")
def upstream() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        srv.route("GET", "/small", lambda r: Response(200, "ok"))
        srv.route("GET", "/blob", lambda r: Response(200, BLOB))
        srv.route("GET", "/big", lambda r: Response(200, b"b" * (8 << 20)))
        srv.route(
            "GET", "/chunked", lambda r: Response(200, chunks=[b"a" * 1000, b"b" * 1000, b"c"])
        )
        srv.route("POST", "/echo", lambda r: Response(201, r.body))
        srv.route(
            "GET", "/redirect", lambda r: Response(307, "", {"Location": "http://127.0.0.3:9/blob"})
        )
        srv.route("GET", r"/v2/(?P<rest>.*)", lambda r: json_response({"path": r.path}))
        yield srv


def outcome(session: requests.Session, url: str) -> str:
    try:
        return str(session.get(url, timeout=5).status_code)
    except requests.ConnectionError:
        return "reset"


def within(count: int, n: int, p: float) -> bool:
    """*count* is a plausible Binomial(n, p) draw (5 standard deviations)."""
    return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p)) + 1


# -- loopback only --------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "192.168.1.1", "example.com", "::"])
def test_refuses_non_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LatencyProxy((host, 80), delay=0.01)
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(("127.0.0.1", 80), listen_host=host)


# -- FaultProxy: faithful relay -------------------------------------------------------------


def test_fault_proxy_relays_faithfully_with_keep_alive(upstream: ScriptedServer) -> None:
    before = upstream.connections
    with FaultProxy(upstream.address) as proxy, requests.Session() as session:
        assert session.get(f"{proxy.url}/blob", timeout=5).content == BLOB
        chunked = session.get(f"{proxy.url}/chunked", timeout=5)
        assert chunked.headers["Transfer-Encoding"] == "chunked"
        assert chunked.content == b"a" * 1000 + b"b" * 1000 + b"c"
        assert session.post(f"{proxy.url}/echo", data=b"payload", timeout=5).content == b"payload"
        streamed = session.post(f"{proxy.url}/echo", data=iter([b"ab", b"cd"]), timeout=5)
        assert streamed.content == b"abcd"
        head = session.head(f"{proxy.url}/blob", timeout=5)
        assert head.headers["Content-Length"] == str(len(BLOB))
        assert head.content == b""
        redirect = session.get(f"{proxy.url}/redirect", allow_redirects=False, timeout=5)
        assert redirect.status_code == 307
        assert redirect.headers["Location"] == "http://127.0.0.3:9/blob"
        assert session.get(f"{proxy.url}/v2/x/tags/list?n=2", timeout=5).json() == {
            "path": "/v2/x/tags/list"
        }
        stats = proxy.stats
    assert stats["requests"] == stats["forwarded"] == 7
    assert stats["client_connections"] == 1
    assert stats["upstream_connections"] == 1
    assert upstream.connections - before == 1
    # The Host header is forwarded untouched so upstream Location URLs point at the proxy.
    assert upstream.requests[-1].headers["Host"] == proxy.netloc


def test_unreachable_upstream_is_502() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead_port = placeholder.getsockname()[1]
    with FaultProxy(("127.0.0.1", dead_port)) as proxy:
        response = requests.get(f"{proxy.url}/v2/", timeout=5)
    assert response.status_code == 502


# -- FaultProxy: faults ---------------------------------------------------------------------


def test_fault_rates_are_as_configured_and_seeded(upstream: ScriptedServer) -> None:
    knobs: dict[str, Any] = {"reset": 0.10, "error503": 0.10, "rate429": 0.03}
    n = 500
    runs = []
    for seed in (11, 11, 12):
        with FaultProxy(upstream.address, seed=seed, **knobs) as proxy, requests.Session() as s:
            runs.append([outcome(s, f"{proxy.url}/small") for _ in range(n)])
            stats = proxy.stats
        counts = Counter(runs[-1])
        # What the client saw is exactly what the proxy says it did ...
        assert counts["reset"] == stats["reset"]
        assert counts["503"] == stats["error503"]
        assert counts["429"] == stats["rate429"]
        assert counts["200"] == n - stats["reset"] - stats["error503"] - stats["rate429"]
        # ... and each fault fires at about its configured rate.
        assert within(counts["reset"], n, knobs["reset"]), counts
        assert within(counts["503"], n, knobs["error503"]), counts
        assert within(counts["429"], n, knobs["rate429"]), counts
    assert runs[0] == runs[1]  # same seed, same schedule
    assert runs[0] != runs[2]


def test_reset_is_an_rst_before_or_after_forwarding(upstream: ScriptedServer) -> None:
    with FaultProxy(upstream.address, reset=1.0, reset_when="before") as proxy:
        seen = len(upstream.requests)
        with socket.create_connection(proxy.address, timeout=5) as sock:
            sock.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n")
            with pytest.raises(ConnectionResetError):
                sock.recv(100)
        assert len(upstream.requests) == seen  # never forwarded
        proxy.set(reset_when="after")
        with pytest.raises(requests.ConnectionError):
            requests.post(f"{proxy.url}/echo", data=b"side effect", timeout=5)
        # The upstream acted on it; only the client never heard back.
        assert upstream.requests[-1].body == b"side effect"
        assert proxy.stats["reset"] == 2


def test_burst503_gives_runs_of_503(upstream: ScriptedServer) -> None:
    with FaultProxy(upstream.address, seed=3, error503=0.08, burst503=4) as proxy:
        with requests.Session() as session:
            seen = [outcome(session, f"{proxy.url}/small") for _ in range(300)]
        stats = proxy.stats
    assert seen.count("503") == stats["error503"] > 0
    runs = "".join("x" if o == "503" else "." for o in seen).split(".")
    complete = runs[:-1]  # the final run may be cut off by the end of the loop
    assert all(len(run) % 4 == 0 for run in complete), runs


def test_429_retry_after_formats(upstream: ScriptedServer) -> None:
    with FaultProxy(upstream.address, rate429=1.0, retry_after="7") as proxy:
        first = requests.get(f"{proxy.url}/v2/", timeout=5)
        assert first.status_code == 429
        assert first.headers["Retry-After"] == "7"
        assert first.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
        proxy.set(retry_after="date", retry_after_date_in=3)
        dated = requests.get(f"{proxy.url}/v2/", timeout=5)
        when = email.utils.parsedate_to_datetime(dated.headers["Retry-After"])
        ahead = (when - datetime.now(timezone.utc)).total_seconds()
        assert dated.headers["Retry-After"].endswith(" GMT")
        assert 1 <= ahead <= 4
        proxy.set(retry_after=None)
        bare = requests.get(f"{proxy.url}/v2/", timeout=5)
        assert bare.status_code == 429
        assert "Retry-After" not in bare.headers
        head = requests.head(f"{proxy.url}/v2/", timeout=5)
        assert head.status_code == 429
        assert head.content == b""
        assert proxy.stats["rate429"] == 4


def test_truncate_cuts_the_body(upstream: ScriptedServer) -> None:
    with FaultProxy(upstream.address, truncate=1.0) as proxy:
        conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=5)
        conn.request("GET", "/blob")
        response = conn.getresponse()
        assert response.getheader("Content-Length") == str(len(BLOB))
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
        assert cut.value.partial == BLOB[: len(BLOB) // 2]
        conn.close()
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.get(f"{proxy.url}/chunked", timeout=5)
        # Nothing to cut in a HEAD: relayed as is and not counted.
        head = requests.head(f"{proxy.url}/blob", timeout=5)
        assert head.status_code == 200
        assert proxy.stats["truncate"] == 2


def test_stall_holds_then_closes(upstream: ScriptedServer) -> None:
    with FaultProxy(upstream.address, stall=1.0, stall_seconds=0.6) as proxy:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{proxy.url}/small", timeout=0.2)
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{proxy.url}/small", timeout=5)
        assert time.monotonic() - started >= 0.55
        assert proxy.stats["stall"] == 2


def test_paths_limit_faults_and_always_mode(upstream: ScriptedServer) -> None:
    with FaultProxy(upstream.address, error503=1.0, paths=r"/manifests/") as proxy:
        with requests.Session() as session:
            assert session.get(f"{proxy.url}/v2/", timeout=5).status_code == 200
            assert session.get(f"{proxy.url}/v2/a/manifests/1", timeout=5).status_code == 503
            proxy.always(500)
            failing = session.get(f"{proxy.url}/v2/", timeout=5)
            assert failing.status_code == 500
            assert failing.json()["errors"][0]["code"] == "UNAVAILABLE"
            assert session.head(f"{proxy.url}/v2/", timeout=5).status_code == 500
            proxy.always(None)
            proxy.set(paths=None, error503=0.0)
            assert session.get(f"{proxy.url}/v2/a/manifests/1", timeout=5).status_code == 200
        assert proxy.stats["always"] == 2
        assert proxy.stats["error503"] == 1


def test_set_validates_knobs(upstream: ScriptedServer) -> None:
    proxy = FaultProxy(upstream.address)
    with pytest.raises(TypeError, match="bogus"):
        proxy.set(bogus=1)
    with pytest.raises(ValueError, match="sum"):
        proxy.set(reset=0.6, error503=0.6)
    with pytest.raises(ValueError, match="burst503"):
        proxy.set(burst503=0)


# -- LatencyProxy ---------------------------------------------------------------------------


def timed_get(url: str, session: requests.Session | None = None) -> float:
    started = time.perf_counter()
    response = (session or requests).get(url, timeout=10)
    assert response.status_code == 200
    return time.perf_counter() - started


def test_latency_adds_one_delay_per_round_trip(upstream: ScriptedServer) -> None:
    delay = 0.1
    direct = statistics.median(timed_get(f"{upstream.url}/small") for _ in range(3))
    with LatencyProxy(upstream.address, delay=delay) as proxy:
        fresh = statistics.median(timed_get(f"{proxy.url}/small") for _ in range(3))
        with requests.Session() as session:
            timed_get(f"{proxy.url}/small", session)
            reused = statistics.median(timed_get(f"{proxy.url}/small", session) for _ in range(3))
        stats = proxy.stats
    # Upper bounds are loose: the 2 cores are shared with other test runs.
    # The floor on the proxied time itself: subtracting a noisy direct time could dip below it.
    assert fresh >= delay * 0.9
    assert fresh - direct <= delay + 0.4
    assert delay * 0.9 <= reused <= delay + 0.4
    assert stats["connections"] == 4  # three fresh ones, one kept alive
    assert stats["bytes_to_client"] > 0
    assert stats["bytes_to_upstream"] > 0


def test_latency_handshake_charges_a_round_trip_per_connection(upstream: ScriptedServer) -> None:
    with (
        LatencyProxy(upstream.address, delay=0.1, handshake=True) as proxy,
        requests.Session() as session,
    ):
        first = timed_get(f"{proxy.url}/small", session)
        second = timed_get(f"{proxy.url}/small", session)
    assert 0.19 <= first <= 0.2 + 0.5
    assert 0.09 <= second <= 0.1 + 0.4


def test_latency_does_not_serialise_concurrent_requests(upstream: ScriptedServer) -> None:
    with LatencyProxy(upstream.address, delay=0.2) as proxy:
        started = time.perf_counter()
        with ThreadPoolExecutor(100) as pool:
            statuses = list(
                pool.map(
                    lambda _: requests.get(f"{proxy.url}/small", timeout=10).status_code, range(100)
                )
            )
        elapsed = time.perf_counter() - started
        connections = proxy.stats["connections"]
    assert statuses == [200] * 100
    assert connections == 100
    assert 0.2 <= elapsed < 2.0  # 100 serialised round trips would take 20 s


def test_latency_preserves_throughput(upstream: ScriptedServer) -> None:
    with LatencyProxy(upstream.address, delay=0.1) as proxy:
        started = time.perf_counter()
        body = requests.get(f"{proxy.url}/big", timeout=10).content
        elapsed = time.perf_counter() - started
        received = proxy.stats["bytes_to_client"]
    assert body == b"b" * (8 << 20)
    assert received >= len(body)
    # 8 MiB is over 100 reads; one delay per read in series would take > 10 s.
    assert elapsed < 2.0


def test_latency_proxy_in_front_of_fault_proxy(upstream: ScriptedServer) -> None:
    """The two compose: a distant, flaky registry."""
    with (
        FaultProxy(upstream.address, seed=1, error503=0.5) as faults,
        LatencyProxy(faults.address, delay=0.05) as slow,
        requests.Session() as session,
    ):
        seen = Counter(outcome(session, f"{slow.url}/small") for _ in range(10))
        assert seen["503"] == faults.stats["error503"]
        assert seen["200"] + seen["503"] == 10
