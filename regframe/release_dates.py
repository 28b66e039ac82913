"""When each release came out: ``released`` with its bounds, for built-once and rebuilt lines.

Pure pandas and numpy, no I/O (the history store's facts come in as a frame,
:func:`regframe.frame.sightings.tag_sightings`).  :func:`date_releases` is called by
:func:`regframe.releases` with one row per tag and one per release.

A tag's *date* is its build time (``created``), else its push time (``pushed``).
A release's *earliest* date is the minimum over its tags, its *last* date the
maximum.

**Built-once lines** (each release built once, e.g. most vendor images):
``released`` is the earliest build (``dated_by="build"``), or the earliest push
when no tag has a build time (``"push"``); both bounds equal it.

**Rebuilt lines** (Docker's official images, Bitnami's): every live patch is
rebuilt under the same tag until the next patch replaces it, so its build time
is the *last* rebuild.  A superseded release's predecessor (the release before it
in version order in the same *series*, ``3.12.7`` → ``3.12.8``, ``16.3`` → ``16.4``,
``3.13.0rc3`` → ``3.13.0``) stopped being rebuilt when it came out, so it came out

* after the predecessor's last build (``released_earliest``), and
* no later than its own earliest build or push, nor later than the first
  *rebuild wave* after the predecessor's last build (``released_latest``): had the
  predecessor still been live then, that wave would have rebuilt it too.

A wave is a moment (builds within 12 hours) at which tags of at least two series
of the same variant were built.  The release came out before the predecessor's
*next* rebuild, so within one rebuild interval of its last build: ``released`` is
half an interval after ``released_earliest`` — the interval being the shortest gap
between two of the image's waves, 7–28 days (waves a superseded release did not
leave behind are invisible, so the gaps seen are whole multiples of it) — and never
past the middle of the bounds (``dated_by="predecessor"``).  A release without a
dated predecessor keeps its earliest build (``"build"``), with no lower bound; one
whose ``-r0`` tag is still there (Bitnami) is dated by that first build.

**Commit-time builds**: an image built with ``SOURCE_DATE_EPOCH`` (Docker's official
images since 2023) is stamped with the time of the commit that last changed its
Dockerfile, so a rebuild for a new base image keeps ``created``; it moves with the
release's own version bump and with template changes that regenerate every line at
once, when :data:`MIN_WAVE_SERIES` or more lines share one ``created`` to the second.
Then every line is rebuilt; a release whose earliest build no other line shares
(within :data:`WAVE_GAP`) is dated by it (``"build"``), and one rebuilt with other lines
at the middle of its bounds: such waves come months apart, at no interval.  A
predecessor that is not the patch just before the release (``3.9.15`` → ``3.9.17``)
gives no wave bound: the missing release may have been the live one.

**Which lines are rebuilt** (``rebuilt=None``): a line whose tags carry ``-rN``
rebuild stamps (Bitnami) is rebuilt; when the newest releases of at least three
lines were built within a day of each other (a wave), at most 60 days before the
image's newest build, every line of the image is taken as rebuilt while it was
live.  Calendar versions (``jammy-20240808``) are each a build of their own and
never rebuilt.
``rebuilt=True``/``False`` decides for every line.

**History**: the history store's first sighting of a tag between two reads, an
earlier build it recorded, or a registry's own tag history (Quay: when the tag
was first pushed) narrow the bounds of a rebuilt release, or date a release
known only by a push time or not at all (``"first-seen"``, ``"tag-history"``):
a registry's push time is the tag's *last* push.  A built-once release keeps
its build time.

Limits: a line whose newest release was built on the same day as the newest
releases of two other lines, each built once (Windows images, rebuilt on Patch
Tuesday for every OS version), looks rebuilt; an image rebuilding only two lines
(``golang``) looks built once.  Pass ``rebuilt=`` for those.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from regframe.release_frames import DAY, UTC_NS, utc

__all__ = [
    "DATED_BY",
    "MIN_WAVE_SERIES",
    "RECENT_WAVE",
    "WAVE_GAP",
    "WAVE_INTERVAL",
    "WAVE_INTERVAL_RANGE",
    "date_releases",
    "detect_rebuilt",
    "series_of",
]

#: Categories of ``dated_by``, in this order.
DATED_BY: tuple[str, ...] = ("first-seen", "tag-history", "build", "push", "predecessor")
#: Builds closer than this belong to one rebuild wave.
WAVE_GAP = pd.Timedelta(hours=12)
#: How many lines' newest releases the image's newest wave must hold for it to count as rebuilt.
MIN_WAVE_SERIES = 3
#: The rebuild interval assumed for an image that shows fewer than two waves.
WAVE_INTERVAL = pd.Timedelta(days=21)
#: The range the rebuild interval measured on an image is kept within.
WAVE_INTERVAL_RANGE = (pd.Timedelta(days=7), pd.Timedelta(days=28))
#: How far before the image's newest build the wave that rebuilt its lines may lie.
RECENT_WAVE = pd.Timedelta(days=60)
#: Tips of lines built this close to each other make one wave.
_TIP_GAP = DAY

_REBUILD_STAMP = re.compile(r"^r\d+$")
_NAT = np.datetime64("NaT", "ns")


@dataclass(frozen=True)
class _Release:
    """The facts of one release that dating needs (dates as int64 ns, NaT as None)."""

    key: int
    series: tuple[Any, ...]
    first: int | None
    last: int | None
    from_build: bool
    last_by_variant: dict[str, tuple[int, int]]  # variant -> (last date, its tag's row)
    first_build_known: bool
    patch: int | None = None  # the last number of a plain release (no letters), for gaps


def series_of(release: str, prefix: str) -> tuple[Any, ...]:
    """The line a release belongs to: its prefix and every number but the last.

    Examples
    --------
    >>> series_of("3.12.8", ""), series_of("16.4", ""), series_of("20240808", "jammy")
    (('', 3, 12), ('', 16), ('jammy',))
    """
    numbers = [int(n) for n in re.findall(r"\d+", release)]
    return (prefix, *numbers[:-1])


def _patch_number(release: str) -> int | None:
    """The last number of a plain numeric release (``3.12.8`` → 8); None for ``3.13.0rc2``."""
    if not re.fullmatch(r"\d+(\.\d+)*", release):
        return None
    return int(release.rsplit(".", 1)[-1])


def _clusters(dates: np.ndarray, gap: pd.Timedelta) -> np.ndarray:
    """Cluster number of each date (sorted ascending): a new cluster after a gap over ``gap``."""
    if len(dates) == 0:
        return np.zeros(0, dtype=np.int64)
    breaks = np.diff(dates) > gap.value
    return np.concatenate([[0], np.cumsum(breaks)]).astype(np.int64)


def detect_rebuilt(tips: pd.DataFrame) -> bool:
    """Whether a recent wave rebuilt the newest releases of several lines together.

    ``tips`` has one row per line: ``series`` and ``last`` (the newest release's
    last build or push).  True when, within :data:`RECENT_WAVE` of the newest
    ``last``, the ``last`` of at least :data:`MIN_WAVE_SERIES` lines lie within a
    day of each other (chained): a release that came out after the wave does not
    hide it.

    Examples
    --------
    >>> t = pd.to_datetime(["2024-11-20 06:00", "2024-11-20 09:00", "2024-11-19 22:00",
    ...                     "2024-11-28 00:00"], utc=True)
    >>> detect_rebuilt(pd.DataFrame({"series": ["a", "b", "c", "d"], "last": t}))
    True
    """
    dated = tips.dropna(subset=["last"]).sort_values("last")
    if len(dated) < MIN_WAVE_SERIES:
        return False
    stamps = utc(dated["last"]).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    recent = stamps >= stamps[-1] - RECENT_WAVE.value
    cluster = _clusters(stamps[recent], _TIP_GAP)
    series = dated["series"].to_numpy()[recent]
    return any(
        len(set(series[cluster == c].tolist())) >= MIN_WAVE_SERIES for c in np.unique(cluster)
    )


class _Waves:
    """Rebuild waves of one variant: for a tag, the start of the next wave after its build."""

    def __init__(self, dates: np.ndarray, series: np.ndarray) -> None:
        order = np.argsort(dates, kind="stable")
        self._rank = np.empty(len(dates), dtype=np.int64)
        self._rank[order] = np.arange(len(dates))
        cluster = _clusters(dates[order], WAVE_GAP)
        self._cluster = cluster
        n = int(cluster[-1]) + 1 if len(cluster) else 0
        starts = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(starts, cluster, dates[order])
        members: list[set[Any]] = [set() for _ in range(n)]
        for c, s in zip(cluster.tolist(), series[order].tolist(), strict=True):
            members[c].add(s)
        #: starts of the waves: clusters holding builds of two series or more
        self.starts = [int(starts[c]) for c in range(n) if len(members[c]) >= 2]
        # the start of the first wave strictly after each cluster (none: int64 max)
        following = np.iinfo(np.int64).max
        self._next = np.empty(n, dtype=np.int64)
        for c in range(n - 1, -1, -1):
            self._next[c] = following
            if len(members[c]) >= 2:
                following = int(starts[c])

    def next_after(self, row: int) -> int | None:
        """Start of the first wave after the cluster holding tag ``row`` (its position)."""
        found = int(self._next[self._cluster[self._rank[row]]])
        return None if found == np.iinfo(np.int64).max else found


def _tag_dates(tags: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each tag's date (build, else push) as int64 ns with NaT, and whether it is a build."""
    created = utc(tags["created"]) if "created" in tags else pd.Series(pd.NaT, index=tags.index)
    pushed = utc(tags["pushed"]) if "pushed" in tags else pd.Series(pd.NaT, index=tags.index)
    date = utc(created).fillna(utc(pushed))
    return date.to_numpy(dtype="datetime64[ns]"), created.notna().to_numpy()


