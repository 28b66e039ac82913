"""Frames ↔ history store: record a ``dates=True`` frame, answer ``max_age``, build ``rf.history``.

The store (:mod:`regframe.frame.history_store`) speaks tags, digests and integer
nanoseconds; this module turns a :func:`regframe.read_tags` frame into
observations, a fresh-enough snapshot back into that frame, and a series of
intervals into the :func:`history` frame.  A store that cannot be used never
costs the caller the frame: recording and ``max_age`` warn
(:class:`~regframe.errors.HistoryWarning`) and carry on without history.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd

from regframe.client.tag_metadata import TagMetadata
from regframe.errors import HistoryStoreError, HistoryWarning, InvalidArgumentError
from regframe.frame.columns import assemble_metadata
from regframe.frame.history_schema import FACT_COLUMNS, INTERVAL_COLUMNS, TIME_COLUMNS
from regframe.frame.history_store import (
    HistoryStore,
    Observation,
    RecordResult,
    Revision,
    resolve_store_path,
)
from regframe.frame.plausible import flag_implausible_dates
from regframe.parsing.reference import parse_reference

__all__ = [
    "HISTORY_COLUMNS",
    "SOURCES",
    "check_history_options",
    "frame_from_store",
    "history",
    "parse_max_age",
    "platform_key",
    "record_frame",
]

#: Columns of :func:`history`, in order.
HISTORY_COLUMNS = [
    "tag",
    "digest",
    "first_seen",
    "last_seen",
    "current",
    "created",
    "pushed",
    "source",
    "resolves_to",
]
#: Where an interval comes from: regframe's own reads, or a registry's push history.
SOURCES = ["observed", "quay"]

HistoryOption = bool | str | os.PathLike[str] | None


def platform_key(platform: str | None) -> str:
    """The store's name for a ``platform=`` argument (``None`` → ``"*"``, the first image).

    Examples
    --------
    >>> platform_key("Linux/ARM64"), platform_key(None)
    ('linux/arm64', '*')
    """
    if platform is None:
        return "*"
    from regframe.client.platforms import parse_platform

    parsed = parse_platform(platform)
    return "*" if parsed is None else str(parsed)


def parse_max_age(value: object) -> int | None:
    """``max_age`` as nanoseconds: seconds (int/float), a ``timedelta`` or text like ``"15min"``.

    Raises
    ------
    InvalidArgumentError
        Negative, not a number, or text pandas cannot read as a duration.

    Examples
    --------
    >>> parse_max_age("15min") == 15 * 60 * 10**9
    True
    >>> parse_max_age(None) is None
    True
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidArgumentError("max_age must be seconds, a timedelta or text like '15min'")
    try:
        if isinstance(value, int | float):
            delta = pd.Timedelta(seconds=value)
        elif isinstance(value, str | dt.timedelta | pd.Timedelta):
            delta = pd.Timedelta(value)
        else:
            raise TypeError(type(value).__name__)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(
            f"max_age {value!r} is not a duration (use seconds, a timedelta or text like '15min')"
        ) from exc
    if pd.isna(delta) or delta.value < 0:
        raise InvalidArgumentError(f"max_age must not be negative, got {value!r}")
    return int(delta.value)


def check_history_options(max_age: object, history: object) -> int | None:
    """Validate ``max_age`` and ``history`` together; ``max_age`` in ns (before any traffic).

    Raises
    ------
    InvalidArgumentError
        ``max_age`` is not a non-negative duration, ``history`` is neither a
        bool nor a path, or ``max_age`` comes with ``history=False`` (it
        answers from the store).
    """
    age = parse_max_age(max_age)
    try:
        path = resolve_store_path(history)  # type: ignore[arg-type]
    except TypeError as exc:
        raise InvalidArgumentError(str(exc)) from None
    if age is not None and path is None:
        raise InvalidArgumentError(
            "max_age answers from the history store; it needs history=True or a path"
        )
    return age


