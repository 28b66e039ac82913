"""Release cadence: from a tags frame to releases, lines, periods and intervals.

Pure pandas, no I/O.  The input is the frame :func:`regframe.read_tags` (or
:func:`regframe.parse_tags`) returns; the central step is :func:`releases`,
which turns *tags* into *releases*:

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

What ``created`` means: the build time of the image a tag points to, as
recorded by the registry or the image config.  Official images are *rebuilt*
for base-image updates, so a release's ``created`` may be the latest rebuild
rather than the day the upstream version shipped; cadence computed from such
images measures rebuilds as much as releases.  A release is dated by the
*earliest* ``created`` among its tags to get as close to its first publication
as the registry allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from regframe.errors import MissingDatesError, NoReleasesError
from regframe.parsing.versions import RELEASE_SCHEMES

__all__ = [
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

#: Columns a tags frame must have for :func:`releases`.
_TAG_COLUMNS: tuple[str, ...] = (
    "tag",
    "release",
    "major",
    "minor",
    "patch",
    "prerelease",
    "scheme",
)

_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
_FINAL = "\x00final"
_DAY_SECONDS = 86_400.0

_NUMBERS = re.compile(r"\d+")


# --------------------------------------------------------------------------- helpers


def _numbers(release: object) -> tuple[int, ...]:
    """``"8.15.0"`` → ``(8, 15, 0)``; NA or garbage → ``()``."""
    if not isinstance(release, str):
        return ()
    return tuple(int(n) for n in _NUMBERS.findall(release))


def _version_order(
    release: pd.Series, prerelease: pd.Series, prefix: pd.Series | None = None
) -> np.ndarray:
    """Positions that sort rows by version, exactly as :func:`regframe.sort_tags` orders tags.

    With ``prefix``, each prefix is a line of its own (no prefix first).
    """
    from regframe.parsing.versions import version_key

    frame = pd.DataFrame(
        {
            "tag": release.astype("string").fillna("").to_numpy(),
            "release": release.to_numpy(),
            "prerelease": prerelease.to_numpy(),
            "variant": pd.NA,
            "scheme": "semver",
            "prefix": pd.NA if prefix is None else prefix.to_numpy(),
        }
    )
    keys = version_key(frame)
    ordered = keys.sort_values(list(keys.columns), kind="stable")
    return ordered.index.to_numpy(dtype=np.intp)


def _prefix_keys(df: pd.DataFrame) -> pd.Series:
    """Each row's ``prefix`` as a plain string, ``""`` for none (or a frame without the column)."""
    if "prefix" not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    return df["prefix"].astype("string").fillna("").astype(object)


def _na_to_none(value: object) -> object:
    return None if value is pd.NA or value is None or value is pd.NaT else value


def _line_of(release: str) -> str:
    """``"8.15.0"`` → ``"8.15"``; ``"22"`` → ``"22"``; written as in the release."""
    return ".".join(release.split(".")[:2])


def utc(created: pd.Series) -> pd.Series:
    """Dates as tz-aware UTC ``datetime64[ns]`` whatever the input's zone and resolution.

    Examples
    --------
    >>> str(utc(pd.Series(["2024-01-02"])).dtype)
    'datetime64[ns, UTC]'
    """
    if isinstance(created.dtype, pd.DatetimeTZDtype):
        converted: pd.Series = created.dt.tz_convert("UTC")
    else:
        converted = cast("pd.Series", pd.to_datetime(created, utc=True, errors="coerce"))
    # one resolution everywhere: pandas 3 infers "us" where 2.x used "ns"
    return converted.astype(_UTC_NS)


def release_dates(rel: pd.DataFrame) -> pd.Series:
    """When each release of a releases frame came out: ``released``, else ``created``.

    Frames written before ``released`` existed (a CSV from an older regframe) are
    dated by their build time, as they were then.

    Examples
    --------
    >>> rel = pd.DataFrame({"created": pd.to_datetime(["2024-01-01"], utc=True)})
    >>> release_dates(rel).tolist()
    [Timestamp('2024-01-01 00:00:00+0000', tz='UTC')]
    """
    for name in ("released", "created"):
        if name in rel.columns:
            return utc(rel[name])
    return _empty_created(rel.index)


def _empty_created(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NaT, index=index, dtype=_UTC_NS)


def is_releases_frame(df: pd.DataFrame) -> bool:
    """True when ``df`` looks like the output of :func:`releases` (not a tags frame).

    Examples
    --------
    >>> is_releases_frame(releases(parse_tags(["1.0.0"])))  # doctest: +SKIP
    True
    """
    return "tag" not in df.columns and {"release", "line", "tags"} <= set(df.columns)


