"""Faults between regframe and a REAL registry: resets, 503/429 storms, stalls, truncation.

Most tests put :class:`regframe.testing.fault_proxy.FaultProxy` in front of the real CNCF
registry of the sandbox.  Where a test needs exact control over *one* answer
(a single 429 with a given ``Retry-After``, then success) it uses the scripted
server instead, and says so in its docstring: the real registry never sends 429.

Two helpers keep the suite fast without changing what is measured:

* ``plain_http_only`` (tests/conftest.py) — the https attempt fails at once.
  ``read_tags`` probes https first on loopback hosts; FaultProxy waits for an
  HTTP head and never answers a TLS ClientHello, so each probe would cost a
  ``timeout``.
* ``recorded_sleeps`` — replaces the transport's wait between retries
  (:func:`regframe.client.retry.pause`) so backoff and ``Retry-After`` waits are
  recorded instead of slept.  Socket timeouts stay real.  Tests that measure real
  waits do not use it.

Every test here runs on the transport backend the environment selects
(``$REGFRAME_TRANSPORT``): the retry policy sits above both backends.
"""

from __future__ import annotations

import email.utils
import threading
import time

import pandas as pd
import pytest

import regframe as rf
import regframe.client.retry as retry_mod
import regframe.client.transport as transport_mod
from regframe.client.retry import DEFAULT_POLICY, MAX_RETRY_AFTER, RetryState
from regframe.errors import MetadataWarning
from regframe.testing.fault_proxy import FaultProxy
from regframe.testing.latency_proxy import LatencyProxy
from regframe.testing.sandbox import Sandbox
from tests.scripted import Request, Response, ScriptedServer, json_response

FAULT_REPO = "hardening/faults-500"
SMALL_REPO = "hardening/faults-small"






@pytest.fixture
def recorded_sleeps(monkeypatch) -> list[float]:
    """Waits the retry policy asks for, recorded instead of slept."""
    sleeps: list[float] = []

    def pause(seconds: float, cancelled: threading.Event) -> bool:
        if seconds > 0:
            sleeps.append(seconds)
        return not cancelled.is_set()

    monkeypatch.setattr(transport_mod, "pause", pause)
    return sleeps


def _port(sandbox: Sandbox) -> int:
    return int(sandbox.host.rsplit(":", 1)[1])


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.attrs = {}
    return out


@pytest.fixture(scope="module")
def seeded_500(registry_open: Sandbox) -> tuple[Sandbox, pd.DataFrame]:
    """~500 tags over 150 images (every 5th a two-platform index) and the fault-free frame."""
    pusher = registry_open.pusher

    def push(i: int) -> str:
        tags = [f"1.{i}.{k}" for k in range(3)] + ([f"v1.{i}"] if i % 3 == 0 else [])
        if i % 5 == 0:
            return pusher.push_multiarch(
                FAULT_REPO,
                tags,
                created=f"2024-01-{1 + i % 28:02d}T00:00:{i % 60:02d}Z",
                attestations=False,
            )
        return pusher.push_image(
            FAULT_REPO, tags, created=f"2024-02-{1 + i % 28:02d}T01:{i % 60:02d}:00Z"
        )

    pusher.run_parallel([lambda i=i: push(i) for i in range(150)], workers=8)
    baseline = rf.read_tags(registry_open.ref(FAULT_REPO), dates=True, cache=False, max_workers=16)
    return registry_open, baseline


@pytest.mark.timeout(120)
def test_500_tags_through_resets_503_and_429_equal_the_fault_free_frame(plain_http_only, seeded_500, capsys):
    sandbox, baseline = seeded_500
    assert len(baseline) == 500
    assert baseline["error"].isna().all()
    assert baseline["created"].notna().all()
    assert (baseline["platforms"] == "linux/amd64,linux/arm64/v8").sum() > 0

    with FaultProxy(
        ("127.0.0.1", _port(sandbox)), seed=7, reset=0.10, error503=0.10, rate429=0.03
    ) as proxy:
        start = time.monotonic()
        df = rf.read_tags(
            f"{proxy.netloc}/{FAULT_REPO}",
            dates=True,
            cache=False,
            max_workers=16
        )
        elapsed = time.monotonic() - start
        stats = proxy.stats

    pd.testing.assert_frame_equal(_comparable(df), _comparable(baseline))
    assert df["error"].isna().all()
    # The faults really happened, at roughly the configured rates.
    assert stats["reset"] >= 30 and stats["error503"] >= 30 and stats["rate429"] >= 5
    injected = stats["reset"] + stats["error503"] + stats["rate429"]
    assert 0.12 < injected / stats["requests"] < 0.35
    assert elapsed < 90
    with capsys.disabled():
        print(f"\n[faults-500] {elapsed:.1f}s stats={stats}")


