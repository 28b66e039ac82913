"""Tests for regframe.client.cache: digest-addressed blobs, facts, safety under corruption and races.

The cache is one SQLite file (regframe.client.cache_db); these tests damage it the ways a disk,
a crash or another program can (garbage, truncation, a tampered row, a foreign database, a lock
held by another process) and check that each is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.synchronize
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import platformdirs
import pytest

from regframe.client import cache as cache_mod
from regframe.client import cache_db
from regframe.client.cache import (
    CACHE_ENV,
    FACTS_SCHEMA,
    FLUSH_EVERY,
    DigestCache,
    facts_key,
    resolve_cache_dir,
)
from regframe.client.cache_db import DB_NAME
from regframe.errors import ManifestError


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest":
                   digest_of(b"{}")},
        "layers": [],
    },
    indent=2,
).encode()  # fmt: skip
MANIFEST_DIGEST = digest_of(MANIFEST)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def sql(root: Path, statement: str, *params: object) -> list[tuple[object, ...]]:
    """Run one statement on the cache file from outside regframe (another program)."""
    conn = sqlite3.connect(root / DB_NAME, isolation_level=None)
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


# --------------------------------------------------------------------------- directory choice


def test_resolve_cache_dir_true_uses_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert resolve_cache_dir(True) == Path(platformdirs.user_cache_dir("regframe"))


def test_resolve_cache_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "ci-cache"))
    assert resolve_cache_dir(True) == tmp_path / "ci-cache"


def test_resolve_cache_dir_paths_and_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_cache_dir(str(tmp_path)) == tmp_path
    assert resolve_cache_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_cache_dir("~/rf") == tmp_path / "rf"
    assert resolve_cache_dir(False) is None
    assert resolve_cache_dir(None) is None
    with pytest.raises(TypeError):
        resolve_cache_dir(3)  # type: ignore[arg-type]


def test_from_option(tmp_path: Path) -> None:
    assert DigestCache.from_option(tmp_path).path == tmp_path
    assert DigestCache.from_option(tmp_path).enabled
    assert not DigestCache.from_option(False).enabled


# --------------------------------------------------------------------------- blobs


def test_put_get_round_trip_in_one_file(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    assert c.get(MANIFEST_DIGEST) is None
    c.put(MANIFEST_DIGEST, MANIFEST)
    assert c.get(MANIFEST_DIGEST) == MANIFEST
    c.close()
    # Everything lives in the one SQLite file (and its WAL companions), nothing else.
    assert {p.name for p in files_under(tmp_path)} <= {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"}
    assert sql(tmp_path, "SELECT digest, data FROM blobs") == [(MANIFEST_DIGEST, MANIFEST)]
    again = DigestCache(tmp_path)  # another instance (another process) reads it back
    assert again.get(MANIFEST_DIGEST) == MANIFEST
    assert MANIFEST_DIGEST in again
    assert digest_of(b"other") not in again


def test_sha512_keys(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    key = digest_of(MANIFEST, "sha512")
    c.put(key, MANIFEST)
    assert c.get(key) == MANIFEST
    assert DigestCache(tmp_path).get(key) == MANIFEST


def test_put_bytes_returns_sha256(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    assert c.put_bytes(MANIFEST) == MANIFEST_DIGEST
    assert c.get(MANIFEST_DIGEST) == MANIFEST


def test_put_refuses_mismatching_content(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    with pytest.raises(ManifestError) as info:
        c.put(MANIFEST_DIGEST, MANIFEST + b"\n")
    assert MANIFEST_DIGEST in str(info.value)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    "key",
    [
        "sha256:../../../../tmp/evil",
        "sha256:" + "A" * 64,
        "sha256:" + "a" * 64 + "/../../x",
        "sha256:" + "a" * 64 + "\n",
        "../" + "a" * 64,
        "md5:" + "a" * 32,
        "",
    ],
)
def test_bad_keys_are_refused_without_touching_disk(tmp_path: Path, key: str) -> None:
    root = tmp_path / "cache"
    c = DigestCache(root)
    with pytest.raises(ManifestError):
        c.get(key)
    with pytest.raises(ManifestError):
        c.put(key, b"x")
    with pytest.raises(ManifestError):
        DigestCache(None).get(key)  # same contract when disabled
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("corruption", [b"", b"garbage", MANIFEST[:-10]])
def test_tampered_entry_is_deleted_and_missed(tmp_path: Path, corruption: bytes) -> None:
    c = DigestCache(tmp_path)
    c.put(MANIFEST_DIGEST, MANIFEST)
    sql(tmp_path, "UPDATE blobs SET data = ? WHERE digest = ?", corruption, MANIFEST_DIGEST)
    assert c.get(MANIFEST_DIGEST) is None
    assert sql(tmp_path, "SELECT count(*) FROM blobs") == [(0,)]
    c.put(MANIFEST_DIGEST, MANIFEST)  # heals on the next fetch
    assert c.get(MANIFEST_DIGEST) == MANIFEST


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed pages"])
def test_a_broken_file_is_a_miss_and_is_started_afresh(tmp_path: Path, damage: str) -> None:
    c = DigestCache(tmp_path)
    blobs = [os.urandom(3000) + bytes([i]) for i in range(40)]
    for blob in blobs:
        c.put(digest_of(blob), blob)
    c.facts_put(facts_key(MANIFEST_DIGEST), {"size": 1})
    c.close()
    db = tmp_path / DB_NAME
    raw = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(b"this is not a database " * 300)
    elif damage == "truncated":
        db.write_bytes(raw[: len(raw) // 3])
    else:  # the header survives, the b-tree pages do not
        db.write_bytes(raw[:100] + bytes(len(raw) - 100))
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    broken = DigestCache(tmp_path)
    assert all(broken.get(digest_of(b)) in (None, b) for b in blobs)  # never an error
    assert broken.facts_get(facts_key(MANIFEST_DIGEST)) in (None, {"size": 1})
    broken.put(MANIFEST_DIGEST, MANIFEST)
    broken.close()
    assert DigestCache(tmp_path).get(MANIFEST_DIGEST) == MANIFEST  # works again


def test_a_foreign_database_is_left_alone(tmp_path: Path) -> None:
    sql(tmp_path, "CREATE TABLE notes (text TEXT)")
    sql(tmp_path, "INSERT INTO notes VALUES ('mine')")
    c = DigestCache(tmp_path)
    c.put(MANIFEST_DIGEST, MANIFEST)  # dropped, no error
    assert c.get(MANIFEST_DIGEST) is None
    assert c.usage() == (0, 0)
    c.close()
    assert sql(tmp_path, "SELECT text FROM notes") == [("mine",)]
    assert sql(tmp_path, "SELECT name FROM sqlite_master") == [("notes",)]


def test_disabled_cache_is_a_no_op(tmp_path: Path) -> None:
    c = DigestCache(None)
    assert not c.enabled
    c.put(MANIFEST_DIGEST, MANIFEST)
    assert c.get(MANIFEST_DIGEST) is None
    c.facts_put(facts_key(MANIFEST_DIGEST), {"size": 1})
    assert c.facts_get(facts_key(MANIFEST_DIGEST)) is None
    with c.deferred():
        c.put(MANIFEST_DIGEST, MANIFEST)
    c.close()
    assert "None" in repr(c)


def test_unwritable_root_does_not_fail_the_caller(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")  # a file where the cache root should be: mkdir fails even as root
    c = DigestCache(blocker)
    c.put(MANIFEST_DIGEST, MANIFEST)
    c.facts_put(facts_key(MANIFEST_DIGEST), {"size": 1})
    assert c.get(MANIFEST_DIGEST) is None
    assert c.facts_get(facts_key(MANIFEST_DIGEST)) is None
    assert c.usage() == (0, 0)


def _hold_the_write_lock(
    root: str, ready: multiprocessing.synchronize.Event, seconds: float
) -> None:
    conn = sqlite3.connect(Path(root) / DB_NAME, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def test_a_lock_held_by_another_process_drops_the_write_not_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    DigestCache(tmp_path).put(MANIFEST_DIGEST, MANIFEST)
    monkeypatch.setattr(cache_db, "BUSY_TIMEOUT", 0.2)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_the_write_lock, args=(str(tmp_path), ready, 3.0))
    holder.start()
    try:
        assert ready.wait(30)
        c = DigestCache(tmp_path)
        other = os.urandom(100)
        started = time.monotonic()
        c.put(digest_of(other), other)  # waits out the busy timeout, then gives up quietly
        assert time.monotonic() - started < 2.5
        assert c.get(digest_of(other)) is None
    finally:
        holder.join(30)
    assert holder.exitcode == 0
    assert DigestCache(tmp_path).get(MANIFEST_DIGEST) == MANIFEST


def test_deferred_writes_are_served_at_once_and_written_in_batches(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    outside = DigestCache(tmp_path)  # another process's view of the file
    blobs = [os.urandom(50) + i.to_bytes(4, "big") for i in range(FLUSH_EVERY + 10)]
    with c.deferred():
        c.put(digest_of(blobs[0]), blobs[0])
        c.facts_put(facts_key(MANIFEST_DIGEST), {"size": 1})
        assert c.get(digest_of(blobs[0])) == blobs[0]
        assert c.facts_get(facts_key(MANIFEST_DIGEST)) == {"size": 1}
        assert outside.get(digest_of(blobs[0])) is None  # kept in memory so far
        for blob in blobs[1:]:
            c.put(digest_of(blob), blob)
        # A full batch was written by the thread that filled it.
        assert outside.usage()[0] >= FLUSH_EVERY
    assert outside.usage()[0] == len(blobs) + 1
    assert outside.facts_get(facts_key(MANIFEST_DIGEST)) == {"size": 1}


def test_deferred_writes_are_kept_when_the_block_is_interrupted(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)

    def interrupted() -> None:
        with c.deferred():
            c.put(MANIFEST_DIGEST, MANIFEST)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert DigestCache(tmp_path).get(MANIFEST_DIGEST) == MANIFEST


def test_concurrent_threads_put_and_get(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    blobs = [os.urandom(64 * 1024) + bytes([i]) for i in range(8)]
    digests = [digest_of(b) for b in blobs]
    torn: list[bytes] = []
    start = threading.Barrier(16)

    def work(n: int) -> None:
        start.wait()
        with c.deferred() if n % 2 else contextlib.nullcontext():
            for round_ in range(20):
                i = (n + round_) % len(blobs)
                c.put(digests[i], blobs[i])
                got = c.get(digests[(i + 1) % len(blobs)])
                if got is not None and got != blobs[(i + 1) % len(blobs)]:
                    torn.append(got)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))
    assert torn == []
    assert [c.get(d) for d in digests] == blobs
    assert DigestCache(tmp_path).usage() == (len(blobs), sum(map(len, blobs)))


def _process_writer(root: str, seed: int) -> int:
    c = DigestCache(root)
    wrong = 0
    for i in range(30):
        data = f"blob-{(seed + i) % 10}".encode() * 1000
        digest = digest_of(data)
        with c.deferred() if i % 3 == 0 else contextlib.nullcontext():
            c.put(digest, data)
            c.facts_put(facts_key(digest), {"seed": seed})
        got = c.get(digest)
        wrong += got != data
    c.close()
    return wrong


def test_concurrent_processes_put_same_keys(tmp_path: Path) -> None:
    # fork keeps this fast (spawn re-imports pandas in every child); spawn elsewhere.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_process_writer, [(str(tmp_path), s) for s in range(8)])
    assert results == [0] * 8
    c = DigestCache(tmp_path)
    assert c.usage()[0] == 20  # 10 blobs, 10 facts: each once, whoever wrote it
    for i in range(10):
        data = f"blob-{i}".encode() * 1000
        assert c.get(digest_of(data)) == data
        assert c.facts_get(facts_key(digest_of(data))) is not None


def _use_after_fork(c: DigestCache, queue: multiprocessing.Queue[object]) -> None:
    data = b"child" * 100
    c.put(digest_of(data), data)
    queue.put((c.get(MANIFEST_DIGEST), c.get(digest_of(data))))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    c.put(MANIFEST_DIGEST, MANIFEST)  # the parent's connection is open now
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[object] = ctx.Queue()
    child = ctx.Process(target=_use_after_fork, args=(c, queue))
    child.start()
    got = queue.get(timeout=30)
    child.join(30)
    assert got == (MANIFEST, b"child" * 100)
    assert c.get(digest_of(b"child" * 100)) == b"child" * 100  # the parent's still works


def test_usage_and_clear_count_the_older_layout_too(tmp_path: Path) -> None:
    # Earlier versions kept a file per entry under blobs/ and facts/: not read, but cleared.
    old = tmp_path / "blobs" / "sha256" / "ab" / ("ab" + "0" * 62)
    old.parent.mkdir(parents=True)
    old.write_bytes(b"12345")
    (tmp_path / "notes.txt").write_text("mine")
    c = DigestCache(tmp_path)
    c.put_bytes(b"{}")
    assert c.usage() == (2, 7)
    assert c.clear() == (2, 7)
    assert c.usage() == (0, 0)
    assert not (tmp_path / "blobs").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"
    c.put_bytes(b"{}")  # still usable after a clear
    assert c.usage() == (1, 2)


# --------------------------------------------------------------------------- facts


def test_facts_key_format_and_validation() -> None:
    assert facts_key(MANIFEST_DIGEST, "linux/arm64/v8") == f"image|{MANIFEST_DIGEST}|linux/arm64/v8"
    assert facts_key(MANIFEST_DIGEST) == f"image|{MANIFEST_DIGEST}|*"
    assert facts_key(MANIFEST_DIGEST, None, "hub").startswith("hub|")
    with pytest.raises(ManifestError):
        facts_key("sha256:../../x", "linux/amd64")
    with pytest.raises(ValueError, match=r"\|"):
        facts_key(MANIFEST_DIGEST, "linux|amd64")


def test_facts_round_trip_and_isolation(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    amd = facts_key(MANIFEST_DIGEST, "linux/amd64")
    arm = facts_key(MANIFEST_DIGEST, "linux/arm64")
    facts = {"created": "2024-08-08T10:34:56.123456789+00:00", "size": 12345, "source": "config"}
    assert c.facts_get(amd) is None
    c.facts_put(amd, facts)
    assert c.facts_get(amd) == facts
    assert c.facts_get(arm) is None
    c.facts_put(amd, {**facts, "size": 1})  # replaced, not merged
    stored = c.facts_get(amd)
    assert stored is not None
    assert stored["size"] == 1
    assert sql(tmp_path, "SELECT schema, key FROM facts") == [(FACTS_SCHEMA, amd)]
    assert DigestCache(tmp_path).facts_get(amd) == stored


def test_facts_from_another_schema_are_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = DigestCache(tmp_path)
    key = facts_key(MANIFEST_DIGEST, "linux/amd64")
    c.facts_put(key, {"size": 1})
    monkeypatch.setattr(cache_mod, "FACTS_SCHEMA", FACTS_SCHEMA + 1)
    assert c.facts_get(key) is None
    c.facts_put(key, {"size": 2})
    assert c.facts_get(key) == {"size": 2}
    monkeypatch.setattr(cache_mod, "FACTS_SCHEMA", FACTS_SCHEMA)
    assert c.facts_get(key) == {"size": 1}  # the old version's entry is untouched


@pytest.mark.parametrize("corruption", ["", "{", "[]", "null", "not json"])
def test_corrupt_facts_are_removed(tmp_path: Path, corruption: str) -> None:
    c = DigestCache(tmp_path)
    key = facts_key(MANIFEST_DIGEST)
    c.facts_put(key, {"size": 1})
    sql(tmp_path, "UPDATE facts SET doc = ?", corruption)
    assert c.facts_get(key) is None
    assert sql(tmp_path, "SELECT count(*) FROM facts") == [(0,)]


def test_facts_must_be_json(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    key = facts_key(MANIFEST_DIGEST)
    with pytest.raises(TypeError):
        c.facts_put(key, {"created": object()})
    with pytest.raises(ValueError, match="JSON"):
        c.facts_put(key, {"size": float("nan")})
    assert c.facts_get(key) is None
