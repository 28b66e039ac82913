"""Tests for regframe.client.cache: digest-addressed blobs, facts, safety under corruption and races."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import platformdirs
import pytest

from regframe.client import cache as cache_mod
from regframe.client.cache import CACHE_ENV, FACTS_SCHEMA, DigestCache, facts_key, resolve_cache_dir
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


def test_put_get_round_trip_and_sharded_layout(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    assert c.get(MANIFEST_DIGEST) is None
    c.put(MANIFEST_DIGEST, MANIFEST)
    assert c.get(MANIFEST_DIGEST) == MANIFEST
    hexpart = MANIFEST_DIGEST.split(":")[1]
    assert files_under(tmp_path) == [tmp_path / "blobs" / "sha256" / hexpart[:2] / hexpart]
    assert MANIFEST_DIGEST in c
    assert digest_of(b"other") not in c


def test_sha512_keys(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    key = digest_of(MANIFEST, "sha512")
    c.put(key, MANIFEST)
    assert c.get(key) == MANIFEST
    assert (tmp_path / "blobs" / "sha512").is_dir()


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
def test_corrupt_entry_is_deleted_and_missed(tmp_path: Path, corruption: bytes) -> None:
    c = DigestCache(tmp_path)
    c.put(MANIFEST_DIGEST, MANIFEST)
    (entry,) = files_under(tmp_path)
    entry.write_bytes(corruption)
    assert c.get(MANIFEST_DIGEST) is None
    assert not entry.exists()
    c.put(MANIFEST_DIGEST, MANIFEST)  # heals on the next fetch
    assert c.get(MANIFEST_DIGEST) == MANIFEST


def test_disabled_cache_is_a_no_op(tmp_path: Path) -> None:
    c = DigestCache(None)
    assert not c.enabled
    c.put(MANIFEST_DIGEST, MANIFEST)
    assert c.get(MANIFEST_DIGEST) is None
    c.facts_put(facts_key(MANIFEST_DIGEST), {"size": 1})
    assert c.facts_get(facts_key(MANIFEST_DIGEST)) is None
    assert "None" in repr(c)


def test_unwritable_root_does_not_fail_the_caller(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")  # a file where the cache root should be: mkdir fails even as root
    c = DigestCache(blocker)
    c.put(MANIFEST_DIGEST, MANIFEST)
    c.facts_put(facts_key(MANIFEST_DIGEST), {"size": 1})
    assert c.get(MANIFEST_DIGEST) is None
    assert c.facts_get(facts_key(MANIFEST_DIGEST)) is None


def test_concurrent_threads_put_and_get(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    blobs = [os.urandom(64 * 1024) + bytes([i]) for i in range(8)]
    digests = [digest_of(b) for b in blobs]
    torn: list[bytes] = []
    start = threading.Barrier(16)

    def work(n: int) -> None:
        start.wait()
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
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    assert len(files_under(tmp_path)) == len(blobs)


def _process_writer(root: str, seed: int) -> int:
    c = DigestCache(root)
    wrong = 0
    for i in range(30):
        data = f"blob-{(seed + i) % 10}".encode() * 1000
        digest = digest_of(data)
        c.put(digest, data)
        got = c.get(digest)
        wrong += got != data
    return wrong


def test_concurrent_processes_put_same_keys(tmp_path: Path) -> None:
    # fork keeps this fast (spawn re-imports pandas in every child); spawn elsewhere.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_process_writer, [(str(tmp_path), s) for s in range(4)])
    assert results == [0, 0, 0, 0]
    assert len(files_under(tmp_path)) == 10


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
    c.facts_put(amd, {**facts, "size": 1})  # replaced, not merged into a broken file
    stored = c.facts_get(amd)
    assert stored is not None
    assert stored["size"] == 1
    (entry,) = [p for p in files_under(tmp_path) if p.suffix == ".json"]
    assert entry.parent.parent.name == f"v{FACTS_SCHEMA}"
    assert json.loads(entry.read_text())["key"] == amd


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


def test_facts_entry_with_mismatched_schema_field_is_a_miss(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    key = facts_key(MANIFEST_DIGEST)
    c.facts_put(key, {"size": 1})
    (entry,) = files_under(tmp_path)
    doc = json.loads(entry.read_text())
    entry.write_text(json.dumps({**doc, "schema": FACTS_SCHEMA - 1}))
    assert c.facts_get(key) is None
    entry.write_text(json.dumps({**doc, "key": facts_key(MANIFEST_DIGEST, "linux/s390x")}))
    assert c.facts_get(key) is None


@pytest.mark.parametrize("corruption", [b"", b"{", b"[]", b'{"schema": 1, "facts": []}'])
def test_corrupt_facts_are_removed(tmp_path: Path, corruption: bytes) -> None:
    c = DigestCache(tmp_path)
    key = facts_key(MANIFEST_DIGEST)
    c.facts_put(key, {"size": 1})
    (entry,) = files_under(tmp_path)
    entry.write_bytes(corruption)
    assert c.facts_get(key) is None
    assert not entry.exists()


def test_facts_must_be_json(tmp_path: Path) -> None:
    c = DigestCache(tmp_path)
    key = facts_key(MANIFEST_DIGEST)
    with pytest.raises(TypeError):
        c.facts_put(key, {"created": object()})
    with pytest.raises(ValueError, match="JSON"):
        c.facts_put(key, {"size": float("nan")})
    assert c.facts_get(key) is None