def _parse_since(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        raise InvalidArgumentError(f"since must be a date, got {value!r}")
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidArgumentError(f"since {value!r} is not a date") from exc
    if pd.isna(stamp):
        raise InvalidArgumentError(f"since {value!r} is not a date")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _open(history: HistoryOption, *, readonly: bool = False) -> HistoryStore | None:
    path = resolve_store_path(history)
    if path is None:
        return None
    return HistoryStore.open(path, readonly=readonly)


def _ns(value: Any) -> int | None:
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    return int(pd.Timestamp(value).value)


def _plain(value: Any) -> Any:
    """A frame cell as something sqlite3 stores (NA → None, numpy ints → int)."""
    if value is None or value is pd.NaT:
        return None
    if not isinstance(value, str) and pd.isna(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def record_frame(
    df: pd.DataFrame,
    *,
    registry: str,
    repository: str,
    platform: str | None,
    history: HistoryOption,
    seen: pd.Timestamp,
    complete: bool = True,
    since: dict[str, int] | None = None,
    revisions: Sequence[Revision] = (),
    source: str = "observed",
) -> RecordResult | None:
    """Record a ``dates=True`` frame in the store; warn and return ``None`` if it cannot be used.

    Parameters
    ----------
    df
        The frame :func:`regframe.read_tags` is about to return.
    registry, repository, platform
        What was read (``platform`` as passed to ``read_tags``).
    history
        The ``history=`` option (``True``, a path, ``False``).
    seen
        When the registry answered.
    complete
        ``df`` holds every tag the registry listed; tags missing from it are
        then recorded as gone.  Rows with an ``error`` make a read incomplete.
    since, revisions, source
        For registries that keep history (Quay): each current tag's start
        time in ns, the past revisions, and the source name they carry.
    """
    if resolve_store_path(history) is None:
        return None
    since = since or {}
    observations = []
    has_digest = df["digest"].notna()
    # Frames from other code paths may lack a newer fact column: it is stored as NULL.
    facts_frame = df.loc[has_digest].reindex(columns=["tag", "digest", *FACT_COLUMNS])
    for row in facts_frame.itertuples(index=False):
        values = [_plain(v) for v in row]
        tag, digest, facts = values[0], values[1], values[2:]
        for name in TIME_COLUMNS:
            facts[FACT_COLUMNS.index(name)] = _ns(row[2 + FACT_COLUMNS.index(name)])
        start = since.get(tag)
        observations.append(
            Observation(
                str(tag),
                str(digest),
                tuple(facts),
                since=start,
                source=source if start is not None else "observed",
            )
        )
    complete = complete and bool(has_digest.all()) and not bool(df["error"].notna().any())
    try:
        store = _open(history)
        assert store is not None
        with store:
            result = store.record(
                registry,
                repository,
                platform_key(platform),
                observations,
                seen=int(seen.value),
                complete=complete,
                revisions=revisions,
            )
    except HistoryStoreError as exc:
        warnings.warn(f"tag history not recorded: {exc}", HistoryWarning, stacklevel=3)
        return None
    prev = result.previous_snapshot
    df.attrs["history"] = {
        "store": str(store.path),
        "platform": platform,
        "new": result.new,
        "moved": result.moved,
        "gone": result.gone,
        "previous_snapshot": None if prev is None else pd.Timestamp(prev, tz="UTC"),
    }
    return result


def frame_from_store(
    *,
    registry: str,
    repository: str,
    platform: str | None,
    history: HistoryOption,
    max_age: int,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame | None:
    """The ``dates=True`` frame as last recorded, if every tag was seen less than ``max_age`` ago.

    Returns ``None`` (read the registry as usual) when there is no store, no
    complete snapshot of this repository and platform, or it is too old; a
    store that cannot be opened warns and returns ``None`` too.
    """
    if resolve_store_path(history) is None:
        return None
    key = platform_key(platform)
    try:
        store = _open(history, readonly=True)
        assert store is not None
        with store:
            taken = store.last_complete_snapshot(registry, repository, key)
            now = now if now is not None else pd.Timestamp.now(tz="UTC")
            if taken is None or int(now.value) - taken >= max_age:
                return None
            rows = store.intervals(registry, repository, key, current_only=True)
    except HistoryStoreError as exc:
        if "no history store" not in str(exc):
            warnings.warn(f"tag history not read: {exc}", HistoryWarning, stacklevel=3)
        return None
    from regframe.parsing.versions import parse_tags, sort_tags

    latest: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        latest[row[0]] = row  # rows come by tag then first_seen: the last is the newest
    df = parse_tags(pd.Series(list(latest), dtype="string"))
    df = sort_tags(df).reset_index(drop=True)
    out = assemble_metadata(df, [_stored_metadata(latest[str(t)]) for t in df["tag"]])
    # The facts were stored as read_tags computed them: resolves_to is not re-derived.
    resolved = [latest[str(t)][INTERVAL_COLUMNS.index("resolves_to")] for t in df["tag"]]
    out["resolves_to"] = pd.Series(resolved, index=out.index, dtype="string")
    snapshot = pd.Timestamp(taken, tz="UTC")
    # The store keeps dates as read: the same checks as a fresh read, as of that read.
    flag_implausible_dates(out, read_at=snapshot)
    out.attrs["history_snapshot"] = snapshot
    return out


def _stored_metadata(row: tuple[Any, ...]) -> TagMetadata:
    """One interval row of :data:`INTERVAL_COLUMNS` as the record a read would have made."""
    cell = dict(zip(INTERVAL_COLUMNS, row, strict=True))
    attested = cell.get("attested")
    return TagMetadata(
        digest=cell["digest"],
        media_type=cell.get("media_type"),
        platforms=cell.get("platforms"),
        created_ns=cell.get("created"),
        created_source=cell.get("created_source"),
        pushed_ns=cell.get("pushed"),
        pushed_source=cell.get("pushed_source"),
        size=cell.get("size"),
        attested=None if attested is None else bool(attested),
    )


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tag": pd.Series(dtype="string"),
            "digest": pd.Series(dtype="string"),
            "first_seen": pd.Series(dtype="datetime64[ns, UTC]"),
            "last_seen": pd.Series(dtype="datetime64[ns, UTC]"),
            "current": pd.Series(dtype="boolean"),
            "created": pd.Series(dtype="datetime64[ns, UTC]"),
            "pushed": pd.Series(dtype="datetime64[ns, UTC]"),
            "source": pd.Categorical([], categories=SOURCES),
            "resolves_to": pd.Series(dtype="string"),
        }
    )


def history(
    image: str,
    /,
    *,
    tags: str | Collection[str] | None = None,
    since: str | dt.datetime | pd.Timestamp | None = None,
    store: str | os.PathLike[str] | None = None,
    platform: str | None = "linux/amd64",
) -> pd.DataFrame:
    """When each tag of an image pointed at which digest, from the history store.

    Every ``read_tags(..., dates=True)`` records what it saw; Quay
    repositories also bring the registry's own push history.  Each row is one
    interval during which ``tag`` pointed at ``digest``.

    Parameters
    ----------
    image
        The image reference, as given to :func:`regframe.read_tags` (a tag or
        digest in it is ignored).
    tags
        Only these tags (a tag or a collection of tags).
    since
        Only intervals still running at or after this date (``"2024-06-01"``,
        a ``datetime`` or ``Timestamp``; naive means UTC).
    store
        The store file; by default ``$REGFRAME_HISTORY``, else the user data
        directory's ``regframe/history.sqlite``.
    platform
        Which platform's records, as given to ``read_tags``.

    Returns
    -------
    pandas.DataFrame
        ``tag, digest, first_seen, last_seen, current, created, pushed, source,
        resolves_to``, ordered by tag then ``first_seen``.  ``created`` is the build
        time and ``pushed`` the registry's push time (where its API says it) recorded
        when the interval opened, as in :func:`regframe.read_tags`.  ``source`` is
        ``"observed"`` — ``first_seen`` is when *regframe* first saw the tag
        there (the move happened at or before it, after the previous
        ``last_seen``) — or ``"quay"``, Quay's push history
        (``first_seen``/``last_seen`` are the push and the move away).
        ``current`` marks where each tag pointed at the last recorded read.
        ``resolves_to`` names the most specific version tag that ever pointed
        at the same digest.  An image never recorded gives an empty frame
        with every column.

    Raises
    ------
    InvalidReferenceError
        ``image`` is malformed.
    InvalidArgumentError
        ``since`` is not a date.
    HistoryStoreError
        The store exists but is corrupt or from a newer regframe.

    See Also
    --------
    regframe.plot.moves : one row per tag, one bar per interval.

    Examples
    --------
    >>> import regframe as rf
    >>> rf.history("localhost:5000/app", tags="latest")  # doctest: +SKIP
    """
    ref = parse_reference(image)
    start = _parse_since(since)
    if isinstance(tags, str):
        tags = [tags]
    wanted = None if tags is None else {str(t) for t in tags}
    key = platform_key(platform)
    path = resolve_store_path(True if store is None else store)
    rows: list[tuple[Any, ...]] = []
    if path is not None and path.exists():
        with HistoryStore.open(path, readonly=True) as opened:
            rows = opened.intervals(ref.domain, ref.repository, key)
    if not rows:
        empty = _empty_history()
        empty.attrs.update(_attrs(ref.domain, ref.repository, key))
        return empty
    frame = pd.DataFrame.from_records(rows, columns=list(INTERVAL_COLUMNS))
    out = pd.DataFrame(
        {
            "tag": frame["tag"].astype("string"),
            "digest": frame["digest"].astype("string"),
            "first_seen": pd.to_datetime(frame["first_seen"], unit="ns", utc=True),
            "last_seen": pd.to_datetime(frame["last_seen"], unit="ns", utc=True),
            "current": frame["current"].astype(bool).astype("boolean"),
            "created": _times(frame["created"]),
            "pushed": _times(frame["pushed"]),
            "source": pd.Categorical(frame["source"], categories=SOURCES),
        }
    )
    out["resolves_to"] = _resolve_digests(out)
    if wanted is not None:
        out = out[out["tag"].isin(wanted)]
    if start is not None:
        out = out[out["last_seen"] >= start]
    out = out.sort_values(["tag", "first_seen"], kind="stable").reset_index(drop=True)
    out.attrs.update(_attrs(ref.domain, ref.repository, key))
    return out


def _times(ns: pd.Series) -> pd.Series:
    """Stored nanoseconds (NULL where unknown) as UTC timestamps."""
    return pd.to_datetime(ns.astype("Int64"), unit="ns", utc=True)


def _attrs(registry: str, repository: str, platform: str) -> dict[str, str]:
    return {"registry": registry, "repository": repository, "platform": platform}


def _resolve_digests(hist: pd.DataFrame) -> pd.Series:
    """Per interval, the most specific version tag that ever pointed at its digest."""
    from regframe.frame.columns import resolve_aliases
    from regframe.parsing.versions import parse_tags

    pairs = hist[["tag", "digest"]].drop_duplicates().reset_index(drop=True)
    parsed = parse_tags(pairs["tag"])
    parsed["digest"] = pairs["digest"].to_numpy()
    winner = dict(zip(pairs["digest"], resolve_aliases(parsed), strict=True))
    resolved: dict[str, Any] = {}
    for digest, name in winner.items():
        if isinstance(name, str):
            resolved[digest] = name
    return hist["digest"].map(resolved).astype("string")
