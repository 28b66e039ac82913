"""A digest-addressed disk cache: immutable registry content is fetched once, ever.

Only the mapping tag → digest can change; whatever a digest names (manifests, indexes,
configs) cannot, so it is cached forever without expiry.  Two stores live under one root::

    ROOT/blobs/sha256/ab/abcdef…          raw bytes, file name = hex of the digest
    ROOT/facts/v1/3f/3f9a…json            derived facts, file name = sha256 of the key

Safety properties:

* Keys are validated against the digest grammar (:func:`regframe.client.digests.is_digest`)
  before any path is built, so nothing like ``sha256:../../x`` can escape the root.
* Writes go to a unique temporary file in the target directory and are published with
  :func:`os.replace`, which is atomic on POSIX and Windows: concurrent threads and processes
  see either no entry or a whole one.  No locks are needed because every writer of a key
  writes identical bytes.
* Reads are verified (the blob is re-hashed), so a torn or tampered file is deleted and
  reported as a miss instead of being trusted.  That is also why writes skip ``fsync``.
* The cache is best effort: an unwritable directory or full disk never fails a read of the
  registry; the problem is logged at DEBUG level and the cache behaves as a miss.

Facts entries carry :data:`FACTS_SCHEMA`; bump it when the meaning of stored facts changes
and old entries are ignored (they live in a different ``vN`` directory as well).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from regframe.client.digests import compute_digest, validate_digest
from regframe.client.locations import user_path
from regframe.errors import ManifestError

__all__ = ["CACHE_ENV", "FACTS_SCHEMA", "DigestCache", "facts_key", "resolve_cache_dir"]

log = logging.getLogger(__name__)

#: Environment variable that overrides the default directory used for ``cache=True``
#: (handy for CI and tests that must not touch the user's home).
CACHE_ENV = "REGFRAME_CACHE_DIR"
#: Version of the facts format; entries written with another version are misses.
FACTS_SCHEMA = 1


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


def _read_entry(target: Path) -> bytes | None:
    """The entry's bytes; ``None`` when it is missing or cannot be read (a miss, not an error)."""
    try:
        return target.read_bytes()
    except OSError:
        return None


def _drop_corrupt(target: Path, what: str) -> None:
    """Remove a corrupt entry (a miss) so that the next write replaces it."""
    log.debug("%s is corrupt; removing it", what)
    with contextlib.suppress(OSError):
        target.unlink()


def _write_atomic(target: Path, data: bytes) -> None:
    # The directory usually exists: creating it first on every write cost a failing
    # mkdir system call per cache entry (a third of a cold read's cache work).
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path: Path | None = None if path is None else Path(path).expanduser()

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

    # ------------------------------------------------------------------ blobs

    def _blob_path(self, digest: str) -> Path:
        assert self.path is not None
        algorithm, hexpart = validate_digest(digest, what="cache key").split(":", 1)
        return self.path / "blobs" / algorithm / hexpart[:2] / hexpart

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
        if self.path is None:
            return None
        target = self._blob_path(digest)
        data = _read_entry(target)
        if data is not None and compute_digest(data, digest.split(":", 1)[0]) != digest:
            _drop_corrupt(target, f"cache entry {digest}")
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
        if self.path is None:
            return
        actual = compute_digest(data, digest.split(":", 1)[0])
        if actual != digest:
            raise ManifestError(f"refusing to cache: expected {digest}, content hashes to {actual}")
        target = self._blob_path(digest)
        if target.exists():  # content addressed: an existing entry already holds these bytes
            return
        try:
            _write_atomic(target, data)
        except OSError as exc:
            log.debug("could not write cache entry %s: %s", digest, exc)

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

    def _facts_path(self, key: str) -> Path:
        assert self.path is not None
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.path / "facts" / f"v{FACTS_SCHEMA}" / name[:2] / f"{name}.json"

    def facts_get(self, key: str) -> dict[str, Any] | None:
        """Return the facts stored under *key* (see :func:`facts_key`), or ``None``.

        Entries with another :data:`FACTS_SCHEMA`, another key (should never happen) or
        unreadable JSON are misses; unreadable ones are removed.

        Examples
        --------
        >>> DigestCache(None).facts_get("image|x|*") is None
        True
        """
        if self.path is None:
            return None
        target = self._facts_path(key)
        raw = _read_entry(target)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("facts"), dict):
            _drop_corrupt(target, f"facts entry for {key}")
            return None
        if doc.get("schema") != FACTS_SCHEMA or doc.get("key") != key:
            return None
        facts: dict[str, Any] = doc["facts"]
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
        if self.path is None:
            return
        body = {"schema": FACTS_SCHEMA, "key": key, "facts": dict(facts)}
        data = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
        try:
            _write_atomic(self._facts_path(key), data.encode("utf-8"))
        except OSError as exc:
            log.debug("could not write facts entry %s: %s", key, exc)

    # ------------------------------------------------------------ maintenance

    #: The directories under the root that this cache owns; nothing else is touched.
    STORES = ("blobs", "facts")

    def _entries(self) -> list[Path]:
        if self.path is None:
            return []
        found: list[Path] = []
        for store in self.STORES:
            root = self.path / store
            if root.is_dir():
                found.extend(p for p in root.rglob("*") if p.is_file())
        return found

    def usage(self) -> tuple[int, int]:
        """``(entries, bytes)`` stored today (``(0, 0)`` when disabled or not yet created).

        Examples
        --------
        >>> import tempfile
        >>> c = DigestCache(tempfile.mkdtemp())
        >>> _ = c.put_bytes(b"{}")
        >>> c.usage()
        (1, 2)
        """
        entries = self._entries()
        size = 0
        for entry in entries:
            with contextlib.suppress(OSError):  # removed meanwhile by another process
                size += entry.stat().st_size
        return len(entries), size

    def clear(self) -> tuple[int, int]:
        """Remove every entry; return the ``(entries, bytes)`` that were removed.

        Only the cache's own stores under the root are deleted, never the root itself
        or other files a user keeps there.

        Examples
        --------
        >>> import tempfile
        >>> c = DigestCache(tempfile.mkdtemp())
        >>> _ = c.put_bytes(b"{}")
        >>> c.clear(), c.usage()
        ((1, 2), (0, 0))
        """
        before = self.usage()
        if self.path is not None:
            for store in self.STORES:
                shutil.rmtree(self.path / store, ignore_errors=True)
        return before
