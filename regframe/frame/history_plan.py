"""How one recorded read changes a series' intervals: decided in memory, then written at once.

:meth:`regframe.frame.history_store.HistoryStore.record` reads every interval of the series,
lets a :class:`Plan` decide — observation by observation — which intervals open, extend,
close or start earlier, and has it write those changes inside the same transaction.  The
rules per observation:

* the registry says since when the tag points at its digest (Quay's ``start_ts``): that
  start is the interval's key, and every other open interval of the tag closes;
* a read at or after the tag's latest interval: the same digest extends it, another one
  closes it and opens a new interval (the tag *moved*);
* a read older than the latest interval (its commit waited for the lock behind a later
  read): it can only widen the intervals around it, or add a closed one between them;
* a read inside the latest interval's span adds nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from regframe.frame import history_schema as schema

if TYPE_CHECKING:
    from regframe.frame.history_store import Observation, RecordResult, Revision

__all__ = ["Plan", "StoredInterval", "import_revisions", "intervals_by_tag"]


class StoredInterval(NamedTuple):
    """The columns of a stored interval a :class:`Plan` decides on."""

    id: int
    tag: str
    digest: str
    first_seen: int
    last_seen: int
    current: int
    source: str


def intervals_by_tag(conn: sqlite3.Connection, sid: int) -> dict[str, list[StoredInterval]]:
    """Every interval of series ``sid``, oldest first per tag (the last is the tag's latest).

    Examples
    --------
    >>> conn = sqlite3.connect(":memory:")
    >>> for statement in schema.MIGRATIONS[0]:
    ...     _ = conn.execute(statement)
    >>> intervals_by_tag(conn, 1)
    {}
    """
    by_tag: dict[str, list[StoredInterval]] = {}
    for row in conn.execute(
        "SELECT id, tag, digest, first_seen, last_seen, current, source FROM intervals"
        " WHERE series = ? ORDER BY tag, first_seen, id",
        (sid,),
    ):
        by_tag.setdefault(row[1], []).append(StoredInterval._make(row))
    return by_tag


def import_revisions(conn: sqlite3.Connection, sid: int, revisions: Iterable[Revision]) -> None:
    """Store past intervals a registry reported; importing them again changes nothing.

    Examples
    --------
    >>> conn = sqlite3.connect(":memory:")
    >>> import_revisions(conn, 1, [])  # nothing to import: no query at all
    """
    for rev in revisions:
        conn.execute(
            "INSERT INTO intervals"
            " (series, tag, digest, first_seen, last_seen, current, source)"
            " VALUES (?, ?, ?, ?, ?, 0, ?)"
            # The registry's end time is the truth, even over a later read of ours.
            " ON CONFLICT (series, tag, source, first_seen, digest) DO UPDATE SET"
            " last_seen = excluded.last_seen, current = 0",
            (sid, rev.tag, rev.digest, rev.start, rev.end, rev.source),
        )


@dataclass
class Plan:
    """The writes one read of series ``sid`` at ``seen`` makes, and what it tells the caller.

    Examples
    --------
    >>> from regframe.frame.history_store import Observation, RecordResult
    >>> plan = Plan(sid=1, seen=10, result=RecordResult())
    >>> plan.observe(Observation("1.0", "sha256:" + "a" * 64), [])
    >>> plan.result.new, len(plan.inserts)
    (['1.0'], 1)
    """

    sid: int
    seen: int
    result: RecordResult
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    #: ``(last_seen, current, id)``
    extend: list[tuple[int, int, int]] = field(default_factory=list)
    close: list[int] = field(default_factory=list)
    #: ``(first_seen, id)``
    earlier_start: list[tuple[int, int]] = field(default_factory=list)

    def observe(self, obs: Observation, history: Sequence[StoredInterval]) -> None:
        """Decide what one observation changes, given its tag's stored intervals."""
        latest = history[-1] if history else None
        if obs.since is not None:
            self._registry_start(obs, history)
        elif latest is None:
            self.result.new.append(obs.tag)
            self._open(obs, self.seen, self.seen, current=1)
        elif self.seen >= latest.last_seen:
            self._later(obs, latest)
        elif self.seen < latest.first_seen:
            self._older(obs, history)
        # else: inside the latest interval's span already — nothing new to say.

    def close_gone(
        self, by_tag: Mapping[str, Sequence[StoredInterval]], present: Collection[str]
    ) -> None:
        """A complete read: close the open interval of every tag it no longer lists."""
        for tag, history in by_tag.items():
            latest = history[-1]
            if tag not in present and latest.current and latest.last_seen < self.seen:
                self.close.append(latest.id)
                self.result.gone.append(tag)

    def write(self, conn: sqlite3.Connection) -> None:
        """Make the decided changes (inside the caller's transaction)."""
        conn.executemany(
            "UPDATE intervals SET current = 0 WHERE id = ?", [(i,) for i in self.close]
        )
        conn.executemany(
            "UPDATE intervals SET last_seen = max(last_seen, ?), current = max(current, ?)"
            " WHERE id = ?",
            self.extend,
        )
        conn.executemany(
            "UPDATE intervals SET first_seen = min(first_seen, ?) WHERE id = ?",
            self.earlier_start,
        )
        conn.executemany(schema.INSERT_INTERVAL, self.inserts)

    def _open(self, obs: Observation, first: int, last: int, *, current: int) -> None:
        self.inserts.append(
            (self.sid, obs.tag, obs.digest, first, last, current, obs.source, *obs.facts)
        )

    def _registry_start(self, obs: Observation, history: Sequence[StoredInterval]) -> None:
        """The registry says when this revision started: that is the interval's key."""
        assert obs.since is not None
        latest = history[-1] if history else None
        if latest is None:
            self.result.new.append(obs.tag)
        elif latest.digest != obs.digest:
            self.result.moved.append(obs.tag)
        key = (obs.since, obs.digest)
        self.close.extend(r.id for r in history if r.current and (r.first_seen, r.digest) != key)
        self._open(obs, obs.since, max(self.seen, obs.since), current=1)

    def _later(self, obs: Observation, latest: StoredInterval) -> None:
        """A read at or after the tag's latest interval: extend it, or the tag moved."""
        if latest.digest == obs.digest and latest.current:
            self.extend.append((self.seen, 1, latest.id))
            return
        if latest.digest != obs.digest:
            self.result.moved.append(obs.tag)
        if latest.current:
            self.close.append(latest.id)
        self._open(obs, self.seen, self.seen, current=1)

    def _older(self, obs: Observation, history: Sequence[StoredInterval]) -> None:
        """A read older than one already recorded (its commit waited for the lock).

        It can only widen the intervals around it, or add a closed one between them.
        """
        seen = self.seen
        before = [r for r in history if r.first_seen <= seen]
        after = next(r for r in history if r.first_seen > seen)
        prev = before[-1] if before else None
        if prev is not None and prev.digest == obs.digest:
            self.extend.append((seen, 0, prev.id))
        elif after.digest == obs.digest and (prev is None or prev.last_seen < seen):
            self.earlier_start.append((seen, after.id))
        elif prev is None or prev.last_seen < seen:
            self._open(obs, seen, seen, current=0)
