"""A kernel interrupt (SIGINT) during ``read_tags(dates=True)`` returns promptly and keeps the cache sound.

The read runs in a child process against the real sandbox registry behind a
:class:`~regframe.testing.latency_proxy.LatencyProxy` of 400 ms per round trip, with
four workers, so the queued work left at the interrupt would take many
seconds.  The child reports ``progress(done, total)`` on stdout; once some
work is done the test sends SIGINT (what Jupyter's "interrupt kernel" sends)
and measures how long the child takes to raise ``KeyboardInterrupt``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import regframe as rf
from regframe.client.cache import DigestCache
from regframe.client.cache_db import DB_NAME
from regframe.testing.latency_proxy import LatencyProxy

DELAY = 0.4
WORKERS = 4

CHILD = """
import signal, sys, time
import regframe as rf

# A CI runner may start us with SIGINT ignored (background jobs inherit SIG_IGN);
# a notebook kernel always turns SIGINT into KeyboardInterrupt, as this does.
signal.signal(signal.SIGINT, signal.default_int_handler)

def progress(done, total):
    print(f"progress {done} {total}", flush=True)

refs = sys.argv[1].split(",")
try:
    rf.read_tags(refs[0] if len(refs) == 1 else refs, dates=True, cache=sys.argv[2],
                 max_workers=int(sys.argv[3]), progress=progress)
except KeyboardInterrupt:
    print(f"interrupted {time.monotonic()!r}", flush=True)
    sys.exit(130)
print("finished", flush=True)
"""


def _verify_cache(root: Path) -> int:
    """Every blob re-hashes to its digest and every facts entry is whole JSON; returns blobs."""
    cache = DigestCache(root)
    if not (root / DB_NAME).exists():
        return 0
    conn = sqlite3.connect(root / DB_NAME)
    try:
        blobs = conn.execute("SELECT digest, data FROM blobs").fetchall()
        facts = conn.execute("SELECT doc FROM facts").fetchall()
    finally:
        conn.close()
    for digest, data in blobs:
        assert cache.get(digest) is not None, f"cache entry {digest} does not verify"
        assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    for (doc,) in facts:
        assert isinstance(json.loads(doc), dict)
    return len(blobs)


@pytest.mark.timeout(120)
def test_sigint_cancels_queued_requests_and_keeps_the_cache_sound(
    registry_open, unique_repo, tmp_path
):
    # 40 images with three tags each: 120 tag requests, then 40 configs.
    registry_open.pusher.run_parallel(
        [
            lambda i=i: registry_open.pusher.push_image(
                unique_repo,
                [f"1.{i}.0", f"1.{i}", f"1.{i}.0-slim"],
                created=f"2024-01-{1 + i % 28:02d}T00:00:00Z",
            )
            for i in range(40)
        ]
    )
    cache = tmp_path / "cache"
    host, port = registry_open.host.rsplit(":", 1)
    with LatencyProxy((host, int(port)), delay=DELAY) as proxy:
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CHILD,
                f"{proxy.netloc}/{unique_repo}",
                str(cache),
                str(WORKERS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        try:
            assert child.stdout is not None
            done = total = 0
            for line in child.stdout:
                if line.startswith("progress "):
                    done, total = map(int, line.split()[1:])
                    if done >= 12:
                        break
            assert done >= 12, (
                f"child never made progress: {child.stderr.read() if child.stderr else ''}"
            )
            # What the rest would cost had every queued request still run.
            queued_seconds = (total - done) / WORKERS * DELAY
            assert queued_seconds > 8
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=60)
            exited = time.monotonic() - sent
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    stamps = [line for line in out.splitlines() if line.startswith("interrupted ")]
    assert child.returncode == 130, (out, err)
    assert stamps, out
    to_interrupt = float(stamps[0].split()[1]) - sent
    # About a second plus one in-flight request (a round trip of DELAY).
    assert to_interrupt < 1.0 + 2 * DELAY, f"KeyboardInterrupt after {to_interrupt:.2f} s"
    assert exited < 3.0, f"exited {exited:.2f} s after SIGINT"
    assert "Traceback" not in err

    # The cache holds only whole, verifiable entries ...
    _verify_cache(cache)
    # ... and a later read through it (no proxy) is complete and equals one without a cache.
    again = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=cache)
    fresh = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    assert again["error"].isna().all()
    assert again["created"].notna().all()
    cols = ["tag", "digest", "created", "size"]
    assert again[cols].equals(fresh[cols])
    assert _verify_cache(cache) >= 40


@pytest.mark.timeout(120)
def test_sigint_during_several_images_stops_them_all(registry_open, unique_repo, tmp_path):
    repos = [f"{unique_repo}-a", f"{unique_repo}-b"]
    registry_open.pusher.run_parallel(
        [
            lambda repo=repo, i=i: registry_open.pusher.push_image(
                repo, [f"2.{i}.0", f"2.{i}"], created=f"2024-02-{1 + i % 28:02d}T00:00:00Z"
            )
            for repo in repos
            for i in range(30)
        ]
    )
    host, port = registry_open.host.rsplit(":", 1)
    with LatencyProxy((host, int(port)), delay=DELAY) as proxy:
        refs = ",".join(f"{proxy.netloc}/{repo}" for repo in repos)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, refs, str(tmp_path / "cache"), str(WORKERS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        try:
            # 120 manifest lookups and 60 configs at 4 in flight take ~18 s; wait until
            # the manifests are flowing (about 20 answers) before interrupting.
            deadline = time.monotonic() + 60
            while proxy.stats["bytes_to_client"] < 20_000 and child.poll() is None:
                assert time.monotonic() < deadline, "no manifest traffic within 60 s"
                time.sleep(0.05)
            assert child.poll() is None, child.communicate()
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=60)
            exited = time.monotonic() - sent
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == 130, (out, err)
    stamps = [line for line in out.splitlines() if line.startswith("interrupted ")]
    to_interrupt = float(stamps[0].split()[1]) - sent
    assert to_interrupt < 1.0 + 2 * DELAY, f"KeyboardInterrupt after {to_interrupt:.2f} s"
    assert exited < 3.0, f"exited {exited:.2f} s after SIGINT"
    assert "finished" not in out
    _verify_cache(tmp_path / "cache")