def _releases_facts(tags: pd.DataFrame, rels: pd.DataFrame) -> dict[int, _Release]:
    """One :class:`_Release` per row of ``rels``, from the dates of its tags."""
    dates, is_build = _tag_dates(tags)
    stamps = tags["stamp"].astype("string").fillna("").to_numpy(dtype=object)
    variants = tags["variant"].astype("string").fillna("").to_numpy(dtype=object)
    by_key: dict[int, list[int]] = {}
    for row, key in enumerate(tags["key"].to_numpy().tolist()):
        by_key.setdefault(int(key), []).append(row)
    facts: dict[int, _Release] = {}
    for key, prefix, release in zip(
        rels.index.tolist(), rels["prefix"].tolist(), rels["release"].tolist(), strict=True
    ):
        rows = by_key.get(int(key), [])
        dated = [r for r in rows if not np.isnat(dates[r])]
        last_by_variant: dict[str, tuple[int, int]] = {}
        for r in dated:
            value = int(dates[r].astype(np.int64))
            if variants[r] not in last_by_variant or value > last_by_variant[variants[r]][0]:
                last_by_variant[variants[r]] = (value, r)
        values = [int(dates[r].astype(np.int64)) for r in dated]
        facts[int(key)] = _Release(
            key=int(key),
            series=series_of(str(release), str(prefix)),
            first=min(values) if values else None,
            last=max(values) if values else None,
            from_build=any(bool(is_build[r]) for r in rows),
            last_by_variant=last_by_variant,
            first_build_known=any(stamps[r] == "r0" for r in rows),
            patch=_patch_number(str(release)),
        )
    return facts


