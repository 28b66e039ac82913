"""``select``: the rows of a tags (or releases) frame whose version is in a range.

The range is read by :func:`regframe.parsing.ranges.compile_range`; each distinct
``(release, prerelease)`` of the frame is tested once, so a frame of many tags
costs one test per version, not per tag.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError
from regframe.parsing.grammar import parse_tags
from regframe.parsing.ranges import Version, VersionRange, compile_range, pre_keys, release_tuple

__all__ = ["range_mask", "select"]


def _version_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``release``, ``prerelease`` (and ``tag`` when there is one) of each row, parsed if absent."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentTypeError(f"expected a DataFrame of tags, not {type(df).__name__}")
    if "release" in df.columns:
        cols = [c for c in ("tag", "release", "prerelease") if c in df.columns]
        out = df.loc[:, cols].copy()
        if "prerelease" not in out.columns:
            out["prerelease"] = pd.NA
        return out
    if "tag" not in df.columns:
        raise InvalidArgumentError(
            "expected the frame of regframe.read_tags, parse_tags or releases: "
            "it needs a 'tag' or a 'release' column"
        )
    parsed = parse_tags(df["tag"].reset_index(drop=True)).set_axis(df.index)
    return parsed.loc[:, ["tag", "release", "prerelease"]]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def range_mask(df: pd.DataFrame, versions: str | VersionRange, *, prereleases: bool = False) -> Any:
    """A numpy boolean array: which rows of ``df`` have a version in the range.

    Parameters
    ----------
    df
        A frame with ``tag`` (parsed here when ``release`` is missing) or
        ``release`` and ``prerelease`` columns.
    versions
        A range as text or compiled (:func:`regframe.parsing.ranges.compile_range`).
    prereleases
        Admit prereleases in range even when the range names none.

    Examples
    --------
    >>> df = parse_tags(["8.14.3", "8.15", "8.15.1-alpine", "9.0.0-rc1", "latest"])
    >>> range_mask(df, ">=8.15,<9").tolist()
    [False, True, True, False, False]
    """
    rng = compile_range(versions)
    frame = _version_frame(df)
    release = [_text(v) for v in frame["release"].astype(object)]
    prerelease = [_text(v) for v in frame["prerelease"].astype(object)]
    keys: list[tuple[str, ...]]
    if rng.uses_text:  # ``===`` compares the tag itself
        tags = frame["tag"] if "tag" in frame.columns else frame["release"]
        keys = list(zip(release, prerelease, [_text(t) for t in tags.astype(object)], strict=True))
    else:
        keys = list(zip(release, prerelease, strict=True))
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    found = np.zeros(len(uniques), dtype=bool)
    pres = pre_keys([key[1] for key in uniques])
    for i, (key, pre) in enumerate(zip(uniques, pres, strict=True)):
        if not key[0]:
            continue  # a tag without a version never matches
        v = Version(release_tuple(key[0]), pre)
        found[i] = rng.contains(v, prereleases=prereleases, tag=key[2] if len(key) > 2 else None)
    return found[codes] if len(codes) else np.zeros(0, dtype=bool)


def select(
    df: pd.DataFrame, /, *, versions: str | VersionRange, prereleases: bool = False
) -> pd.DataFrame:
    """The rows of ``df`` whose version is in a PEP 440 or npm range.

    Parameters
    ----------
    df
        A frame from :func:`regframe.read_tags` or :func:`regframe.parse_tags`
        (one image or several: the ``image`` column is kept), or from
        :func:`regframe.releases`.
    versions
        PEP 440 specifiers (``">=8.15,<9"``, ``"~=8.15"``, ``"==8.*"``,
        ``"!=8.15.2"``) or an npm range (``"^8.15"``, ``"~8.15.1"``, ``"8.x"``,
        ``">=1.2 <2 || 3.x"``), compared in regframe's version order: 4-part
        releases, calendar versions, ``v`` prefixes and prerelease words as in
        :func:`regframe.sort_tags`.  A tag's prefix and variant do not take
        part (``8.15.3-alpine`` is version ``8.15.3``).  A range PEP 440
        accepts is read as PEP 440, any other as npm.
    prereleases
        Keep prereleases in range even when the range names none.  By
        default a prerelease is kept only where the range names one (PEP 440:
        a prerelease bound with ``==``, ``>=``, ``<=``, ``~=``; npm: a
        prerelease of the same ``major.minor.patch`` in the same
        alternative).  ``<9`` never keeps ``9.0.0b1``.

    Returns
    -------
    pandas.DataFrame
        The matching rows, in ``df``'s order, with its index and ``attrs``.
        Tags without a version (``latest``) never match.

    Raises
    ------
    InvalidArgumentError
        The range is malformed; the message names the piece and its position.
    InvalidArgumentTypeError
        ``versions`` is not text, or ``df`` is not a DataFrame.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.parse_tags(["8.14.3", "8.15", "8.15.1-alpine", "9.0.0-rc1", "9.1.0", "latest"])
    >>> rf.select(df, versions=">=8.15,<9")["tag"].tolist()
    ['8.15', '8.15.1-alpine']
    >>> rf.select(df, versions="^8.15 || 9.x")["tag"].tolist()
    ['8.15', '8.15.1-alpine', '9.1.0']
    >>> rf.select(df, versions="^9.0.0-rc1")["tag"].tolist()
    ['9.0.0-rc1', '9.1.0']
    """
    mask = range_mask(df, versions, prereleases=bool(prereleases))
    out: pd.DataFrame = df.loc[mask]
    out.attrs = dict(df.attrs)
    return out
