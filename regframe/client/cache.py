"""A digest-addressed disk cache: immutable registry content is fetched once, ever.

Only the mapping tag → digest can change; whatever a digest names (manifests, indexes,
configs) cannot, so it is cached forever without expiry.  Two stores live in one SQLite
file, ``ROOT/digests.sqlite`` (:mod:`regframe.client.cache_db`): raw bytes by digest,
and facts derived from them (JSON) by key.

One file rather than a file per entry: a cold ``read_tags(dates=True)`` of 2,000 tags
writes about 2,400 entries, and creating a file cost this project's VM 0.2–0.5 ms of
system time each, as much as everything else regframe does with a response; a row
written in a batch costs about 0.02 ms.

Safety properties:

* Keys are validated against the digest grammar (:func:`regframe.client.digests.is_digest`)
  before they reach the file.
* Reads are verified (the blob is re-hashed, the facts parsed), so a damaged entry is
  deleted and reported as a miss instead of being trusted.
* Threads and processes share the file safely (SQLite's WAL mode and locking; blobs are
  written ``INSERT OR IGNORE``, since every writer of a digest writes the same bytes).
* The cache is best effort: an unwritable directory, a full disk, a lock held too long or
  a corrupt file never fails a read of the registry; the problem is logged at DEBUG level
  and the cache behaves as a miss (a corrupt file is replaced by an empty one).
* Writes are atomic transactions; inside :meth:`DigestCache.deferred` they are kept in
  memory (and served from there) and written in batches of :data:`FLUSH_EVERY` and at the
  end of the block, so a process killed meanwhile loses those entries, never the file.

The file is for the processes of one machine: SQLite's locking is not reliable on a
network file system shared by several machines, so give each machine a local directory.

Facts entries carry :data:`FACTS_SCHEMA`; bump it when the meaning of stored facts changes
and old entries are ignored (they stay in the file under their own schema number).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import platformdirs

from regframe.client.cache_db import DB_NAME, CacheDb
from regframe.client.digests import compute_digest, validate_digest
from regframe.client.locations import user_path
from regframe.errors import ManifestError

__all__ = [
    "CACHE_ENV",
    "FACTS_SCHEMA",
    "FLUSH_EVERY",
    "DigestCache",
    "facts_key",
    "resolve_cache_dir",
]

log = logging.getLogger(__name__)

#: Environment variable that overrides the default directory used for ``cache=True``
#: (handy for CI and tests that must not touch the user's home).
CACHE_ENV = "REGFRAME_CACHE_DIR"
#: Version of the facts format; entries written with another version are misses.
FACTS_SCHEMA = 1
#: Entries kept in memory by :meth:`DigestCache.deferred` before they are written.
FLUSH_EVERY = 512
#: Directories of the one-file-per-entry layout of earlier versions: not read any more,
#: but counted by :meth:`DigestCache.usage` and removed by :meth:`DigestCache.clear`.
LEGACY_STORES = ("blobs", "facts")


def resolve_cache_dir(cache: bool | str | os.PathLike[str] | None) -> Path | None:
    """Turn the ``cache=`` argument of :func:`regframe.read_tags` into a directory.

    Parameters
    ----------
    cache
        ``True``: ``$REGFRAME_CACHE_DIR`` if set, else ``platformdirs.user_cache_dir("regframe")``;
        a path: that directory (``~`` expanded); ``False`` or ``None``: no cache.

    Returns
    -------
    pathlib.Path | None

    Examples
    --------
    >>> resolve_cache_dir(False) is None
    True
    >>> resolve_cache_dir("/tmp/rf-cache").name
    'rf-cache'
    """
    return user_path(
        cache, name="cache", env=CACHE_ENV, default=lambda: platformdirs.user_cache_path("regframe")
    )


def facts_key(digest: str, platform: str | None = None, kind: str = "image") -> str:
    """Build the key of a facts entry: ``"{kind}|{digest}|{platform or '*'}"``.

    The digest pins the content, the platform says which child of an index was chosen, the
    kind separates unrelated derivations (e.g. ``"image"`` for created/size/platforms from
    the manifest chain).

    Parameters
    ----------
    digest
        The manifest (or index) digest the facts derive from.
    platform
        The platform string the facts were derived for, ``None`` if not platform specific.
    kind
        A short namespace without ``|``.

    Returns
    -------
    str

    Examples
    --------
    >>> facts_key("sha256:" + "a" * 64, "linux/amd64")[:13]
    'image|sha256:'
    """
    validate_digest(digest)
    if "|" in kind or "|" in (platform or ""):
        raise ValueError("facts key components must not contain '|'")
    return f"{kind}|{digest}|{platform or '*'}"


class DigestCache:
    """Digest → bytes store plus a small JSON facts store; a no-op when *path* is ``None``.

    Parameters
    ----------
    path
        Root directory (created lazily), or ``None`` to disable.  Use
        :meth:`from_option` to accept the ``cache=`` argument (``True``/``False``/path).

    Examples
    --------
    >>> import tempfile
    >>> c = DigestCache(tempfile.mkdtemp())
    >>> d = c.put_bytes(b"{}")
    >>> c.get(d)
    b'{}'
    >>> DigestCache(None).get(d) is None
    True
    >>> c.close()
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path: Path | None = None if path is None else Path(path).expanduser()
        self._db = CacheDb(self.path / DB_NAME) if self.path is not None else None
        self._lock = threading.Lock()
        # Written but not yet flushed (inside deferred()): served to readers from here.
        self._blobs: dict[str, bytes] = {}
        self._facts: dict[tuple[int, str], str] = {}
        self._deferred = 0

    @classmethod
    def from_option(cls, cache: bool | str | os.PathLike[str] | None) -> DigestCache:
        """Build a cache from the ``cache=`` argument (see :func:`resolve_cache_dir`).

        Examples
        --------
        >>> DigestCache.from_option(False).enabled
        False
        """
        return cls(resolve_cache_dir(cache))

    @property
    def enabled(self) -> bool:
        """True when entries are actually stored."""
        return self.path is not None

    def __repr__(self) -> str:
        return f"DigestCache({str(self.path) if self.path else None!r})"

    def __enter__(self) -> DigestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def deferred(self) -> Iterator[DigestCache]:
        """Within the block, keep writes in memory and write them in batches.

        Batches of :data:`FLUSH_EVERY` entries are written by whichever thread fills one;
        the rest when the block ends, however it ends (what is kept is verified already).
        Reads see deferred entries at once.  Blocks may nest and overlap across threads.

        Examples
        --------
        >>> import tempfile
        >>> c = DigestCache(tempfile.mkdtemp())
        >>> with c.deferred():
        ...     d = c.put_bytes(b"[]")
        ...     DigestCache(c.path).get(d) is None    # not on disk yet
        True
        >>> DigestCache(c.path).get(d)
        b'[]'
        """
        with self._lock:
            self._deferred += 1
        try:
            yield self
        finally:
            with self._lock:
                self._deferred -= 1
            self.flush()

    def flush(self) -> None:
        """Write what :meth:`deferred` kept (one transaction)."""
        if self._db is None:
            return
        # Under the lock, so an entry is always either in memory or in the file.
        with self._lock:
            if not self._blobs and not self._facts:
                return
            blobs, facts = list(self._blobs.items()), self._facts
            self._db.write(blobs, [(schema, key, doc) for (schema, key), doc in facts.items()])
            self._blobs, self._facts = {}, {}

    def close(self) -> None:
        """Flush, then close the file (a later call opens it again)."""
        self.flush()
        if self._db is not None:
            self._db.close()

    def _kept(self) -> None:
        """An entry was added: write now, unless deferred and the batch is not full."""
        if not self._deferred or len(self._blobs) + len(self._facts) >= FLUSH_EVERY:
            self.flush()

    # ------------------------------------------------------------------ blobs

    def get(self, digest: str) -> bytes | None:
        """Return the bytes stored for *digest*, or ``None`` (miss, disabled, or corrupt).

        Parameters
        ----------
        digest
            ``sha256:…`` or ``sha512:…``.

        Returns
        -------
        bytes | None

        Raises
        ------
        ManifestError
            *digest* does not follow the digest grammar (even when disabled).

        Examples
        --------
        >>> DigestCache(None).get("sha256:" + "0" * 64) is None
        True
        """
        validate_digest(digest, what="cache key")
        if self._db is None:
            return None
        with self._lock:
            data = self._blobs.get(digest)
        if data is not None:
            return data
        data = self._db.blob(digest)
        if data is not None and compute_digest(data, digest.split(":", 1)[0]) != digest:
            log.debug("cache entry %s is corrupt; removing it", digest)
            self._db.forget_blob(digest)
            return None
        return data

    def put(self, digest: str, data: bytes) -> None:
        """Store *data* under *digest* after checking that it hashes to it.

        Parameters
        ----------
        digest
            The content digest.
        data
            The content.

        Raises
        ------
        ManifestError
            Malformed digest, or *data* does not match it (nothing is written).

        Examples
        --------
        >>> DigestCache(None).put("sha256:" + "0" * 64, b"x")  # disabled: validates key only
        """
        validate_digest(digest, what="cache key")
        if self._db is None:
            return
        actual = compute_digest(data, digest.split(":", 1)[0])
        if actual != digest:
            raise ManifestError(f"refusing to cache: expected {digest}, content hashes to {actual}")
        with self._lock:
            self._blobs[digest] = bytes(data)
        self._kept()

    def put_bytes(self, data: bytes) -> str:
        """Store *data* under its sha256 digest and return that digest.

        Examples
        --------
        >>> DigestCache(None).put_bytes(b"")[:7]
        'sha256:'
        """
        digest = compute_digest(data)
        self.put(digest, data)
        return digest

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.get(digest) is not None

    # ------------------------------------------------------------------ facts

    def facts_get(self, key: str) -> dict[str, Any] | None:
        """Return the facts stored under *key* (see :func:`facts_key`), or ``None``.

        Entries with another :data:`FACTS_SCHEMA` are misses; unreadable ones are removed.

        Examples
        --------
        >>> DigestCache(None).facts_get("image|x|*") is None
        True
        """
        if self._db is None:
            return None
        schema = FACTS_SCHEMA
        with self._lock:
            raw = self._facts.get((schema, key))
        if raw is None:
            raw = self._db.facts(schema, key)
        if raw is None:
            return None
        try:
            facts = json.loads(raw)
        except ValueError:
            facts = None
        if not isinstance(facts, dict):
            log.debug("facts entry for %s is corrupt; removing it", key)
            self._db.forget_facts(schema, key)
            return None
        return facts

    def facts_put(self, key: str, facts: Mapping[str, Any]) -> None:
        """Store JSON-serialisable *facts* under *key*, replacing any older entry.

        Store timestamps as ISO strings or integer nanoseconds; anything ``json`` cannot
        encode raises ``TypeError`` and NaN raises ``ValueError`` (programming errors, not
        registry problems; use ``None`` for missing values).

        Examples
        --------
        >>> DigestCache(None).facts_put("image|x|*", {"size": 1})
        """
        if self._db is None:
            return
        doc = json.dumps(dict(facts), sort_keys=True, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._facts[(FACTS_SCHEMA, key)] = doc
        self._kept()

    # ------------------------------------------------------------ maintenance

    def _legacy(self) -> list[Path]:
        if self.path is None:
            return []
        found: list[Path] = []
        for store in LEGACY_STORES:
            root = self.path / store
            if root.is_dir():
                found.extend(p for p in root.rglob("*") if p.is_file())
        return found

    def usage(self) -> tuple[int, int]:
        """``(entries, bytes)`` stored today (``(0, 0)`` when disabled or not yet created).

        Bytes count the stored content, not the file's pages.

        Examples
        --------
        >>> import tempfile
        >>> c = DigestCache(tempfile.mkdtemp())
        >>> _ = c.put_bytes(b"{}")
        >>> c.usage()
        (1, 2)
        """
        if self._db is None:
            return 0, 0
        self.flush()
        entries, size = self._db.usage()
        legacy = self._legacy()
        for entry in legacy:
            with contextlib.suppress(OSError):  # removed meanwhile by another process
                size += entry.stat().st_size
        return entries + len(legacy), size

    def clear(self) -> tuple[int, int]:
        """Remove every entry; return the ``(entries, bytes)`` that were removed.

        Only the cache's own file and stores under the root are touched, never the root
        itself or other files a user keeps there.

        Examples
        --------
        >>> import tempfile
        >>> c = DigestCache(tempfile.mkdtemp())
        >>> _ = c.put_bytes(b"{}")
        >>> c.clear(), c.usage()
        ((1, 2), (0, 0))
        """
        before = self.usage()
        if self._db is not None and self.path is not None:
            self._db.clear()
            for store in LEGACY_STORES:
                shutil.rmtree(self.path / store, ignore_errors=True)
        return before