def _commit_time_builds(tags: pd.DataFrame, facts: dict[int, _Release]) -> bool:
    """Whether one build time, to the second, is shared by releases of several lines.

    A ``SOURCE_DATE_EPOCH`` build stamps the image with the time of the commit that
    last changed its Dockerfile, so a template change rebuilding every line's image
    gives them all one ``created`` (Docker's official images since 2023).
    """
    if "created" not in tags or tags.empty:
        return False
    created = utc(tags["created"])
    known = created.notna().to_numpy()
    if not known.any():
        return False
    series = pd.Series([str(facts[int(k)].series) for k in tags["key"].tolist()])
    lines = series[known].groupby(created[known].to_numpy()).nunique()
    return bool((lines >= MIN_WAVE_SERIES).any())


def _rebuilt_series(
    facts: dict[int, _Release], rels: pd.DataFrame, tags: pd.DataFrame, rebuilt: bool | None,
    commit_time: bool = False,
) -> set[tuple[Any, ...]]:  # fmt: skip
    """The series treated as rebuilt (see the module docstring)."""
    series = [facts[int(k)].series for k in rels.index.tolist()]
    if rebuilt is not None:
        return set(series) if rebuilt else set()
    calver = rels["scheme"].astype("string").eq("calver").fillna(False).to_numpy()
    candidates = {s for s, c in zip(series, calver.tolist(), strict=True) if not c}
    stamped_keys = set(
        tags.loc[tags["stamp"].astype("string").str.fullmatch(_REBUILD_STAMP.pattern)
                 .fillna(False).to_numpy(), "key"].astype(int).tolist()
    )  # fmt: skip
    chosen = {facts[k].series for k in stamped_keys} & candidates
    tips: dict[tuple[Any, ...], int | None] = {}
    for key in rels.index.tolist():  # version order: the last one seen is the series' newest
        fact = facts[int(key)]
        if fact.series in candidates:
            tips[fact.series] = fact.last
    lasts = np.array([_NAT if v is None else v for v in tips.values()], dtype="datetime64[ns]")
    tip_frame = pd.DataFrame(
        {"series": pd.Series(list(tips), dtype=object), "last": utc(pd.Series(lasts))}
    )
    if commit_time or detect_rebuilt(tip_frame):
        chosen |= candidates
    return chosen


