"""JobRunner (batches on threads, cancelled by an interrupt) and Progress (bar or callable)."""

from __future__ import annotations

import threading
import time

import pytest

from regframe.client.jobs import JobRunner
from regframe.client.progress import Progress
from regframe.errors import InvalidArgumentTypeError


def test_every_item_runs_once_on_at_most_max_workers_threads() -> None:
    seen: list[int] = []
    threads: set[str] = set()
    lock = threading.Lock()

    def job(i: int) -> None:
        with lock:
            seen.append(i)
            threads.add(threading.current_thread().name)

    JobRunner(3).run(range(100), job)
    assert sorted(seen) == list(range(100))
    assert 1 <= len(threads) <= 3


def test_a_bug_in_a_job_is_raised_and_does_not_cancel_the_shared_event() -> None:
    shared = threading.Event()

    def job(i: int) -> None:
        if i == 7:
            raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        JobRunner(4, cancel=shared).run(range(50), job)
    assert not shared.is_set()  # other reads sharing the transport carry on


def test_interrupt_in_the_waiting_thread_cancels_what_is_queued() -> None:
    ran: list[int] = []
    shared = threading.Event()

    def job(i: int) -> None:
        time.sleep(0.05)
        ran.append(i)

    def interrupt(done: int, total: int) -> None:
        if done >= 8:
            raise KeyboardInterrupt  # what SIGINT raises in the waiting thread

    runner = JobRunner(4, progress=Progress(interrupt), cancel=shared, poll=0.02)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runner.run(range(400), job)
    assert time.monotonic() - started < 2.0  # all 400 would take 5 s
    assert shared.is_set()
    time.sleep(0.1)
    assert 8 <= len(ran) < 40  # the queue was dropped; only jobs in flight finished


def test_progress_counts_and_grows_and_calls_from_the_waiting_thread() -> None:
    calls: list[tuple[int, int, int]] = []
    progress = Progress(lambda d, t: calls.append((d, t, threading.get_ident())))
    runner = JobRunner(4, progress=progress, poll=0.01)
    runner.run(range(10), lambda i: time.sleep(0.01))
    runner.run(range(5), lambda i: None)
    progress.close()
    assert calls[-1][:2] == (15, 15)
    assert {ident for _, _, ident in calls} == {threading.get_ident()}
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)


def test_progress_options(capsys: pytest.CaptureFixture[str]) -> None:
    import ipykernel  # noqa: F401  (imported is not running: still no notebook to draw in)

    quiet = Progress(None)  # no terminal under pytest: no bar, however long
    quiet.expect(1000)
    quiet.advance(1000)
    quiet.close()
    assert capsys.readouterr().err == ""
    bar = Progress(True, desc="pages")
    bar.expect(3)
    bar.advance(3)
    bar.close()
    assert "pages" in capsys.readouterr().err
    assert not Progress(False).enabled
    with pytest.raises(InvalidArgumentTypeError):
        Progress(1.5)  # type: ignore[arg-type]
