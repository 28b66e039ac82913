"""A read's jobs as greenlets on the libcurl driver's thread (``regframe.client.green``).

Against the real CNCF registry with token auth on another loopback address
(``registry_token``): a ``dates=True`` read gives the same frame with greenlets as on
worker threads and starts no worker thread; without greenlet installed libcurl reads on
threads.  Then the hub's rules, on a real driver thread without network: a job
waiting for the token lock, the host limit, a sleep or another thread's event parks and
lets the other jobs run; a job's bug does not stop the driver; closing the transport
ends the jobs parked in it (against a server that accepts and never answers).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pandas as pd
import pytest

import regframe as rf
from regframe.client import green
from regframe.client.curl_driver import CurlDriver
from regframe.client.jobs import JobRunner
from regframe.client.limits import AdaptiveLimit
from regframe.client.transport import Transport, fast_available
from regframe.errors import RegistryError

pytestmark = pytest.mark.skipif(
    not (fast_available() and green.enabled()),
    reason="the `fast` extra (pycurl, greenlet) is not installed",
)


@pytest.fixture
def driver() -> Iterator[CurlDriver]:
    driver = CurlDriver(timeout=5, max_host_connections=4)
    yield driver
    driver.close()


def _run_jobs(driver: CurlDriver, *jobs: Callable[[], None]) -> None:
    """Spawn ``jobs`` on the driver's thread and wait until every one has ended."""
    ended = threading.Semaphore(0)

    def wrapped(job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            finally:
                ended.release()

        return run

    for job in jobs:
        driver.spawn(wrapped(job))
    for _ in jobs:
        assert ended.acquire(timeout=10), "a job greenlet never ended"


def test_spawner_only_for_libcurl_with_greenlets_on(monkeypatch):
    curl, plain = Transport(backend="curl"), Transport(backend="requests")
    try:
        assert curl.spawner() is not None
        assert plain.spawner() is None
        monkeypatch.setenv("REGFRAME_GREENLETS", "0")
        assert curl.spawner() is None
    finally:
        curl.close()
        plain.close()


def test_dates_read_on_greenlets_equals_threads(registry_token, unique_repo, monkeypatch):
    pusher = registry_token.pusher
    tags = [f"2.{i}" for i in range(30)]
    pusher.run_parallel(
        [
            lambda t=t, i=i: pusher.push_image(
                unique_repo, [t], created=f"2024-03-{1 + i % 28:02d}T10:00:00Z"
            )
            for i, t in enumerate(tags)
        ]
    )
    monkeypatch.setenv("REGFRAME_TRANSPORT", "curl")
    served: list[str] = []
    serve = JobRunner._serve

    def counted_serve(self: JobRunner) -> None:  # one call per worker thread started
        served.append(threading.current_thread().name)
        serve(self)

    monkeypatch.setattr(JobRunner, "_serve", counted_serve)

    frames = {}
    for switch in ("1", "0"):
        monkeypatch.setenv("REGFRAME_GREENLETS", switch)
        before = len(served)
        frames[switch] = rf.read_tags(
            registry_token.ref(unique_repo), dates=True, cache=False, history=False
        )
        started = len(served) - before
        # The chains' batches start no worker thread on greenlets; on threads they do.
        assert (started == 0) if switch == "1" else (started > 0)
    on_greenlets, on_threads = frames["1"], frames["0"]
    assert on_greenlets["error"].isna().all()
    assert on_greenlets["created"].notna().all()
    pd.testing.assert_frame_equal(on_greenlets, on_threads)


def test_libcurl_without_greenlet_reads_on_threads(registry_token, unique_repo, monkeypatch):
    registry_token.pusher.push_image(unique_repo, ["1.0", "1.1"], created="2024-03-01T10:00:00Z")
    monkeypatch.setattr(green, "greenlet", None)  # as if the package were not installed
    transport = Transport(backend="curl")
    assert transport.spawner() is None
    transport.close()
    monkeypatch.setenv("REGFRAME_TRANSPORT", "curl")
    df = rf.read_tags(registry_token.ref(unique_repo), dates=True, cache=False, history=False)
    assert df["error"].isna().all()
    assert df["created"].notna().all()


def test_task_lock_parks_a_job_until_its_owner_lets_go(driver):
    lock, seen = green.TaskLock(), []

    def owner() -> None:
        with lock:
            seen.append("owner in")
            green.sleep(0.05)  # parked while holding the lock, as across a token request
            with lock:  # reentrant for its owner
                seen.append("owner again")
            seen.append("owner out")

    def other() -> None:
        green.sleep(0.01)
        with lock:
            seen.append("other in")

    _run_jobs(driver, owner, other)
    assert seen == ["owner in", "owner again", "owner out", "other in"]


def test_full_host_limit_parks_a_job_while_others_run(driver):
    limit, seen = AdaptiveLimit(1), []

    def holder() -> None:
        assert limit.acquire()
        seen.append("holder has the slot")
        green.sleep(0.05)
        seen.append("holder lets go")
        limit.release(throttled=False)

    def queued() -> None:
        green.sleep(0.01)
        assert limit.acquire()
        seen.append("queued has the slot")
        limit.release(throttled=False)

    def bystander() -> None:
        green.sleep(0.02)
        seen.append("bystander ran")

    _run_jobs(driver, holder, queued, bystander)
    assert seen == [
        "holder has the slot",
        "bystander ran",
        "holder lets go",
        "queued has the slot",
    ]


def test_wait_parks_until_another_thread_sets_the_event(driver):
    event, seen = threading.Event(), []

    def waiter() -> None:
        seen.append(("waited", green.wait(event, 5.0)))

    def timed_out() -> None:
        seen.append(("timed out", green.wait(threading.Event(), 0.02)))

    threading.Timer(0.1, event.set).start()
    started = time.monotonic()
    _run_jobs(driver, waiter, timed_out)
    assert seen == [("timed out", False), ("waited", True)]
    assert time.monotonic() - started < 4


def test_a_failing_job_leaves_the_driver_running(driver, caplog):
    seen = []

    def broken() -> None:
        raise ValueError("a bug in a job")

    with caplog.at_level(logging.ERROR, logger="regframe.client.green"):
        _run_jobs(driver, broken)
        _run_jobs(driver, lambda: seen.append("next job ran"))
    assert seen == ["next job ran"]
    assert "a job greenlet failed" in caplog.text
    assert driver.hub.jobs == 0


def test_closing_the_transport_ends_jobs_parked_in_requests():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does) and never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/v2/"
    transport = Transport(backend="curl", timeout=30)
    spawn = transport.spawner()
    assert spawn is not None
    outcomes: list[str] = []
    ended = threading.Event()

    def job() -> None:
        try:
            transport.request("GET", url)
        except RegistryError as exc:
            outcomes.append(str(exc))
        if len(outcomes) == 3:
            ended.set()

    try:
        for _ in range(3):
            spawn(job)
        time.sleep(0.3)
        assert outcomes == []  # all three parked on the silent server
        started = time.monotonic()
        transport.close()
        assert ended.wait(5)
        assert time.monotonic() - started < 5
    finally:
        silent.close()
    assert len(outcomes) == 3
    assert transport.backend.driver.hub.jobs == 0  # type: ignore[attr-defined]
