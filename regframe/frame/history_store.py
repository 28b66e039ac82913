"""The tag-history store: one SQLite file of intervals "tag → digest, from first_seen to last_seen".

The tables, the schema version and the migrations live in
:mod:`regframe.frame.history_schema`, and how a read changes the intervals in
:mod:`regframe.frame.history_plan`; this module opens, checks, migrates, writes and reads.

Times are integer nanoseconds since the Unix epoch, UTC.  ``source`` is
``"observed"`` (regframe saw the tag point there; ``first_seen`` is the first
time *regframe* saw it) or ``"quay"`` (Quay's own push history:
``first_seen``/``last_seen`` are the registry's ``start_ts``/``end_ts``).

Concurrency: WAL mode (readers never block the writer), a busy timeout, and
every write is one short ``BEGIN IMMEDIATE`` transaction that re-reads what it
changes, so several processes recording the same repository serialise instead
of losing or duplicating intervals.  A lock that outlasts the busy timeout is
retried a few times and then reported as :class:`~regframe.errors.HistoryStoreError`,
never as a bare ``sqlite3.OperationalError``.

Safety: a file that is not a regframe store, is corrupt, is read-only or has a
newer schema raises :class:`~regframe.errors.HistoryStoreError` and is left
exactly as it was (no repair, no migration, no journal-mode change).  The
store holds registry host names, repository names, tags and digests only —
never credentials, tokens or URLs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from regframe.client.locations import user_path
from regframe.errors import HistoryStoreError
from regframe.frame import history_schema as schema
from regframe.frame.history_plan import Plan, import_revisions, intervals_by_tag

__all__ = [
    "HISTORY_ENV",
    "HistoryStore",
    "Observation",
    "RecordResult",
    "Revision",
    "resolve_store_path",
]

log = logging.getLogger(__name__)

#: Environment variable overriding the default store file used for ``history=True``.
HISTORY_ENV = "REGFRAME_HISTORY"
#: Seconds a writer waits for another process's transaction before SQLite reports "locked".
BUSY_TIMEOUT = 15.0
#: Attempts of one write transaction when the lock outlasts the busy timeout.
LOCK_ATTEMPTS = 4


def resolve_store_path(history: bool | str | os.PathLike[str] | None) -> Path | None:
    """Turn the ``history=`` argument of :func:`regframe.read_tags` into a file path.

    Parameters
    ----------
    history
        ``True``: ``$REGFRAME_HISTORY`` if set, else
        ``platformdirs.user_data_dir("regframe")/history.sqlite``; a path: that
        file (``~`` expanded); ``False`` or ``None``: no store.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> resolve_store_path(False) is None
    True
    >>> resolve_store_path("/tmp/h.sqlite").name
    'h.sqlite'
    """
    return user_path(
        history,
        name="history",
        env=HISTORY_ENV,
        default=lambda: platformdirs.user_data_path("regframe") / "history.sqlite",
    )


@dataclass(frozen=True)
class Observation:
    """One tag seen pointing at a digest (a row of a ``dates=True`` frame).

    ``since`` is set when the registry itself says when the tag started
    pointing there (Quay's ``start_ts``); the interval then starts there and
    its ``source`` is ``source``.
    """

    tag: str
    digest: str
    facts: tuple[Any, ...] = (None,) * len(schema.FACT_COLUMNS)
    since: int | None = None
    source: str = "observed"


@dataclass(frozen=True)
class Revision:
    """A past interval a registry reported (Quay: ``start_ts`` → ``end_ts``)."""

    tag: str
    digest: str
    start: int
    end: int
    source: str = "quay"


@dataclass
class RecordResult:
    """What one :meth:`HistoryStore.record` changed."""

    tags: int = 0
    new: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    previous_snapshot: int | None = None


def _describe(exc: sqlite3.Error, path: Path) -> str:
    text = str(exc)
    low = text.lower()
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"{path} is not a usable SQLite database ({text}); it was left untouched"
    if "readonly" in low or "read-only" in low or "unable to open" in low:
        return f"{path} cannot be written ({text})"
    if "locked" in low or "busy" in low:
        return f"{path} stayed locked by another process ({text})"
    return f"{path}: {text}"


def _read_only(path: Path) -> bool:
    # Mode bits too: root may write anything, but a file marked read-only means "do not".
    return not (path.stat().st_mode & 0o222) or not os.access(path, os.W_OK)


def _is_lock(exc: sqlite3.Error) -> bool:
    low = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in low or "busy" in low)


class HistoryStore:
    """An open tag-history store (see the module docstring for the layout).

    Use :meth:`open` (it checks the file and migrates it) and close it again,
    or use it as a context manager.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "h.sqlite"
    >>> with HistoryStore.open(path) as store:
    ...     res = store.record("localhost:5000", "app", "linux/amd64",
    ...                        [Observation("1.0", "sha256:" + "a" * 64)], seen=10**18)
    ...     res.new
    ['1.0']
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        #: Opened read-only before any writer created the schema: every query finds nothing.
        self.empty = False

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False) -> HistoryStore:
        """Open (creating when missing and not ``readonly``) and migrate the store at ``path``.

        Raises
        ------
        HistoryStoreError
            The file is not a regframe store, is corrupt, cannot be written
            (unless ``readonly``), or has a newer schema.  The file is unchanged.
        """
        path = Path(path)
        if readonly and not path.exists():
            raise HistoryStoreError(f"no history store at {path}")
        if path.exists() and not path.is_file():
            raise HistoryStoreError(f"{path} is not a file")
        if not readonly and path.exists() and _read_only(path):
            raise HistoryStoreError(f"{path} is read-only; history is not recorded")
        conn: sqlite3.Connection | None = None
        try:
            if not readonly:
                path.parent.mkdir(parents=True, exist_ok=True)
            uri = f"{path.resolve().as_uri()}?mode={'ro' if readonly else 'rwc'}"
            if readonly and _read_only(path):
                # Nobody may write a read-only file, so there is no WAL to share: reading it
                # as immutable leaves no -wal/-shm files behind.
                uri += "&immutable=1"
            conn = sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            store = cls(conn, path, readonly=readonly)
            store._check_and_migrate()
            return store
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise HistoryStoreError(_describe(exc, path)) from None
        except OSError as exc:
            if conn is not None:
                conn.close()
            raise HistoryStoreError(f"{path}: {exc.strerror or exc}") from None
        except HistoryStoreError:
            if conn is not None:
                conn.close()
            raise

    def _versions(self) -> tuple[int, int, int]:
        # One read transaction for the three: read one by one, another process creating the
        # store in between looks like "tables but no application id", i.e. a foreign file.
        conn = self._conn
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            app = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
        except BaseException:
            if own:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        if own:
            conn.execute("COMMIT")
        return app, version, tables

    def _check(self, app: int, version: int, tables: int) -> None:
        if app not in (0, schema.APPLICATION_ID) or (app == 0 and tables):
            raise HistoryStoreError(
                f"{self.path} is a SQLite database but not a regframe history store; "
                "it was left untouched (pass history=PATH to use another file)"
            )
        if version > schema.SCHEMA_VERSION:
            raise HistoryStoreError(
                f"{self.path} was written by a newer regframe (schema {version}; this one "
                f"knows up to {schema.SCHEMA_VERSION}); it was left untouched — upgrade regframe "
                "or pass history=PATH to use another file"
            )

    def _check_and_migrate(self) -> None:
        # Reading the header is what detects a file that is not a database at all.
        app, version, tables = self._versions()
        self._check(app, version, tables)
        if self.readonly:
            if version == 0 and tables == 0:
                self.empty = True  # a writer is creating it right now, or never got that far
            elif version < schema.SCHEMA_VERSION:
                raise HistoryStoreError(
                    f"{self.path} has an older schema ({version}); open it once with "
                    "history recording on to upgrade it"
                )
            return
        if version == schema.SCHEMA_VERSION:
            self._use_wal()
            return
        with self._write() as conn:
            # Another process may have migrated while this one waited for the lock.
            app, version, tables = self._versions()
            self._check(app, version, tables)
            for step in range(version, schema.SCHEMA_VERSION):
                for statement in schema.MIGRATIONS[step]:
                    conn.execute(statement)
                log.debug("history store %s migrated to schema %d", self.path, step + 1)
            conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
        # Outside the transaction: journal_mode cannot change inside one.
        self._use_wal()

    def _use_wal(self) -> None:
        """Switch to WAL once (it persists); later opens only read the mode.

        The switch needs a moment alone with the file, which several processes opening a new
        store at once may not grant at first: it is retried within the busy timeout, and if it
        never succeeds the store still works in rollback-journal mode (locking keeps it safe).
        """
        deadline = time.monotonic() + BUSY_TIMEOUT
        mode = str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        attempt = 0
        while mode != "wal":
            try:
                mode = str(self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
            except sqlite3.OperationalError as exc:
                if not _is_lock(exc):
                    raise
            if mode == "wal":
                return
            if time.monotonic() > deadline:
                log.debug("history store %s stays in %s journal mode (busy)", self.path, mode)
                return
            time.sleep(min(0.5, 0.02 * 2**attempt))
            attempt += 1

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taking the write lock up front (``BEGIN IMMEDIATE``)."""
        for attempt in range(LOCK_ATTEMPTS):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not _is_lock(exc) or attempt == LOCK_ATTEMPTS - 1:
                    raise
                log.debug("history store %s locked, retrying (%s)", self.path, exc)
                time.sleep(0.05 * 2**attempt)
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _guard(self, what: str) -> contextlib.AbstractContextManager[None]:
        path = self.path

        @contextlib.contextmanager
        def guard() -> Iterator[None]:
            try:
                yield
            except sqlite3.Error as exc:
                raise HistoryStoreError(f"{what}: {_describe(exc, path)}") from None

        return guard()

    # -- writing ------------------------------------------------------------------------------

    def _series_id(
        self, registry: str, repository: str, platform: str, *, create: bool
    ) -> int | None:
        if self.empty:
            return None
        row = self._conn.execute(
            "SELECT id FROM series WHERE registry = ? AND repository = ? AND platform = ?",
            (registry, repository, platform),
        ).fetchone()
        if row is not None:
            return int(row[0])
        if not create:
            return None
        cur = self._conn.execute(
            "INSERT INTO series (registry, repository, platform) VALUES (?, ?, ?)",
            (registry, repository, platform),
        )
        return int(cur.lastrowid or 0)

    def record(
        self,
        registry: str,
        repository: str,
        platform: str,
        observations: Sequence[Observation],
        *,
        seen: int,
        complete: bool = True,
        revisions: Iterable[Revision] = (),
    ) -> RecordResult:
        """Record one read of a repository: each tag's digest at ``seen`` (ns since the epoch).

        A tag whose digest is unchanged moves its interval's ``last_seen``
        forward; a changed digest closes the old interval and opens a new one.
        With ``complete`` (the observations are every tag the registry listed,
        none failed) tags missing from them are closed as gone.  Observations
        older than what the store already knows (another process recorded a
        later read first) extend the matching earlier interval instead of
        re-opening a stale one.  ``revisions`` are past intervals a registry
        reported; recording them again changes nothing.

        Returns
        -------
        RecordResult
            New, moved and gone tags, and when this series was last recorded.
        """
        if self.readonly:
            raise HistoryStoreError(f"{self.path} was opened read-only")
        with self._guard("recording history"), self._write() as conn:
            sid = self._series_id(registry, repository, platform, create=True)
            assert sid is not None
            return self._record(conn, sid, observations, seen, complete, revisions)

    def _record(
        self,
        conn: sqlite3.Connection,
        sid: int,
        observations: Sequence[Observation],
        seen: int,
        complete: bool,
        revisions: Iterable[Revision],
    ) -> RecordResult:
        """Record one read in four steps: import the registry's past, decide, write, note."""
        prev = conn.execute(
            "SELECT max(taken_at) FROM snapshots WHERE series = ?", (sid,)
        ).fetchone()[0]
        result = RecordResult(
            tags=len(observations), previous_snapshot=None if prev is None else int(prev)
        )
        import_revisions(conn, sid, revisions)
        by_tag = intervals_by_tag(conn, sid)
        plan = Plan(sid, seen, result)
        for obs in observations:
            plan.observe(obs, by_tag.get(obs.tag, []))
        if complete:
            plan.close_gone(by_tag, {o.tag for o in observations})
        plan.write(conn)
        conn.execute(
            "INSERT INTO snapshots (series, taken_at, tags, moved, complete)"
            " VALUES (?, ?, ?, ?, ?)",
            (sid, seen, len(observations), len(result.moved), int(complete)),
        )
        return result

    # -- reading ------------------------------------------------------------------------------

    def series(self, registry: str, repository: str) -> list[tuple[int, str]]:
        """``(id, platform)`` of every series recorded for a repository."""
        if self.empty:
            return []
        with self._guard("reading history"):
            return [
                (int(r[0]), str(r[1]))
                for r in self._conn.execute(
                    "SELECT id, platform FROM series WHERE registry = ? AND repository = ?",
                    (registry, repository),
                )
            ]

    def intervals(
        self, registry: str, repository: str, platform: str, *, current_only: bool = False
    ) -> list[tuple[Any, ...]]:
        """Rows of :data:`INTERVAL_COLUMNS` for one series, by tag then ``first_seen``."""
        with self._guard("reading history"):
            sid = self._series_id(registry, repository, platform, create=False)
            if sid is None:
                return []
            where = " AND current = 1" if current_only else ""
            return list(
                self._conn.execute(
                    f"SELECT {', '.join(schema.INTERVAL_COLUMNS)} FROM intervals"  # noqa: S608 (constants)
                    f" WHERE series = ?{where} ORDER BY tag, first_seen, id",
                    (sid,),
                )
            )

    def last_complete_snapshot(self, registry: str, repository: str, platform: str) -> int | None:
        """When every tag of the series was last recorded (ns), or ``None``."""
        with self._guard("reading history"):
            sid = self._series_id(registry, repository, platform, create=False)
            if sid is None:
                return None
            row = self._conn.execute(
                "SELECT max(taken_at) FROM snapshots WHERE series = ? AND complete = 1", (sid,)
            ).fetchone()
            return None if row[0] is None else int(row[0])

    def snapshots(
        self, registry: str, repository: str, platform: str
    ) -> list[tuple[int, int, int, bool]]:
        """``(taken_at, tags, moved, complete)`` of every recorded read of the series."""
        with self._guard("reading history"):
            sid = self._series_id(registry, repository, platform, create=False)
            if sid is None:
                return []
            return [
                (int(r[0]), int(r[1]), int(r[2]), bool(r[3]))
                for r in self._conn.execute(
                    "SELECT taken_at, tags, moved, complete FROM snapshots WHERE series = ?"
                    " ORDER BY taken_at, id",
                    (sid,),
                )
            ]