class _WaveIndex:
    """The rebuild waves of every variant of an image, looked up by tag row."""

    def __init__(self, tags: pd.DataFrame, facts: dict[int, _Release]) -> None:
        dates, _ = _tag_dates(tags)
        variants = tags["variant"].astype("string").fillna("").to_numpy(dtype=object)
        keys = tags["key"].astype(int).to_numpy()
        self._where: dict[int, tuple[str, int]] = {}
        self._waves: dict[str, _Waves] = {}
        for variant in dict.fromkeys(variants.tolist()):
            rows = [r for r in np.flatnonzero(variants == variant).tolist()
                    if not np.isnat(dates[r])]  # fmt: skip
            for position, row in enumerate(rows):
                self._where[row] = (variant, position)
            series = np.empty(len(rows), dtype=object)
            series[:] = [facts[int(keys[r])].series for r in rows]
            self._waves[variant] = _Waves(dates[rows].astype(np.int64), series)
        dated = sorted((r for r in range(len(keys)) if not np.isnat(dates[r])),
                       key=lambda r: int(dates[r].astype(np.int64)))  # fmt: skip
        self._dates = dates[dated].astype(np.int64)
        self._series = np.empty(len(dated), dtype=object)
        self._series[:] = [facts[int(keys[r])].series for r in dated]

    def lone_builds(self, facts: dict[int, _Release]) -> set[int]:
        """Keys of the releases whose earliest date has no other line's build within WAVE_GAP."""
        lone = set()
        for key, fact in facts.items():
            if fact.first is None:
                continue
            low = np.searchsorted(self._dates, fact.first - WAVE_GAP.value, side="left")
            high = np.searchsorted(self._dates, fact.first + WAVE_GAP.value, side="right")
            if all(s == fact.series for s in self._series[low:high].tolist()):
                lone.add(key)
        return lone

    def next_wave(self, row: int) -> int | None:
        """Start of the first wave (of the tag's variant) after the wave that built tag ``row``."""
        variant, position = self._where[row]
        return self._waves[variant].next_after(position)

    def interval(self) -> int:
        """The image's rebuild interval in ns: the shortest gap between two of its waves.

        Waves a release superseded in between did not leave are invisible, so the
        gaps seen are whole multiples of the real interval: the shortest is the best
        guess, kept within :data:`WAVE_INTERVAL_RANGE` (:data:`WAVE_INTERVAL` when the
        image shows fewer than two waves).
        """
        starts = sorted({s for waves in self._waves.values() for s in waves.starts})
        gaps = [b - a for a, b in itertools.pairwise(starts) if b - a > DAY.value]
        if not gaps:
            return int(WAVE_INTERVAL.value)
        low, high = WAVE_INTERVAL_RANGE
        return int(min(max(min(gaps), low.value), high.value))


