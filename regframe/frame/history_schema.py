"""The tag-history store's schema: its tables, its version and the steps that migrate to it.

``PRAGMA user_version`` holds the version a store was written with; ``MIGRATIONS[n]`` turns
a version-``n`` store into a version-``n + 1`` one.  A released entry is never edited: a
change appends a step.  :mod:`regframe.frame.history_store` applies the steps (one
transaction, holding the write lock) and refuses stores with a higher version.

Tables::

    series     (id, registry, repository, platform)             one per thing observed
    intervals  (series, tag, digest, first_seen, last_seen, current, source,
                media_type, platforms, created, created_source, size, resolves_to,
                attested, pushed, pushed_source)
    snapshots  (series, taken_at, tags, moved, complete)         one per recorded read
"""

from __future__ import annotations

from regframe.frame.columns import DATE_COLUMNS

__all__ = [
    "APPLICATION_ID",
    "FACT_COLUMNS",
    "INSERT_INTERVAL",
    "INTERVAL_COLUMNS",
    "MIGRATIONS",
    "NOT_STORED",
    "SCHEMA_VERSION",
    "TIME_COLUMNS",
]

#: ``PRAGMA application_id`` of a regframe store ("rfH1"): tells it from other SQLite files.
APPLICATION_ID = 0x72664831

# One entry per schema version: MIGRATIONS[n] upgrades a store from version n to n + 1.
# Never edit a released entry: append a step (SCHEMA_VERSION follows).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            platform TEXT NOT NULL,
            UNIQUE (registry, repository, platform))""",
        """CREATE TABLE intervals (
            id INTEGER PRIMARY KEY,
            series INTEGER NOT NULL REFERENCES series(id),
            tag TEXT NOT NULL,
            digest TEXT NOT NULL,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            current INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            media_type TEXT,
            platforms TEXT,
            created INTEGER,
            created_source TEXT,
            size INTEGER,
            resolves_to TEXT,
            UNIQUE (series, tag, source, first_seen, digest))""",
        "CREATE INDEX intervals_current ON intervals (series, current)",
        """CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            series INTEGER NOT NULL REFERENCES series(id),
            taken_at INTEGER NOT NULL,
            tags INTEGER NOT NULL,
            moved INTEGER NOT NULL,
            complete INTEGER NOT NULL)""",
        "CREATE INDEX snapshots_series ON snapshots (series, taken_at)",
    ),
    # 2: the frame's ``attested`` column (NULL for intervals recorded before it existed).
    ("ALTER TABLE intervals ADD COLUMN attested INTEGER",),
    # 3: build time and push time apart.  Docker Hub's and Quay's times were push times
    # filed under ``created``: they move to ``pushed``.  A ``gcr`` created stays (it was
    # GCR's build time, or Artifact Registry's upload time: the store cannot tell which).
    (
        "ALTER TABLE intervals ADD COLUMN pushed INTEGER",
        "ALTER TABLE intervals ADD COLUMN pushed_source TEXT",
        "UPDATE intervals SET pushed = created, pushed_source = created_source,"
        " created = NULL, created_source = NULL WHERE created_source IN ('hub', 'quay')",
    ),
)
#: The schema this regframe writes; a store with a higher ``user_version`` is left alone.
SCHEMA_VERSION = len(MIGRATIONS)

#: Columns of a ``dates=True`` row that are not facts of its digest: the interval's key
#: (``digest``) and what one read found wrong (``error``, ``date_note``, decided again on
#: every read, from the store too).
NOT_STORED = ("digest", "error", "date_note")
#: The facts of a ``dates=True`` row each interval keeps, as first recorded when it opened
#: (so ``pushed`` is the earliest push time seen for the tag at that digest): every date
#: column but :data:`NOT_STORED`, so a new column of the frame needs a migration step.
FACT_COLUMNS = tuple(c for c in DATE_COLUMNS if c not in NOT_STORED)
#: Which of :data:`FACT_COLUMNS` hold times (ns since the epoch, UTC).
TIME_COLUMNS = ("created", "pushed")
#: What :meth:`~regframe.frame.history_store.HistoryStore.intervals` returns, in order.
INTERVAL_COLUMNS = (
    "tag",
    "digest",
    "first_seen",
    "last_seen",
    "current",
    "source",
    *FACT_COLUMNS,
)

#: Upsert of one interval: a repeated key only moves ``last_seen`` on and sets ``current``.
INSERT_INTERVAL = (
    "INSERT INTO intervals (series, tag, digest, first_seen, last_seen, current, source, "  # noqa: S608
    + ", ".join(FACT_COLUMNS)
    + ") VALUES (?, ?, ?, ?, ?, ?, ?"
    + ", ?" * len(FACT_COLUMNS)
    + ") ON CONFLICT (series, tag, source, first_seen, digest) DO UPDATE SET"
    " last_seen = max(last_seen, excluded.last_seen), current = excluded.current"
)
