"""``newest``: the newest release of each line, major, prefix or image, with its age and why.

Built on :func:`regframe.releases` (a release is a version, not a tag; floating aliases
such as ``8`` or ``latest`` are not releases), so a variant never stands in for
another: ``variant="alpine"`` looks only at ``-alpine`` tags.  Versions compare in
regframe's order (:mod:`regframe.parsing.ranges`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final, Literal

import pandas as pd

from regframe.cadence import release_dates, releases
from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError
from regframe.parsing.ranges import Version, pre_key, release_tuple

__all__ = ["BY", "newest"]

#: What ``newest(by=...)`` groups by.
BY: Final = ("line", "major", "prefix", "image")


def _order_key(release: str, prerelease: Any) -> tuple[Any, ...]:
    v = Version(release_tuple(release), pre_key(prerelease if isinstance(prerelease, str) else ""))
    return (v.padded(24), v.pre is None, v.pre or (0, 0, ""))


def _group_columns(rel: pd.DataFrame, by: str | None) -> list[str]:
    image = ["image"] if "image" in rel.columns else []
    if by is None:
        return []
    if by == "image":
        return image
    if by == "prefix":
        return [*image, "prefix"]
    return [*image, "prefix", by]


def _keys(rel: pd.DataFrame, columns: list[str]) -> list[Hashable]:
    if not columns:
        return [()] * len(rel)
    parts = [rel[c].astype(object).where(rel[c].notna(), None).tolist() for c in columns]
    return list(zip(*parts, strict=True))


def _why(row: pd.Series, count: int, by: str | None, runner_up: str | None) -> str:
    kind = "prerelease" if isinstance(row["prerelease"], str) else "final"
    group = {
        None: "the frame",
        "image": "the image",
        "prefix": f"prefix {row['prefix']!r}" if isinstance(row["prefix"], str) else "no prefix",
        "line": f"line {row['line']}",
        "major": f"major {row['major']}",
    }[by]
    if by in ("line", "major") and isinstance(row["prefix"], str):
        group += f" with prefix {row['prefix']!r}"
    before = f"; next below: {runner_up}" if runner_up else ""
    return f"newest {kind} of {count} release{'s' * (count != 1)} in {group}{before}"


def _variant_rows(df: pd.DataFrame, variant: str | None) -> pd.DataFrame:
    if variant is None:
        return df
    if not isinstance(variant, str):
        raise InvalidArgumentTypeError(f"variant= takes text, not {type(variant).__name__}")
    have = df["variant"].astype("string").fillna("")
    return df[have == variant]


def newest(
    df: pd.DataFrame,
    /,
    *,
    by: Literal["line", "major", "prefix", "image"] | None = "line",
    variant: str | None = None,
    prereleases: bool = False,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The newest release of each group, with its tags, release date, age and why.

    Parameters
    ----------
    df
        A tags frame from :func:`regframe.read_tags` (``dates=True`` for
        ``released`` and ``age``) or :func:`regframe.parse_tags`; one image or
        several (``image`` column).
    by
        ``"line"`` (``major.minor``, the default), ``"major"``, ``"prefix"``,
        ``"image"``, or ``None`` for one row.  Groups never mix images, and
        ``line``/``major`` never mix prefixes (``jammy-…`` and ``noble-…`` are
        separate).  A calendar version of one number (``20240808``) is a line of
        its own: ``by="prefix"`` gives the newest of such a series.
    variant
        Only releases that have a tag with exactly this variant
        (``"alpine"``, ``"slim-bookworm"``; ``""`` for tags without one): a
        ``-slim`` tag never stands in for ``-alpine``.  ``None`` looks at every
        tag.
    prereleases
        Let a prerelease be the newest of its group.  Off by default.
    now
        The time ``age`` counts to (default: now).

    Returns
    -------
    pandas.DataFrame
        One row per group, in version order of the groups: ``image`` (several
        images), ``prefix``, ``line``, ``major``, ``release``, ``prerelease``,
        ``tags`` (the release's tags, comma-joined), ``released``
        (``datetime64[ns, UTC]``: the release date :func:`regframe.releases`
        gives, else its earliest build time ``created``), ``age`` (Float64:
        days from ``released`` to ``now``) and ``why`` (one line).

    Raises
    ------
    InvalidArgumentError
        ``by`` is not one of the groupings.
    InvalidArgumentTypeError
        ``variant`` is not text.

    Examples
    --------
    >>> import regframe as rf
    >>> tags = rf.parse_tags(["8.14.2", "8.15.0", "8.15.1", "8.15.1-alpine", "8.15.2-slim",
    ...                       "9.0.0-rc1", "8", "latest"])
    >>> rf.newest(tags)[["line", "release", "tags"]].values.tolist()
    [['8.14', '8.14.2', '8.14.2'], ['8.15', '8.15.2', '8.15.2-slim']]
    >>> rf.newest(tags, by="major", variant="alpine")[["release", "tags"]].values.tolist()
    [['8.15.1', '8.15.1-alpine']]
    >>> rf.newest(tags, by=None, prereleases=True)["release"].tolist()
    ['9.0.0']
    """
    if by is not None and by not in BY:
        raise InvalidArgumentError(f"by= takes one of {', '.join(BY)} or None, not {by!r}")
    rel = releases(_variant_rows(df, variant), prereleases=bool(prereleases))
    rel = rel.assign(released=release_dates(rel))
    columns = _group_columns(rel, by)
    keys = _keys(rel, columns)
    groups: dict[Hashable, list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    order = [
        _order_key(str(r), p)
        for r, p in zip(rel["release"].tolist(), rel["prerelease"].tolist(), strict=True)
    ]
    picked, whys = [], []
    for members in groups.values():
        ranked = sorted(members, key=order.__getitem__)
        top = ranked[-1]
        runner_up = str(rel["tags"].iat[ranked[-2]]).split(",")[0] if len(ranked) > 1 else None
        picked.append(top)
        whys.append(_why(rel.iloc[top], len(members), by, runner_up))
    out = rel.iloc[picked].reset_index(drop=True)
    stamp = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    age = (stamp - out["released"]).dt.total_seconds() / 86_400
    front = [c for c in ("image", "prefix", "line", "major") if c in out.columns]
    out = out.loc[:, [*front, "release", "prerelease", "tags", "released"]]
    out["age"] = age.round(1).astype("Float64")
    out["why"] = pd.Series(whys, dtype="string")
    out.attrs = dict(df.attrs)
    return out