def _check_tags_frame(df: pd.DataFrame) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of tags, got {type(df).__name__}")
    missing = [c for c in _TAG_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            "releases() needs the frame returned by regframe.read_tags or regframe.parse_tags; "
            f"missing column(s): {', '.join(missing)}"
        )


def _check_releases_frame(rel: pd.DataFrame, needs: Sequence[str]) -> None:
    if not isinstance(rel, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of releases, got {type(rel).__name__}")
    missing = [c for c in needs if c not in rel.columns]
    if missing:
        raise ValueError(
            "expected the frame returned by regframe.releases(); "
            f"missing column(s): {', '.join(missing)}"
        )


def _images(df: pd.DataFrame) -> list[Any] | None:
    """The images of a several-images frame in order of appearance, else ``None``."""
    if "image" not in df.columns:
        return None
    return list(dict.fromkeys(df["image"].dropna().tolist()))


def _per_image(
    df: pd.DataFrame, images: list[Any], fn: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """``fn`` applied to each image's rows, results stacked with a leading ``image`` column."""
    parts = []
    for image in images:
        part = fn(df[df["image"] == image].drop(columns="image"))
        part.insert(0, "image", pd.Series([image] * len(part), index=part.index, dtype="string"))
        parts.append(part)
    if not parts:
        empty = fn(df.drop(columns="image").iloc[:0])
        empty.insert(0, "image", pd.Series([], index=empty.index, dtype="string"))
        parts.append(empty)
    out = pd.concat(parts, ignore_index=True)
    out.attrs = dict(df.attrs)
    return out


# --------------------------------------------------------------------------- releases


def releases(df: pd.DataFrame, *, prereleases: bool = False) -> pd.DataFrame:
    """One row per release (a version, not a tag), in version order.

    Parameters
    ----------
    df
        A tags frame from :func:`regframe.read_tags` or :func:`regframe.parse_tags`.
        ``created`` (from ``dates=True``) is optional; without it every release
        is dated ``NaT``.
    prereleases
        Keep prereleases (``rc2``, ``beta.3``, build ids) as releases of their
        own.  By default only finals are kept.

    Returns
    -------
    pandas.DataFrame
        Columns ``release`` (string), ``major``/``minor``/``patch`` (Int64),
        ``prerelease`` (string), ``is_prerelease`` (boolean), ``line``
        (``"8.15"``, string), ``scheme`` (category), ``created``
        (``datetime64[ns, UTC]``, earliest among the release's tags), ``n_tags``
        (Int64), ``tags`` (string: the tags carrying the release, comma-joined,
        the plain one first — tags cannot contain commas, so the list survives
        a CSV round trip as one cell) and ``variants`` (string: the distinct
        variants, comma-joined, NA when there are none).  ``attrs`` are copied
        from ``df``.  Floating aliases (see the module docstring) are dropped.
        A several-images frame (``image`` column) gives the releases of each
        image in turn, with ``image`` kept as the first column.

    Examples
    --------
    >>> import regframe as rf
    >>> tags = rf.parse_tags(["8", "8.15", "8.15.0", "8.15.0-ubi", "8.15.1", "latest"])
    >>> rf.releases(tags)[["release", "tags"]]  # doctest: +SKIP
      release               tags
    0  8.15.0  8.15.0,8.15.0-ubi
    1  8.15.1             8.15.1
    """
    _check_tags_frame(df)
    images = _images(df)
    if images is not None:
        return _per_image(df, images, lambda part: releases(part, prereleases=prereleases))
    scheme = df["scheme"].astype("string")
    versioned = df[scheme.isin(RELEASE_SCHEMES).fillna(False) & df["release"].notna()]

    # A prefix is part of a release's identity (``jammy-20240808`` and
    # ``noble-20240808`` are two releases); NA prefix as "" keeps keys plain strings.
    prefix_of = _prefix_keys(versioned)
    # Floating detection looks at every versioned tag, prereleases included,
    # and compares versions within one prefix only.
    numbers = [
        (p, _numbers(r))
        for p, r in zip(prefix_of.tolist(), versioned["release"].tolist(), strict=True)
    ]
    leading = {(p, n[:k]) for p, n in set(numbers) for k in range(1, len(n))}
    floating = np.array([key in leading for key in numbers], dtype=bool)
    kept = versioned[~floating]
    prefix_of = prefix_of[~floating]

    is_pre = kept["prerelease"].notna()
    if not prereleases:
        kept = kept[~is_pre]
        prefix_of = prefix_of[~is_pre]

    created = utc(kept["created"]) if "created" in kept.columns else _empty_created(kept.index)
    variant = kept["variant"] if "variant" in kept.columns else pd.Series(pd.NA, index=kept.index)

    release = kept["release"].astype("string")
    tag = kept["tag"].astype("string")
    # the plain tag (``8.15.0``, ``v8.15.0``, ``jammy-20240808``) sorts before its variants
    bare = [
        t[len(p) + 1 :] if p else t for t, p in zip(tag.tolist(), prefix_of.tolist(), strict=True)
    ]
    plain = [b in (r, "v" + r) for b, r in zip(bare, release.tolist(), strict=True)]
    work = pd.DataFrame(
        {
            "tag": tag,
            "prefix": prefix_of,
            "release": release,
            # a sentinel instead of NA keeps group keys plain strings on pandas 2.2 and 3
            "pre_key": kept["prerelease"].astype("string").fillna(_FINAL),
            "variant": variant.astype("string"),
            "created": created,
            "major": kept["major"].astype("Int64"),
            "minor": kept["minor"].astype("Int64"),
            "patch": kept["patch"].astype("Int64"),
            "scheme": kept["scheme"].astype("string"),
            "plain_last": ~np.array(plain, dtype=bool),
        },
        index=kept.index,
    ).sort_values(["plain_last", "tag"], kind="stable")
    keys = ["prefix", "release", "pre_key"]
    grouped = work.groupby(keys, sort=False)
    out = grouped.agg(
        major=("major", "first"),
        minor=("minor", "first"),
        patch=("patch", "first"),
        scheme=("scheme", "first"),
        created=("created", "min"),
        n_tags=("tag", "size"),
        tags=("tag", ",".join),
    )
    variants = (
        work.dropna(subset=["variant"])
        .drop_duplicates([*keys, "variant"])
        .sort_values("variant", kind="stable")
        .groupby(keys, sort=False)["variant"]
        .agg(",".join)
    )
    out = out.join(variants.rename("variants")).reset_index()
    pre_key = out["pre_key"].astype("string")
    prerelease = pre_key.mask(pre_key == _FINAL)
    prefix = out["prefix"].astype("string")
    result = pd.DataFrame(
        {
            "release": out["release"].astype("string"),
            "prefix": prefix.mask(prefix == ""),
            "major": out["major"].astype("Int64"),
            "minor": out["minor"].astype("Int64"),
            "patch": out["patch"].astype("Int64"),
            "prerelease": prerelease,
            "is_prerelease": prerelease.notna().astype("boolean"),
            "line": out["release"].astype("string").map(_line_of).astype("string"),
            "scheme": pd.Categorical(
                out["scheme"].astype(object), categories=list(RELEASE_SCHEMES)
            ),
            "created": utc(out["created"]),
            "n_tags": out["n_tags"].astype("Int64"),
            "tags": out["tags"].astype("string"),
            "variants": out["variants"].astype("string"),
        }
    )
    result = result.iloc[
        _version_order(result["release"], result["prerelease"], result["prefix"])
    ]
    result = result.reset_index(drop=True)
    result.attrs = dict(df.attrs)
    return result


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


def dated_releases(rel: pd.DataFrame, what: str) -> pd.DataFrame:
    """The releases that have a ``created`` date, for anything that needs dates.

    The one place the "needs build dates" rule is written: the cadence tables and every
    chart of :mod:`regframe.plot` go through it, so all say the same thing.

    Parameters
    ----------
    rel
        A releases frame (:func:`releases`).
    what
        The caller's name for the messages, e.g. ``"intervals()"``.

    Returns
    -------
    pandas.DataFrame
        The dated rows (index kept), ``created`` as ``datetime64[ns, UTC]``.

    Raises
    ------
    NoReleasesError
        The frame has no release at all.
    MissingDatesError
        None of its releases has a date (the tags were read without ``dates=True``).

    Examples
    --------
    >>> import pandas as pd
    >>> rel = pd.DataFrame({"release": ["1.0", "1.1"],
    ...                     "created": pd.to_datetime(["2024-01-01", None], utc=True)})
    >>> dated_releases(rel, "example").release.tolist()
    ['1.0']
    """
    _check_releases_frame(rel, ["release", "created"])
    if rel.empty:
        raise NoReleasesError(
            f"{what} has no release to work with: the frame has no versioned "
            "(semver, multipart or calver) final tags left after filtering"
        )
    created = utc(rel["created"])
    dated = rel.assign(created=created)[created.notna()]
    if dated.empty:
        raise MissingDatesError(
            f"{what} needs build dates, and none of the {len(rel)} release(s) has one; "
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
        ordered = rel.iloc[_version_order(rel["release"], rel["prerelease"])]
        return list(dict.fromkeys(ordered["line"].dropna().tolist()))
    raise ValueError(f"by must be 'major', 'line', 'image' or None, not {by!r}")


def per_period(
    rel: pd.DataFrame, freq: str = "YS", by: Literal["major", "line", "image"] | None = "major"
) -> pd.DataFrame:
    """Count releases per period, one column per group.

    Parameters
    ----------
    rel
        A releases frame (:func:`releases`); releases without a date are left out.
    freq
        Period start alias: ``"YS"`` (years), ``"QS"`` (quarters), ``"MS"``
        (months); any pandas offset alias works.
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
    MissingDatesError
        No release has a ``created`` date.

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
    stamps = pd.DatetimeIndex(dated["created"])
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
        ``release``, ``previous`` (the release before it), ``created`` and
        ``days`` (Float64, fractional days since ``previous``; 0 when two
        releases share a build time).

    Examples
    --------
    >>> intervals(rf.releases(df), by="line")["days"].median()  # doctest: +SKIP
    21.0
    """
    if by is not None and by not in ("major", "line"):
        raise ValueError(f"by must be 'major', 'line' or None, not {by!r}")
    images = _images(rel)
    if images is not None:
        dated_releases(rel, "intervals()")
        return _per_image(rel, images, lambda part: _intervals_or_empty(part, by))
    dated = dated_releases(rel, "intervals()")
    # version order breaks ties between releases built at the same instant
    dated = dated.iloc[_version_order(dated["release"], dated["prerelease"])]
    dated = dated.sort_values("created", kind="stable")
    keys: list[str] = [by] if by is not None else []
    cols = [*keys, "release", "created"]
    frame = dated[cols].reset_index(drop=True)
    if by is None:
        previous = frame["release"].shift(1)
        before = frame["created"].shift(1)
    else:
        grouped = frame.groupby(by, sort=False, dropna=False)
        previous = grouped["release"].shift(1)
        before = grouped["created"].shift(1)
    days = (frame["created"] - before).dt.total_seconds() / _DAY_SECONDS
    out = frame.assign(previous=previous.astype("string"), days=days.astype("Float64"))
    out = out[out["previous"].notna()]
    if by is not None:
        # group blocks in version order, dates ascending inside each block
        order = {g: i for i, g in enumerate(_group_order(dated, by))}
        out = out.sort_values(by, key=lambda s: s.map(order), kind="stable")
    out = out[[*keys, "release", "previous", "created", "days"]].reset_index(drop=True)
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
                "created": pd.Series([], dtype=_UTC_NS),
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
    _check_releases_frame(rel, ["release", "line", "major", "minor", "prerelease"])
    images = _images(rel)
    if images is not None:
        return _per_image(rel, images, lines)
    ordered = rel.iloc[_version_order(rel["release"], rel["prerelease"])]
    created = utc(ordered["created"]) if "created" in ordered else _empty_created(ordered.index)
    ordered = ordered.assign(created=created)
    grouped = ordered.groupby("line", sort=False, dropna=True)
    out = pd.DataFrame(
        {
            "line": pd.array([str(g) for g in grouped.groups], dtype="string"),
            "major": pd.array(grouped["major"].first().tolist(), dtype="Int64"),
            "minor": pd.array(grouped["minor"].first().tolist(), dtype="Int64"),
            "first": grouped["created"].min().to_numpy(),
            "last": grouped["created"].max().to_numpy(),
            "n_releases": pd.array(grouped.size().tolist(), dtype="Int64"),
            "latest": pd.array(grouped["release"].last().tolist(), dtype="string"),
        }
    )
    for col in ("first", "last"):
        out[col] = pd.to_datetime(out[col], utc=True).astype(_UTC_NS)
    out["days_active"] = ((out["last"] - out["first"]).dt.total_seconds() / _DAY_SECONDS).astype(
        "Float64"
    )
    out.attrs = dict(rel.attrs)
    return out


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
    MissingDatesError
        No release has a ``created`` date.

    Examples
    --------
    >>> print(summary(rf.releases(df)))  # doctest: +SKIP
    >>> summary(rf.releases(rf.read_tags(["python", "pypy"], dates=True)))  # doctest: +SKIP
    """
    images = _images(rel)
    if images is not None:
        dated_all = dated_releases(rel, "summary()")
        blocks: dict[Any, pd.DataFrame] = {}
        for image in images:
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
        first, last = group["created"].min(), group["created"].max()
        span_years = max((last - first).total_seconds() / (_DAY_SECONDS * 365.25), 1.0)
        ordered = group.iloc[_version_order(group["release"], group["prerelease"])]
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
        out[col] = out[col].astype(_UTC_NS)
    out.attrs = dict(rel.attrs)
    return out


def _float_or_none(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if np.isnan(number) else number
