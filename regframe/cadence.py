"""Release cadence: from a tags frame to releases, lines, periods and intervals.

Pure pandas, no I/O (but for the history-store look-up :func:`releases` makes for
frames :func:`regframe.read_tags` recorded).  The input is the frame
:func:`regframe.read_tags` (or :func:`regframe.parse_tags`) returns; the central
step is :func:`releases`, which turns *tags* into *releases*:

* only tags whose ``scheme`` is ``semver``, ``multipart`` or ``calver`` count;
* finals only unless ``prereleases=True``;
* one row per ``(release, prerelease)``: ``8.15.0``, ``8.15.0-arm64`` and
  ``8.15.0-ubi`` are one release whose ``variants`` are ``arm64,ubi``;
* **floating** tags are aliases, not releases.  A release is floating when its
  numbers are a *proper leading part* of another release's numbers in the same
  frame, compared number by number: ``8`` and ``8.15`` are floating when
  ``8.15.0`` exists, ``3.12`` when ``3.12.1`` exists, ``10.0.17763`` when
  ``10.0.17763.6189`` exists; ``8.1`` is *not* floating because of ``8.15.0``.
  All versioned tags (prereleases too) are candidates for "the longer release",
  so ``3.14-rc`` is floating once ``3.14.0rc2`` exists.  A version with fewer
  than three numbers and nothing longer under it (``1.23`` of a project that
  only ever used two numbers) stays a release.

**Two kinds of time.**  ``created`` is the build time of the image a tag points
to; ``pushed`` the registry's own push time.  Official images are *rebuilt* for
base-image updates under the same tag until the next patch replaces them, so a
release's ``created`` is its *last* rebuild, weeks after it came out.  Every
table and chart here therefore dates a release by ``released``, the best
estimate of when it first appeared, with ``released_earliest`` and
``released_latest`` around it; :mod:`regframe.release_dates` says how each is
found and where the rule is wrong.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import pandas as pd

from regframe import release_table as _table
from regframe._docstrings import fill_docs
from regframe.errors import MissingDatesError, NoReleasesError
from regframe.parsing.versions import RELEASE_SCHEMES
from regframe.release_dates import DATED_BY
from regframe.release_frames import (
    DAY,
    UTC_NS,
    check_releases_frame,
    images,
    is_releases_frame,
    per_image,
    release_dates,
    utc,
    version_order,
)

__all__ = [
    "DATED_BY",
    "PLOT_KINDS",
    "RELEASE_SCHEMES",
    "MissingDatesError",
    "NoReleasesError",
    "as_releases",
    "dated_releases",
    "intervals",
    "is_releases_frame",
    "lines",
    "per_period",
    "release_dates",
    "releases",
    "summary",
    "utc",
]


#: The charts of :mod:`regframe.plot`, one function each.  Named here, not there, so the
#: command line and the explorer can offer them without importing matplotlib.
PLOT_KINDS: tuple[str, ...] = ("timeline", "cadence", "intervals", "lines")

_DAY_SECONDS = DAY.total_seconds()


def _na_to_none(value: object) -> object:
    return None if value is pd.NA or value is None or value is pd.NaT else value


# --------------------------------------------------------------------------- releases


def releases(
    df: pd.DataFrame,
    *,
    prereleases: bool = False,
    rebuilt: bool | None = None,
    history: _table.HistoryOption = None,
) -> pd.DataFrame:
    """One row per release (a version, not a tag), in version order, with when it came out.

    Parameters
    ----------
    df
        A tags frame from :func:`regframe.read_tags` or :func:`regframe.parse_tags`.
        ``created`` and ``pushed`` (from ``dates=True``) are optional; without
        them every release is dated ``NaT``.
    prereleases
        Keep prereleases (``rc2``, ``beta.3``, build ids) as releases of their
        own.  By default only finals are kept (prereleases still serve as the
        predecessors of the finals they precede).
    rebuilt
        Whether the image's lines are rebuilt under the same tags: ``None``
        (default) decides per line from the frame, ``True`` or ``False`` for
        every line (see :mod:`regframe.release_dates`).
    history
        The history store that may narrow the dates of rebuilt lines: ``None``
        (default) the store :func:`regframe.read_tags` recorded this frame in,
        if any; ``False`` none; ``True`` the default store; or a path.

    Returns
    -------
    pandas.DataFrame
        Columns ``release`` (string), ``prefix`` (string), ``major``/``minor``/
        ``patch`` (Int64), ``prerelease`` (string), ``is_prerelease`` (boolean),
        ``line`` (``"8.15"``, string), ``scheme`` (category), ``released``
        (``datetime64[ns, UTC]``: the best estimate of when the release first
        appeared), ``released_earliest`` and ``released_latest`` (bounds that
        contain it; NaT where unknown), ``dated_by`` (category: ``first-seen``,
        ``tag-history``, ``build``, ``push`` or ``predecessor``), ``rebuilt``
        (boolean: its line was treated as rebuilt), ``created`` (earliest build
        among the release's tags), ``pushed`` (earliest push), ``n_tags``
        (Int64), ``tags`` (string: the tags carrying the release,
        comma-joined, the plain one first — tags cannot contain commas, so the
        list survives a CSV round trip as one cell) and ``variants`` (string:
        the distinct variants, comma-joined, NA when there are none).
        ``attrs`` are copied from ``df``.  Floating aliases (see the module
        docstring) are dropped.  A several-images frame (``image`` column)
        gives the releases of each image in turn, with ``image`` kept as the
        first column.  A release of a line built once has ``released ==
        created``.

    Raises
    ------
    InvalidArgumentError
        ``rebuilt`` or ``history`` is not one of the values above.

    Examples
    --------
    >>> import regframe as rf
    >>> tags = rf.parse_tags(["8", "8.15", "8.15.0", "8.15.0-ubi", "8.15.1", "latest"])
    >>> rf.releases(tags)[["release", "tags"]]
      release               tags
    0  8.15.0  8.15.0,8.15.0-ubi
    1  8.15.1             8.15.1
    """
    return _table.releases(df, prereleases=prereleases, rebuilt=rebuilt, history=history)


def as_releases(df: pd.DataFrame, *, prereleases: bool = False) -> pd.DataFrame:
    """Return ``df`` if it already is a releases frame, else :func:`releases` of it.

    Lets plots and widgets accept either frame.

    Examples
    --------
    >>> rel = as_releases(tags)          # same as releases(tags)  # doctest: +SKIP
    >>> as_releases(rel) is rel          # doctest: +SKIP
    True
    """
    if is_releases_frame(df):
        return df
    return releases(df, prereleases=prereleases)


# --------------------------------------------------------------------------- periods


@fill_docs
def dated_releases(rel: pd.DataFrame, what: str) -> pd.DataFrame:
    """The releases that have a release date, for anything that needs dates.

    The one place the "needs dates" rule is written: the cadence tables and every
    chart of :mod:`regframe.plot` go through it, so all say the same thing.  A
    release's date is ``released`` (:func:`release_dates`: ``created`` for frames
    from before ``released`` existed).

    Parameters
    ----------
    rel
        A releases frame (:func:`releases`).
    what
        The caller's name for the messages, e.g. ``"intervals()"``.

    Returns
    -------
    pandas.DataFrame
        The dated rows (index kept), with ``released`` as ``datetime64[ns, UTC]``.

    Raises
    ------
    {raises_needs_dates}

    Examples
    --------
    >>> import pandas as pd
    >>> rel = pd.DataFrame({"release": ["1.0", "1.1"],
    ...                     "created": pd.to_datetime(["2024-01-01", None], utc=True)})
    >>> dated_releases(rel, "example").release.tolist()
    ['1.0']
    """
    check_releases_frame(rel, ["release"])
    if "released" not in rel.columns and "created" not in rel.columns:
        check_releases_frame(rel, ["released"])
    if rel.empty:
        raise NoReleasesError(
            f"{what} has no release to work with: the frame has no versioned "
            "(semver, multipart or calver) final tags left after filtering"
        )
    released = release_dates(rel)
    dated = rel.assign(released=released)[released.notna()]
    if dated.empty:
        raise MissingDatesError(
            f"{what} needs release dates, and none of the {len(rel)} release(s) has one; "
            "read the tags with regframe.read_tags(image, dates=True)"
        )
    return dated


def _group_order(rel: pd.DataFrame, by: str) -> list[Hashable]:
    """Group values in version order (``8.9`` before ``8.10``); images as they come."""
    if by == "image":
        return list(dict.fromkeys(rel["image"].dropna().tolist()))
    if by == "major":
        return sorted(rel["major"].dropna().unique().tolist())
    if by == "line":
        ordered = rel.iloc[version_order(rel["release"], rel["prerelease"])]
        return list(dict.fromkeys(ordered["line"].dropna().tolist()))
    raise ValueError(f"by must be 'major', 'line', 'image' or None, not {by!r}")


@fill_docs
def per_period(
    rel: pd.DataFrame, freq: str = "YS", by: Literal["major", "line", "image"] | None = "major"
) -> pd.DataFrame:
    """Count releases per period, one column per group.

    Parameters
    ----------
    rel
        A releases frame (:func:`releases`); releases without a date are left out.
    {freq}
    by
        ``"major"``, ``"line"``, ``"image"`` (a several-images frame) or
        ``None`` for a single ``releases`` column.

    Returns
    -------
    pandas.DataFrame
        Index ``period`` (UTC period starts, every period between the first
        and the last release, empty ones counted 0), columns the groups in
        version order, values int64 counts.

    Raises
    ------
    {raises_needs_dates}

    Examples
    --------
    >>> per_period(rf.releases(df), "YS", by="major")  # doctest: +SKIP
    major                      5   6   7
    period
    2016-01-01 00:00:00+00:00  12  0   0
    """
    if by == "image" and "image" not in rel.columns:
        raise ValueError("by='image' needs a several-images frame (an 'image' column)")
    dated = dated_releases(rel, "per_period()")
    stamps = pd.DatetimeIndex(dated["released"])
    if by is None:
        indicators = pd.DataFrame({"releases": np.ones(len(dated), dtype=np.int64)}, index=stamps)
    else:
        groups = _group_order(dated, by)
        values = dated[by].to_numpy(dtype=object)
        indicators = pd.DataFrame({g: (values == g).astype(np.int64) for g in groups}, index=stamps)
    counts = indicators.sort_index().resample(freq).sum().astype(np.int64)
    counts.index.name = "period"
    counts.columns.name = by
    counts.attrs = dict(rel.attrs)
    return counts


@fill_docs
def intervals(rel: pd.DataFrame, by: Literal["major", "line"] | None = None) -> pd.DataFrame:
    """Days between consecutive releases (by date), overall or within each group.

    Parameters
    ----------
    rel
        A releases frame; undated releases are left out.
    by
        ``None`` (all releases in one sequence), ``"line"`` (patch releases of
        the same ``major.minor``) or ``"major"``.  A several-images frame is
        always split by ``image`` first (its first column).

    Returns
    -------
    pandas.DataFrame
        One row per release that has a predecessor: the group column (if any),
        ``release``, ``previous`` (the release before it), ``released`` and
        ``days`` (Float64, fractional days since ``previous``; 0 when two
        releases share a build time).

    Raises
    ------
    {raises_needs_dates}

    Examples
    --------
    >>> intervals(rf.releases(df), by="line")["days"].median()  # doctest: +SKIP
    21.0
    """
    if by is not None and by not in ("major", "line"):
        raise ValueError(f"by must be 'major', 'line' or None, not {by!r}")
    names = images(rel)
    if names is not None:
        dated_releases(rel, "intervals()")
        return per_image(rel, names, lambda part, _: _intervals_or_empty(part, by))
    dated = dated_releases(rel, "intervals()")
    # version order breaks ties between releases built at the same instant
    dated = dated.iloc[version_order(dated["release"], dated["prerelease"])]
    dated = dated.sort_values("released", kind="stable")
    keys: list[str] = [by] if by is not None else []
    cols = [*keys, "release", "released"]
    frame = dated[cols].reset_index(drop=True)
    if by is None:
        previous = frame["release"].shift(1)
        before = frame["released"].shift(1)
    else:
        grouped = frame.groupby(by, sort=False, dropna=False)
        previous = grouped["release"].shift(1)
        before = grouped["released"].shift(1)
    days = (frame["released"] - before).dt.total_seconds() / _DAY_SECONDS
    out = frame.assign(previous=previous.astype("string"), days=days.astype("Float64"))
    out = out[out["previous"].notna()]
    if by is not None:
        # group blocks in version order, dates ascending inside each block
        order = {g: i for i, g in enumerate(_group_order(dated, by))}
        out = out.sort_values(by, key=lambda s: s.map(order), kind="stable")
    out = out[[*keys, "release", "previous", "released", "days"]].reset_index(drop=True)
    out.attrs = dict(rel.attrs)
    return out


def _intervals_or_empty(rel: pd.DataFrame, by: Literal["major", "line"] | None) -> pd.DataFrame:
    """:func:`intervals`, or its empty frame for an image without dated releases."""
    try:
        return intervals(rel, by)
    except (MissingDatesError, NoReleasesError):
        keys = [by] if by is not None else []
        return pd.DataFrame(
            {
                **{str(k): pd.Series([], dtype=rel[k].dtype) for k in keys},
                "release": pd.Series([], dtype="string"),
                "previous": pd.Series([], dtype="string"),
                "released": pd.Series([], dtype=UTC_NS),
                "days": pd.Series([], dtype="Float64"),
            }
        )


def lines(rel: pd.DataFrame) -> pd.DataFrame:
    """Per ``major.minor`` line: first and last release date, count, latest version.

    Parameters
    ----------
    rel
        A releases frame.  Works without dates (``first``/``last`` NaT).

    Returns
    -------
    pandas.DataFrame
        Columns ``line`` (string), ``major``, ``minor`` (Int64), ``first``,
        ``last`` (UTC datetimes), ``n_releases`` (Int64), ``latest`` (highest
        version in the line, string) and ``days_active`` (Float64, ``last -
        first``), one row per line in version order.

    Examples
    --------
    >>> lines(rf.releases(df)).tail(1)  # doctest: +SKIP
       line  major  minor      first       last  n_releases  latest  days_active
    9  8.15      8     15 2024-08-08 2024-10-16           4  8.15.3         69.0
    """
    check_releases_frame(rel, ["release", "line", "major", "minor", "prerelease"])
    names = images(rel)
    if names is not None:
        return per_image(rel, names, lambda part, _: lines(part))
    ordered = rel.iloc[version_order(rel["release"], rel["prerelease"])]
    ordered = ordered.assign(released=release_dates(ordered))
    grouped = ordered.groupby("line", sort=False, dropna=True)
    out = pd.DataFrame(
        {
            "line": pd.array([str(g) for g in grouped.groups], dtype="string"),
            "major": pd.array(grouped["major"].first().tolist(), dtype="Int64"),
            "minor": pd.array(grouped["minor"].first().tolist(), dtype="Int64"),
            "first": grouped["released"].min().to_numpy(),
            "last": grouped["released"].max().to_numpy(),
            "n_releases": pd.array(grouped.size().tolist(), dtype="Int64"),
            "latest": pd.array(grouped["release"].last().tolist(), dtype="string"),
        }
    )
    for col in ("first", "last"):
        out[col] = pd.to_datetime(out[col], utc=True).astype(UTC_NS)
    out["days_active"] = ((out["last"] - out["first"]).dt.total_seconds() / _DAY_SECONDS).astype(
        "Float64"
    )
    out.attrs = dict(rel.attrs)
    return out


@fill_docs
def summary(rel: pd.DataFrame) -> pd.DataFrame:
    """Per major: span, releases, releases per year and median days between patch releases.

    Parameters
    ----------
    rel
        A releases frame with dates.

    Returns
    -------
    pandas.DataFrame
        Index ``major``; columns ``first``, ``last`` (UTC), ``releases``,
        ``lines`` (Int64), ``latest`` (string), ``per_year`` (Float64:
        releases divided by the major's span in years, the span counted as at
        least one year so a young major is not extrapolated) and
        ``median_patch_days`` (Float64: median days between consecutive
        releases of the same line, NA for majors without two releases in a
        line).  A several-images frame gives one block per image: the index
        is then ``(image, major)``.

    Raises
    ------
    {raises_needs_dates}

    Examples
    --------
    >>> print(summary(rf.releases(df)))  # doctest: +SKIP
    >>> summary(rf.releases(rf.read_tags(["python", "pypy"], dates=True)))  # doctest: +SKIP
    """
    names = images(rel)
    if names is not None:
        dated_all = dated_releases(rel, "summary()")
        blocks: dict[Any, pd.DataFrame] = {}
        for image in names:
            part = dated_all[dated_all["image"] == image].drop(columns="image")
            if len(part):
                blocks[image] = summary(part)
        # dated_all has rows, so at least one image has a block
        out_all: pd.DataFrame = pd.concat(blocks, names=["image"])
        out_all.attrs = dict(rel.attrs)
        return out_all
    dated = dated_releases(rel, "summary()")
    dated = dated[dated["major"].notna()]
    by_line = intervals(dated, by="line")
    line_major = dated.drop_duplicates("line").set_index("line")["major"]
    by_line["major"] = by_line["line"].map(line_major)
    median_days = by_line.groupby("major")["days"].median()

    records: list[dict[str, Any]] = []
    for major in _group_order(dated, "major"):
        group = dated[dated["major"] == major]
        first, last = group["released"].min(), group["released"].max()
        span_years = max((last - first).total_seconds() / (_DAY_SECONDS * 365.25), 1.0)
        ordered = group.iloc[version_order(group["release"], group["prerelease"])]
        records.append(
            {
                "major": major,
                "first": first,
                "last": last,
                "releases": len(group),
                "lines": group["line"].nunique(),
                "latest": ordered["release"].iloc[-1],
                "per_year": len(group) / span_years,
                "median_patch_days": _na_to_none(median_days.get(major, None)),
            }
        )
    out = pd.DataFrame(
        {
            "first": pd.to_datetime([r["first"] for r in records], utc=True),
            "last": pd.to_datetime([r["last"] for r in records], utc=True),
            "releases": pd.array([r["releases"] for r in records], dtype="Int64"),
            "lines": pd.array([r["lines"] for r in records], dtype="Int64"),
            "latest": pd.array([r["latest"] for r in records], dtype="string"),
            "per_year": pd.array([r["per_year"] for r in records], dtype="Float64"),
            "median_patch_days": pd.array(
                [_float_or_none(r["median_patch_days"]) for r in records], dtype="Float64"
            ),
        },
        index=pd.Index(pd.Series([r["major"] for r in records], dtype="Int64"), name="major"),
    )
    for col in ("first", "last"):
        out[col] = out[col].astype(UTC_NS)
    out.attrs = dict(rel.attrs)
    return out


def _float_or_none(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if np.isnan(number) else number