def _bounds(
    release: _Release, previous: _Release | None, waves: _WaveIndex
) -> tuple[int | None, int | None]:
    """``(earliest, latest)`` of a release of a rebuilt line; ``(None, first)`` without a bound."""
    if previous is None or previous.last is None:
        return None, release.first
    lower = previous.last
    candidates = [] if release.first is None else [release.first]
    skipped = None not in (previous.patch, release.patch) and release.patch != (
        previous.patch or 0) + 1
    # a release missing in between (``3.9.15`` → ``3.9.17``) may have been the live one
    # at the next wave: that wave bounds nothing
    for _, row in [] if skipped else previous.last_by_variant.values():
        wave = waves.next_wave(row)
        # a wave before the predecessor's own last build did not see it live: no evidence
        if wave is not None and wave > lower:
            candidates.append(wave)
    if not candidates:
        return lower, None
    upper = min(candidates)
    if upper < lower - DAY.value:
        return None, release.first  # built before its predecessor's last rebuild: no order
    return min(lower, upper), upper


def _estimate(
    facts: dict[int, _Release], rels: pd.DataFrame, rebuilt_series: set[tuple[Any, ...]],
    waves: _WaveIndex, commit_time: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """``released``, bounds, ``dated_by`` and ``rebuilt`` per release, before any history."""
    records: list[tuple[Any, ...]] = []
    previous_in: dict[tuple[Any, ...], _Release] = {}
    interval = waves.interval()
    lone = waves.lone_builds(facts) if commit_time else set()
    for key in rels.index.tolist():  # version order
        fact = facts[int(key)]
        previous = previous_in.get(fact.series)
        previous_in[fact.series] = fact
        source = None if fact.first is None else "build" if fact.from_build else "push"
        if fact.series not in rebuilt_series or fact.first_build_known:
            # built once, or its first build is still there (a Bitnami ``-r0`` tag)
            records.append((key, fact.first, fact.first, fact.first, source,
                            fact.series in rebuilt_series))  # fmt: skip
            continue
        earliest, latest = _bounds(fact, previous, waves)
        if earliest is None or latest is None:
            records.append((key, latest, None, latest, source if latest is not None else None,
                            True))  # fmt: skip
            continue
        if fact.key in lone:  # its own first build: no other line was built with it
            records.append((key, latest, earliest, latest,
                            source if latest == fact.first else "predecessor", True))  # fmt: skip
            continue
        # it came out before the predecessor's next rebuild: within one interval of
        # ``earliest``; the estimate is half an interval on, never past the middle.
        # Commit-time builds are not rebuilt at an interval: the middle of the bounds
        span = latest - earliest if commit_time else min(latest - earliest, interval)
        records.append((key, earliest + span // 2, earliest, latest, "predecessor", True))
    return _frame(records, rels.index)


def _frame(records: list[tuple[Any, ...]], index: pd.Index) -> pd.DataFrame:
    """The dating columns from ``(key, released, earliest, latest, dated_by, rebuilt)`` rows."""
    def stamps(i: int) -> pd.Series:
        values = np.array([_NAT if r[i] is None else r[i] for r in records], dtype="datetime64[ns]")
        return pd.Series(values, index=index).dt.tz_localize("UTC").astype(UTC_NS)

    return pd.DataFrame(
        {
            "released": stamps(1),
            "released_earliest": stamps(2),
            "released_latest": stamps(3),
            "dated_by": pd.Categorical([r[4] for r in records], categories=list(DATED_BY)),
            "rebuilt": pd.array([r[5] for r in records], dtype="boolean"),
        },
        index=index,
    )


def _history_by_release(tags: pd.DataFrame, sightings: pd.DataFrame) -> pd.DataFrame:
    """Per release key: what the history store knows of its tags, combined.

    ``appeared_after`` (the last complete read before a tag was first seen; NaT when
    any tag has no such read), ``appeared_by`` (the first sighting), ``built_by``
    (the earliest build the store recorded) and ``first_push`` (a registry's tag
    history).
    """
    seen = sightings.set_index("tag")
    joined = tags[["key", "tag"]].join(seen, on="tag", how="inner")
    if joined.empty:
        return pd.DataFrame(columns=["appeared_after", "appeared_by", "built_by", "first_push"])
    grouped = joined.groupby("key")
    # one tag of unknown start leaves the release's start unknown too
    unknown = joined["seen_after"].isna().groupby(joined["key"]).any()
    after = grouped["seen_after"].min().mask(unknown)
    return pd.DataFrame(
        {
            "appeared_after": after,
            "appeared_by": grouped["seen_by"].min(),
            "built_by": grouped["built_by"].min(),
            "first_push": grouped["pushed_first"].min(),
        }
    )


def _narrow(row: pd.Series, known: pd.Series) -> tuple[Any, ...] | None:
    """New ``(released, earliest, latest, dated_by)`` from the history, or None if no news."""
    latest, earliest = row["released_latest"], row["released_earliest"]
    push = known.get("first_push", pd.NaT)
    if pd.notna(push) and (pd.isna(latest) or push <= latest + DAY):
        return push, push, push, "tag-history"
    candidates = [v for v in (latest, known.get("appeared_by"), known.get("built_by"))
                  if pd.notna(v)]  # fmt: skip
    if not candidates:
        return None
    new_latest = min(candidates)
    after = known.get("appeared_after", pd.NaT)
    new_earliest = earliest
    if pd.notna(after) and (pd.isna(earliest) or after > earliest) and after < new_latest:
        new_earliest = after
    if new_latest == latest and (new_earliest is earliest or new_earliest == earliest):
        return None
    if pd.isna(new_earliest):
        return new_latest, pd.NaT, new_latest, "first-seen"
    return new_earliest + (new_latest - new_earliest) / 2, new_earliest, new_latest, "first-seen"


def _apply_history(dated: pd.DataFrame, tags: pd.DataFrame, sightings: pd.DataFrame) -> None:
    """Let the history narrow rebuilt releases and those dated by a push or not at all, in place.

    A push time is the *last* push (Docker Hub's ``tag_last_pushed``, Quay's current
    revision): a first sighting or the first revision is better evidence.
    """
    known = _history_by_release(tags, sightings)
    for key in known.index:
        row = dated.loc[key]
        if not bool(row["rebuilt"]) and row["dated_by"] == "build":
            continue  # a built-once release keeps its build time
        news = _narrow(row, known.loc[key])
        if news is not None:
            released, earliest, latest, by = news
            dated.loc[key, ["released", "released_earliest", "released_latest"]] = [
                released, earliest, latest,
            ]  # fmt: skip
            dated.loc[key, "dated_by"] = by


def date_releases(
    tags: pd.DataFrame,
    rels: pd.DataFrame,
    *,
    rebuilt: bool | None = None,
    sightings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Date every release: ``released``, ``released_earliest``, ``released_latest``, ``dated_by``.

    Parameters
    ----------
    tags
        One row per (non-floating) tag of the releases: ``key`` (the release's
        index in ``rels``), ``tag``, ``variant``, ``stamp`` (the ``build``
        column), ``created`` and, if known, ``pushed``.
    rels
        One row per release, in version order (prereleases included: they are
        predecessors too): ``prefix`` (``""`` for none), ``release``, ``scheme``.
    rebuilt
        ``None`` detects rebuilt lines, ``True``/``False`` decides for all.
    sightings
        The history store's facts per tag
        (:func:`regframe.frame.sightings.tag_sightings`), or None.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``rels``: ``released``, ``released_earliest``,
        ``released_latest`` (UTC), ``dated_by`` (category :data:`DATED_BY`) and
        ``rebuilt`` (boolean: the release's line was treated as rebuilt).

    Examples
    --------
    >>> rels = pd.DataFrame({"prefix": [""], "release": ["1.0.0"], "scheme": ["semver"]})
    >>> tags = pd.DataFrame({"key": [0], "tag": ["1.0.0"], "variant": [None], "stamp": [None],
    ...                      "created": pd.to_datetime(["2024-05-01"], utc=True)})
    >>> date_releases(tags, rels)[["released", "dated_by"]].iloc[0].tolist()
    [Timestamp('2024-05-01 00:00:00+0000', tz='UTC'), 'build']
    """
    tags = tags.reset_index(drop=True)
    facts = _releases_facts(tags, rels)
    commit_time = _commit_time_builds(tags, facts)
    chosen = _rebuilt_series(facts, rels, tags, rebuilt, commit_time)
    dated = _estimate(facts, rels, chosen, _WaveIndex(tags, facts), commit_time)
    if sightings is not None and not sightings.empty:
        _apply_history(dated, tags, sightings)
    return dated