@pytest.mark.timeout(60)
def test_truncated_bodies_are_retried(plain_http_only, registry_open, unique_repo):
    """A fixed seed and one worker make the fault schedule reproducible (no flaky draws)."""
    for i in range(8):
        registry_open.pusher.push_image(
            unique_repo, [f"2.{i}"], created=f"2024-03-0{i + 1}T00:00:00Z"
        )
    baseline = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    with FaultProxy(
        ("127.0.0.1", _port(registry_open)), seed=3, truncate=0.3, paths=r"/manifests/|/blobs/"
    ) as proxy:
        df = rf.read_tags(
            f"{proxy.netloc}/{unique_repo}",
            dates=True,
            cache=False,
            max_workers=1
        )
        stats = proxy.stats
    assert stats["truncate"] >= 2
    pd.testing.assert_frame_equal(_comparable(df), _comparable(baseline))


# -- Retry-After -------------------------------------------------------------------------


def _once_429(server: ScriptedServer, retry_after: str | None) -> list[float]:
    """``/v2/x/y/tags/list`` answers 429 once, then the tags; returns the request times."""
    times: list[float] = []
    lock = threading.Lock()
    server.route("GET", r"/v2/", lambda req: json_response({}))

    def tags(req: Request) -> Response:
        with lock:
            times.append(time.monotonic())
            first = len(times) == 1
        if first:
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return json_response({"errors": [{"code": "TOOMANYREQUESTS"}]}, headers, 429)
        return json_response({"name": "x/y", "tags": ["1.0", "2.0"]})

    server.route("GET", r"/v2/x/y/tags/list", tags)
    return times


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ("1", 0.95, 1.8),
        # An HTTP-date has one-second resolution: "now + 2 s" means a wait in (1, 2].
        ("date+2", 0.9, 2.6),
    ],
)
def test_retry_after_is_honoured(plain_http_only, header, low, high):
    """Scripted: the real registry never answers 429, and the test needs exactly one."""
    with ScriptedServer() as server:
        value = (
            email.utils.formatdate(time.time() + 2, usegmt=True) if header == "date+2" else header
        )
        times = _once_429(server, value)
        df = rf.read_tags(f"{server.host}/x/y")
    assert list(df.tag) == ["1.0", "2.0"]
    assert len(times) == 2
    assert low <= times[1] - times[0] <= high


def test_retry_after_hour_is_capped_in_real_time(plain_http_only, monkeypatch):
    """Scripted 429 with ``Retry-After: 3600``; the cap (lowered to 0.5 s here) is what we wait."""
    monkeypatch.setattr(retry_mod, "MAX_RETRY_AFTER", 0.5)
    with ScriptedServer() as server:
        times = _once_429(server, "3600")
        df = rf.read_tags(f"{server.host}/x/y")
    assert len(df) == 2
    assert 0.45 <= times[1] - times[0] <= 1.5


def test_retry_after_hour_asks_for_at_most_the_default_cap(plain_http_only, recorded_sleeps):
    """Scripted 429 with ``Retry-After: 3600`` under the real cap: the wait asked for is the cap."""
    assert MAX_RETRY_AFTER <= 60
    with ScriptedServer() as server:
        _once_429(server, "3600")
        start = time.monotonic()
        df = rf.read_tags(f"{server.host}/x/y")
    assert len(df) == 2
    assert recorded_sleeps == [MAX_RETRY_AFTER]
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("value", ["soon", "Fri, 99 Foo 2024", "-5", "1e9999", "3600" * 100])
def test_unparsable_retry_after_is_not_a_crash(plain_http_only, value, recorded_sleeps):
    """Scripted: a 429 with a garbage ``Retry-After`` is retried with plain backoff."""
    with ScriptedServer() as server:
        _once_429(server, value)
        df = rf.read_tags(f"{server.host}/x/y")
    assert len(df) == 2
    assert all(0 <= s <= MAX_RETRY_AFTER for s in recorded_sleeps)


def test_retry_after_parses_both_forms_and_caps_them():
    def wait(value: str, status: int = 429) -> float:
        state = RetryState(DEFAULT_POLICY, "GET")
        assert state.allow("status")
        return state.wait_for(status, {"Retry-After": value})

    assert wait("3600") == MAX_RETRY_AFTER
    assert wait("2") == 2.0
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    assert wait(future) == MAX_RETRY_AFTER
    assert wait("garbage") == 0.0  # the first retry's backoff: none
    assert wait("2", status=500) == 0.0  # Retry-After counts on 413/429/503 only


# -- registries that always fail ---------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("status", "error"),
    [(503, rf.RegistryError), (500, rf.RegistryError), (429, rf.RateLimitError)],
)
def test_always_failing_registry_is_a_bounded_typed_error(plain_http_only,
    registry_open, unique_repo, recorded_sleeps, status, error
):
    registry_open.pusher.push_image(unique_repo, ["1.0"], created=None)
    with FaultProxy(("127.0.0.1", _port(registry_open)), retry_after=None) as proxy:
        proxy.always(status)
        start = time.monotonic()
        with pytest.raises(error) as info:
            rf.read_tags(f"{proxy.netloc}/{unique_repo}")
        elapsed = time.monotonic() - start
        attempts = proxy.stats["always"]
    assert info.value.status_code == status
    assert str(status) in str(info.value)
    # The ping is tried 1 + 7 times (the status budget), then the error is final:
    # a registry failing /v2/ is not asked again for the tag list.
    assert attempts == 8
    assert elapsed < 5  # sleeps are recorded, not slept: this is pure request time
    # What a user would really wait: the backoff the retry policy asked for
    # (0.1 s doubling, capped at 4 s, plus up to 0.2 s jitter per retry).
    assert sum(recorded_sleeps) < (0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 4.0) + 7 * 0.2 + 0.5


