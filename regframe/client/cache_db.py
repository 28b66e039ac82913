"""The digest cache's one SQLite file: opened lazily, shared by threads, every failure a miss.

:class:`CacheDb` is the storage under :class:`regframe.client.cache.DigestCache`:
two tables, ``blobs`` (digest → bytes) and ``facts`` ((schema, key) → JSON text),
in ``ROOT/digests.sqlite``.  It knows nothing about digests or JSON; the cache
above it validates keys, re-hashes what it reads and parses the facts.

Several processes: WAL mode (readers never wait for the writer), a busy timeout,
and each write one short ``BEGIN IMMEDIATE`` transaction.  Several threads: one
connection, used under a lock.  A process forked while the connection was open
opens its own (SQLite connections must not cross a ``fork``).

Failures never reach the caller: a directory that cannot be created or a file
that cannot be opened disables the file for this instance (every read a miss,
every write dropped); a lock held past the busy timeout, a full disk or a
read-only file drops that one read or write; a file that is not a SQLite
database, or is corrupt, is deleted and started afresh (it only ever held a
cache).  A SQLite database of another application under the same name is left
untouched and not used.  Each case is logged at DEBUG level.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TypeVar

__all__ = ["APPLICATION_ID", "BUSY_TIMEOUT", "DB_NAME", "CacheDb"]

log = logging.getLogger(__name__)

#: The cache's file under its root directory.
DB_NAME = "digests.sqlite"
#: ``PRAGMA application_id`` of a regframe digest cache ("rfdc").
APPLICATION_ID = 0x72666463
#: Seconds a write waits for another process's transaction before it is dropped.
BUSY_TIMEOUT = 5.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS facts (schema INTEGER NOT NULL, key TEXT NOT NULL, "
    "doc TEXT NOT NULL, PRIMARY KEY (schema, key)) WITHOUT ROWID",
)
T = TypeVar("T")


class _Foreign(Exception):
    """The file is a SQLite database, but not a regframe cache."""


class CacheDb:
    """``ROOT/digests.sqlite`` behind a lock; see the module docstring.

    Parameters
    ----------
    path
        The database file (its directory is created on first use).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> db = CacheDb(pathlib.Path(tempfile.mkdtemp()) / DB_NAME)
    >>> db.write([("sha256:x", b"{}")], [])
    >>> db.blob("sha256:x"), db.blob("sha256:y")
    (b'{}', None)
    >>> db.close()
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._unusable = False

    # -- reading and writing -----------------------------------------------------------

    def blob(self, digest: str) -> bytes | None:
        """The bytes stored under *digest*, or ``None``."""
        row = self._run(
            lambda c: c.execute("SELECT data FROM blobs WHERE digest = ?", (digest,)).fetchone()
        )
        return bytes(row[0]) if row else None

    def facts(self, schema: int, key: str) -> str | None:
        """The facts text stored under ``(schema, key)``, or ``None``."""
        row = self._run(
            lambda c: c.execute(
                "SELECT doc FROM facts WHERE schema = ? AND key = ?", (schema, key)
            ).fetchone()
        )
        return str(row[0]) if row else None

    def write(
        self,
        blobs: Collection[tuple[str, bytes]],
        facts: Collection[tuple[int, str, str]],
    ) -> None:
        """Store both lists in one transaction: blobs once per digest, facts replaced."""
        if not blobs and not facts:
            return

        def write(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.executemany("INSERT OR IGNORE INTO blobs VALUES (?, ?)", blobs)
                conn.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?)", facts)

        self._run(write)

    def forget_blob(self, digest: str) -> None:
        """Delete the blob row of *digest* (it did not verify)."""
        self._run(lambda c: c.execute("DELETE FROM blobs WHERE digest = ?", (digest,)))

    def forget_facts(self, schema: int, key: str) -> None:
        """Delete one facts row (it was not a JSON object)."""
        self._run(
            lambda c: c.execute("DELETE FROM facts WHERE schema = ? AND key = ?", (schema, key))
        )

    def usage(self) -> tuple[int, int]:
        """``(rows, bytes of content)`` over both tables; ``(0, 0)`` without a file."""
        if not self.path.is_file():
            return 0, 0
        row = self._run(
            lambda c: c.execute(
                "SELECT (SELECT count(*) FROM blobs) + (SELECT count(*) FROM facts), "
                "(SELECT coalesce(sum(length(data)), 0) FROM blobs) + "
                "(SELECT coalesce(sum(length(CAST(doc AS BLOB))), 0) FROM facts)"
            ).fetchone()
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def clear(self) -> None:
        """Delete every row, then give the space back when no one else is reading."""
        if not self.path.is_file():
            return

        def clear(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM blobs")
                conn.execute("DELETE FROM facts")
            # Best effort: another process's open read transaction makes these fail.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        self._run(clear)

    def close(self) -> None:
        """Close the connection (a later call opens it again)."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None and self._pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    # -- the connection ----------------------------------------------------------------

    def _run(self, action: Callable[[sqlite3.Connection], T]) -> T | None:
        """``action(connection)`` under the lock; ``None`` when the file failed (logged)."""
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                if conn is None:
                    return None
                try:
                    return action(conn)
                except sqlite3.OperationalError as exc:  # locked, disk full, read-only...
                    log.debug("digest cache %s: %s", self.path, exc)
                    return None
                except sqlite3.DatabaseError as exc:  # not a database, or corrupt
                    log.debug("digest cache %s is broken (%s); starting afresh", self.path, exc)
                    if attempt == 2 or not self._reset():
                        self._unusable = True
                        return None
            return None

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self._conn = None  # inherited across fork: never touch (or close) the parent's
        if self._unusable:
            return None
        try:
            self._conn = self._open()
        except _Foreign:
            log.debug("%s is not a regframe digest cache; it is left alone", self.path)
            self._unusable = True
        except sqlite3.OperationalError as exc:
            log.debug("digest cache %s cannot be opened: %s", self.path, exc)
            self._unusable = True
        except sqlite3.DatabaseError as exc:
            log.debug("digest cache %s is broken (%s); starting afresh", self.path, exc)
            if self._reset():
                with contextlib.suppress(sqlite3.Error, _Foreign, OSError):
                    self._conn = self._open()
            self._unusable = self._conn is None
        except OSError as exc:
            log.debug("digest cache directory %s: %s", self.path.parent, exc)
            self._unusable = True
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            _prepare(conn)
        except BaseException:
            conn.close()
            raise
        self._pid = os.getpid()
        return conn

    def _reset(self) -> bool:
        """Delete a broken file (and its journals); ``True`` when it is gone."""
        self.close()
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")
        except OSError as exc:
            log.debug("could not remove the broken digest cache %s: %s", self.path, exc)
            return False
        return True


def _prepare(conn: sqlite3.Connection) -> None:
    """Check the file is a regframe cache (or empty), create the tables, choose WAL."""
    # Reading the header is what finds a file that is not a database at all.
    app = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app != APPLICATION_ID:
        with _transaction(conn):
            app = int(conn.execute("PRAGMA application_id").fetchone()[0])
            tables = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
            if app not in (0, APPLICATION_ID) or (app == 0 and tables):
                raise _Foreign
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    # WAL persists in the file; switching needs a moment alone with it, and without it
    # (busy, or a file system without shared memory) the rollback journal is just slower.
    with contextlib.suppress(sqlite3.OperationalError):
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
    # Durability is not needed (a lost entry is a miss), a torn file is: NORMAL keeps the
    # database consistent through a crash and skips the fsync on every commit.
    conn.execute("PRAGMA synchronous = NORMAL")


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
