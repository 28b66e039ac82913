"""What every releases computation shares: UTC dates, version order, checks, one image at a time.

Pure pandas, no I/O.  :mod:`regframe.release_table` (tags → releases),
:mod:`regframe.release_dates` (when each release came out) and
:mod:`regframe.cadence` (periods, intervals, lines) all build on these helpers,
so a rule such as "what a releases frame is" or "which date a release has" is
written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from regframe.parsing.versions import COLUMNS as TAG_PARSE_COLUMNS

__all__ = [
    "DAY",
    "TAG_COLUMNS",
    "UTC_NS",
    "check_releases_frame",
    "check_tags_frame",
    "empty_dates",
    "images",
    "is_releases_frame",
    "per_image",
    "prefix_keys",
    "release_dates",
    "utc",
    "version_order",
]

#: The dtype of every date column: nanoseconds, UTC.
UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
#: One day, for date arithmetic in days.
DAY = pd.Timedelta(days=1)
#: Columns a tags frame must have for :func:`regframe.releases` (the others are optional).
TAG_COLUMNS: tuple[str, ...] = tuple(
    c for c in TAG_PARSE_COLUMNS if c not in ("variant", "is_prerelease", "prefix", "build")
)


def utc(dates: pd.Series) -> pd.Series:
    """Dates as tz-aware UTC ``datetime64[ns]`` whatever the input's zone and resolution.

    Examples
    --------
    >>> str(utc(pd.Series(["2024-01-02"])).dtype)
    'datetime64[ns, UTC]'
    """
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        converted: pd.Series = dates.dt.tz_convert("UTC")
    else:
        converted = cast("pd.Series", pd.to_datetime(dates, utc=True, errors="coerce"))
    # one resolution everywhere: pandas 3 infers "us" where 2.x used "ns"
    return converted.astype(UTC_NS)


def empty_dates(index: pd.Index) -> pd.Series:
    """An all-NaT UTC date column on ``index``."""
    return pd.Series(pd.NaT, index=index, dtype=UTC_NS)


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
    return empty_dates(rel.index)


def version_order(
    release: pd.Series, prerelease: pd.Series, prefix: pd.Series | None = None
) -> np.ndarray:
    """Positions that sort rows by version, exactly as :func:`regframe.sort_tags` orders tags.

    With ``prefix``, each prefix is a line of its own (no prefix first).

    Examples
    --------
    >>> version_order(pd.Series(["1.10", "1.9"]), pd.Series([None, None])).tolist()
    [1, 0]
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


def prefix_keys(df: pd.DataFrame) -> pd.Series:
    """Each row's ``prefix`` as a plain string, ``""`` for none (or a frame without the column)."""
    if "prefix" not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    return df["prefix"].astype("string").fillna("").astype(object)


def is_releases_frame(df: pd.DataFrame) -> bool:
    """True when ``df`` looks like the output of :func:`regframe.releases` (not a tags frame).

    Examples
    --------
    >>> is_releases_frame(pd.DataFrame(columns=["release", "line", "tags"]))
    True
    """
    return "tag" not in df.columns and {"release", "line", "tags"} <= set(df.columns)


def _require(df: pd.DataFrame, needs: Sequence[str], *, kind: str, hint: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of {kind}, got {type(df).__name__}")
    missing = [c for c in needs if c not in df.columns]
    if missing:
        raise ValueError(f"{hint}; missing column(s): {', '.join(missing)}")


def check_tags_frame(df: pd.DataFrame) -> None:
    """Raise a clear error unless ``df`` is a tags frame :func:`regframe.releases` can use."""
    hint = "releases() needs the frame returned by regframe.read_tags or regframe.parse_tags"
    _require(df, TAG_COLUMNS, kind="tags", hint=hint)


def check_releases_frame(rel: pd.DataFrame, needs: Sequence[str]) -> None:
    """Raise a clear error unless ``rel`` is a releases frame with the columns ``needs``."""
    _require(rel, needs, kind="releases", hint="expected the frame returned by regframe.releases()")


def images(df: pd.DataFrame) -> list[Any] | None:
    """The images of a several-images frame in order of appearance, else ``None``."""
    if "image" not in df.columns:
        return None
    return list(dict.fromkeys(df["image"].dropna().tolist()))


def per_image(
    df: pd.DataFrame, names: list[Any], fn: Callable[[pd.DataFrame, Any], pd.DataFrame]
) -> pd.DataFrame:
    """``fn(rows, image)`` for each image, results stacked with a leading ``image`` column."""
    parts = []
    for image in names:
        part = fn(df[df["image"] == image].drop(columns="image"), image)
        part.insert(0, "image", pd.Series([image] * len(part), index=part.index, dtype="string"))
        parts.append(part)
    if not parts:
        empty = fn(df.drop(columns="image").iloc[:0], None)
        empty.insert(0, "image", pd.Series([], index=empty.index, dtype="string"))
        parts.append(empty)
    out = pd.concat(parts, ignore_index=True)
    out.attrs = dict(df.attrs)
    return out