@pytest.mark.timeout(30)
def test_stalled_registry_hits_the_timeout_and_is_typed(plain_http_only,
    registry_open, unique_repo, recorded_sleeps
):
    registry_open.pusher.push_image(unique_repo, ["1.0"], created=None)
    timeout = 0.3
    with FaultProxy(
        ("127.0.0.1", _port(registry_open)), stall=1.0, stall_seconds=10, paths=r"/tags/list"
    ) as proxy:
        start = time.monotonic()
        with pytest.raises(rf.RegistryError) as info:
            rf.read_tags(f"{proxy.netloc}/{unique_repo}", timeout=timeout)
        elapsed = time.monotonic() - start
        stalls = proxy.stats["stall"]
    assert str(info.value) == f"{proxy.netloc} did not answer within 0.3 s"
    assert stalls == 7  # one try and six read retries (retry.DEFAULT_POLICY)
    assert elapsed < 7 * timeout + 2


@pytest.mark.timeout(30)
def test_stalled_manifests_become_row_errors_not_a_lost_frame(plain_http_only,
    registry_open, unique_repo, recorded_sleeps
):
    for tag in ("1.0", "2.0"):
        registry_open.pusher.push_image(unique_repo, [tag], created="2024-01-01T00:00:00Z")
    with (
        FaultProxy(
            ("127.0.0.1", _port(registry_open)),
            stall=1.0,
            stall_seconds=10,
            paths=r"/manifests/2\.0",
        ) as proxy,
        pytest.warns(MetadataWarning),
    ):
        df = rf.read_tags(
            f"{proxy.netloc}/{unique_repo}",
            dates=True,
            cache=False,
            timeout=0.3
        )
    row = df.set_index("tag")
    assert pd.isna(row.loc["1.0", "error"])
    assert row.loc["1.0", "created"] == pd.Timestamp("2024-01-01T00:00:00Z")
    assert "did not answer within 0.3 s" in row.loc["2.0", "error"]


@pytest.mark.timeout(60)
def test_https_probe_of_a_silent_loopback_server_is_bounded(
    registry_open, unique_repo, recorded_sleeps
):
    """Without the test session, the https probe of a loopback server that never answers a
    TLS ClientHello (FaultProxy here, a black-holing firewall in the wild) is retried as a read
    timeout: 5 x ``timeout`` (plus backoff) before regframe falls back to plain http."""
    registry_open.pusher.push_image(unique_repo, ["1.0"], created=None)
    timeout = 0.3
    with FaultProxy(("127.0.0.1", _port(registry_open))) as proxy:
        start = time.monotonic()
        df = rf.read_tags(f"{proxy.netloc}/{unique_repo}", timeout=timeout)
        elapsed = time.monotonic() - start
    assert list(df.tag) == ["1.0"]
    assert elapsed < 2 * timeout + 0.5


# -- tokens -----------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_token_lifetime_shorter_than_the_run_costs_nothing(
    registry_token, token_server, unique_repo
):
    """``expires_in: 2`` and a run of more than 2 s (50 ms RTT through a LatencyProxy).

    distribution 2.8 accepts tokens up to 60 s past ``exp`` (clock-skew leeway) and regframe
    treats lifetimes under 60 s as 60 s (token spec minimum), so the run must neither fail nor
    fetch a token per request; the scripted ``test_expired_token_mid_run_*`` in
    test_hostile.py covers a registry that does reject the stale token.
    """
    for i in range(12):
        registry_token.pusher.push_image(
            unique_repo, [f"3.{i}"], created=f"2024-04-{i + 1:02d}T00:00:00Z"
        )
    token_server.expires_in = 2
    with LatencyProxy(("127.0.0.1", _port(registry_token)), delay=0.15) as proxy:
        start = time.monotonic()
        df = rf.read_tags(f"{proxy.netloc}/{unique_repo}", dates=True, cache=False, max_workers=2)
        elapsed = time.monotonic() - start
    assert elapsed > 2.0, "the run must outlive the token for this test to mean anything"
    assert len(df) == 12
    assert df["error"].isna().all()
    assert df["created"].notna().all()
    assert 1 <= len(token_server.requests) <= 2


@pytest.mark.parametrize("fault", ["garbage", "500", "html", "oversized"])
def test_broken_token_server_is_an_authentication_error(
    registry_token, token_server, unique_repo, fault, recorded_sleeps
):
    registry_token.pusher.push_image(unique_repo, ["1.0"], created=None)
    token_server.fault = fault
    with pytest.raises(rf.AuthenticationError) as info:
        rf.read_tags(registry_token.ref(unique_repo))
    text = str(info.value)
    assert "token" in text and "127.0.0.2" in text
    assert "<html" not in text and "xxxx" not in text  # no body is quoted
    assert len(text) < 400
