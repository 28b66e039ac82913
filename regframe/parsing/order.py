"""Version order: sortable keys for parsed tags (``version_key``) and ``sort_tags``.

Ordering (:func:`sort_tags`, :func:`version_key`): prefixes are separate
lines (tags without a prefix first, then each prefix, a-z); within one,
release numbers numerically over all components, a missing component before
``0`` (``1.2`` < ``1.2.0``); a prerelease below its final, prereleases by
:data:`PRERELEASE_RANKS` then number; then build number; then no variant
before variants, variants alphabetically; then the rebuild stamp (``r5`` <
``r10``); the tag string last.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from regframe.parsing import columnar as col
from regframe.parsing.grammar import (
    BUILD_RE,
    FINAL_RANK,
    PRE_RE,
    PRERELEASE_RANKS,
    UNKNOWN_PRE_RANK,
    parse_tags,
)

__all__ = ["prerelease_keys", "release_numbers", "sort_tags", "version_key"]

_VERSION_COLUMNS: Final = ("release", "prerelease", "variant", "scheme")
_STAMP_COLUMNS: Final = ("prefix", "build")
_GROUPS: Final[dict[str, int]] = {"named": 1, "other": 2, "digest": 3}
_NO_TAG_GROUP: Final = 4


def _version_columns(df: pd.DataFrame) -> pd.DataFrame:
    if "tag" not in df.columns:
        raise ValueError("expected a DataFrame with a 'tag' column")
    if all(c in df.columns for c in _VERSION_COLUMNS):
        # ``prefix``/``build`` are newer columns: a frame (or CSV) without them has none
        extra = [c for c in _STAMP_COLUMNS if c in df.columns]
        cols = df[["tag", *_VERSION_COLUMNS, *extra]].copy()
        for c in _STAMP_COLUMNS:
            if c not in cols.columns:
                cols[c] = pd.Series(pd.NA, index=cols.index, dtype=col.STRING)
        strings = ("tag", "release", "prerelease", "variant", *_STAMP_COLUMNS)
        return cols.astype({c: col.STRING for c in strings})
    return parse_tags(df["tag"].reset_index(drop=True)).set_axis(df.index)


def prerelease_keys(pre: col.StrArray) -> tuple[col.IntArray, col.IntArray]:
    """``(pre_rank, pre_num)`` of prerelease texts (``""`` for a final), as :func:`version_key`.

    Examples
    --------
    >>> rank, num = prerelease_keys(np.array(["rc10", "", "731e78df"]))
    >>> rank.tolist(), num.tolist()
    ([70, 100, 10], [10, -1, -1])
    """
    n = len(pre)
    has_pre = pre != ""
    pre_rank = np.full(n, FINAL_RANK, dtype=np.int64)
    pre_num = np.full(n, -1, dtype=np.int64)
    if has_pre.any():
        pm = pd.Series(pre[has_pre], dtype=col.STRING).str.extract(PRE_RE)
        ranks = pm["word"].str.lower().map(PRERELEASE_RANKS)
        pre_rank[has_pre] = ranks.fillna(UNKNOWN_PRE_RANK).to_numpy(dtype=np.int64)
        num, ok = col.digits_to_int(col.to_str_array(pm["num"]), saturate=True)
        pre_num[has_pre] = np.where(ok, num, -1)
    return pre_rank, pre_num


def release_numbers(rel: col.StrArray, *, width: int = 3, missing: int = -1) -> list[col.IntArray]:
    """Every number of each release, one int64 array per position (at least ``width``).

    A release with fewer numbers has ``missing`` past its last one; numbers over
    18 digits saturate at 10**18.

    Examples
    --------
    >>> [a.tolist() for a in release_numbers(np.array(["1.2", "10.0.17763.6189"]))]
    [[1, 10], [2, 0], [-1, 17763], [-1, 6189]]
    """
    width = max(width, int(np.max(np.char.count(rel, "."), initial=0)) + 1)
    out = []
    rest = rel
    for _ in range(width):
        part, rest = col.partition(rest, ".")
        values, valid = col.digits_to_int(part, saturate=True)
        values[~valid] = missing
        out.append(values)
    return out


def _group_keys(v: pd.DataFrame, tag: col.StrArray, has_release: col.BoolArray) -> npt.NDArray[Any]:
    """0 with a release, then 1 named, 2 other, 3 digest, 4 no tag."""
    group = np.full(len(v), _NO_TAG_GROUP, dtype=np.int8)
    scheme = col.to_str_array(v["scheme"].astype(col.STRING))
    for name, code in _GROUPS.items():
        group[scheme == name] = code
    # A tag present but unclassified (e.g. a hand-made frame) counts as "other".
    group[(tag != "") & (group == _NO_TAG_GROUP)] = _GROUPS["other"]
    group[has_release] = 0
    return group


def _stamp_keys(v: pd.DataFrame, tag: col.StrArray, has_release: col.BoolArray) -> dict[str, Any]:
    """Build number (``_7``, ``+7``), variant and rebuild stamp keys."""
    build = np.full(len(v), -1, dtype=np.int64)
    maybe_build = has_release & ((np.char.find(tag, "_") >= 0) | (np.char.find(tag, "+") >= 0))
    if maybe_build.any():
        bm = pd.Series(tag[maybe_build], dtype=col.STRING).str.extract(BUILD_RE)["build"]
        num, ok = col.digits_to_int(col.to_str_array(bm), saturate=True)
        build[maybe_build] = np.where(ok, num, -1)
    variant = col.to_str_array(v["variant"])
    stamp = col.to_str_array(v["build"])
    has_stamp = stamp != ""
    stamps = np.full(len(v), -1, dtype=np.int64)
    if has_stamp.any():
        num, ok = col.digits_to_int(np.char.lstrip(stamp[has_stamp], "r"), saturate=True)
        stamps[has_stamp] = np.where(ok, num, -1)
    return {
        "build": build,
        "has_variant": (variant != "").astype(np.int8),
        "variant": variant,
        "stamp": stamps,
    }


def _key_arrays(df: pd.DataFrame) -> dict[str, npt.NDArray[Any]]:
    """The columns of :func:`version_key` as numpy arrays (strings as unicode arrays)."""
    v = _version_columns(df)
    tag = col.to_str_array(v["tag"])
    rel = col.to_str_array(v["release"])
    has_release = rel != ""
    keys: dict[str, npt.NDArray[Any]] = {
        "group": _group_keys(v, tag, has_release),
        "prefix": col.to_str_array(v["prefix"]),
    }
    for i, values in enumerate(release_numbers(rel)):
        keys[f"n{i}"] = values
    pre = col.to_str_array(v["prerelease"])
    pre_rank, pre_num = prerelease_keys(pre)
    keys["pre_rank"] = pre_rank.astype(np.int16)
    keys["pre_num"] = pre_num
    keys["pre"] = pre
    keys.update(_stamp_keys(v, tag, has_release))
    keys["tag"] = tag
    return keys


def version_key(df: pd.DataFrame) -> pd.DataFrame:
    """Sortable key columns giving version order.

    Sorting the returned frame ascending by all its columns, left to right,
    gives ascending version order (what :func:`sort_tags` returns).  Other
    modules reuse it, e.g. to pick the most specific tag of a release.

    Parameters
    ----------
    df : pandas.DataFrame
        Any frame with a ``tag`` column.  When ``release``, ``prerelease``,
        ``variant`` and ``scheme`` are all present they are used as they are
        (with ``prefix`` and ``build`` when present, else none), otherwise
        they are computed with :func:`parse_tags`.

    Returns
    -------
    pandas.DataFrame
        Same index as ``df``; no NA anywhere.  Columns:

        ``group`` (int8)
            0 with a release, then 1 named, 2 other, 3 digest, 4 no tag.
        ``prefix`` (string)
            the prefix, ``""`` if none (so tags without one come first).
        ``n0`` … ``nK`` (int64, at least ``n0``–``n2``)
            every release number; -1 past the last one, so ``1.2`` sorts
            before ``1.2.0``; numbers over 18 digits saturate at 10**18.
        ``pre_rank`` (int16)
            :data:`PRERELEASE_RANKS` of the prerelease's first word (10 for a
            hex id or unknown word), 100 for a final release.
        ``pre_num`` (int64)
            the number after that word (``rc10`` → 10, ``ea-16`` → 16), -1 if none.
        ``pre`` (string)
            the prerelease text, ``""`` for finals (a tie-break).
        ``build`` (int64)
            build number after ``_``/``+`` (``17.0.12_7-jdk`` → 7), -1 if none.
        ``has_variant`` (int8)
            0 without a variant, so the plain tag comes first.
        ``variant`` (string)
            the variant, ``""`` if none.
        ``stamp`` (int64)
            the rebuild stamp's number (``r5`` → 5, ``202501270601``), -1 if none.
        ``tag`` (string)
            the tag itself, the final tie-break.

    Raises
    ------
    ValueError
        If ``df`` has no ``tag`` column.

    Examples
    --------
    >>> key = version_key(parse_tags(["1.10", "1.9", "1.10rc1"]))
    >>> key[["n0", "n1", "pre_rank", "pre_num"]].values.tolist()
    [[1, 10, 100, -1], [1, 9, 100, -1], [1, 10, 70, 1]]
    """
    keys = _key_arrays(df)
    out = pd.DataFrame(keys, index=df.index)
    return out.astype({"pre": "string", "variant": "string", "tag": "string"})


def sort_tags(df: pd.DataFrame, *, descending: bool = False) -> pd.DataFrame:
    """Sort a frame of tags in version order.

    Prefixes are separate lines: tags without a prefix first, then each
    prefix (``jammy-…``, ``noble-…``) a-z, each in version order.  Release
    numbers compare numerically over all components (``1.10`` >
    ``1.9``, ``10.0.20348.1`` > ``10.0.17763.6189``), a prerelease sorts below
    its final and prereleases among themselves by :data:`PRERELEASE_RANKS`
    then number (``a1 < b1 < rc2 < rc10``), then build number.  Variants of
    one release are kept together as separate lines: the tag without a
    variant first, then variants alphabetically, rebuilds of one variant by
    stamp (``-r5`` < ``-r10``); the tag string breaks any remaining tie, so
    the order is total and independent of input order.

    ``descending=True`` reverses release, prerelease, build and stamp order only:
    prefixes and, within one version, variants keep their ascending order, and tags
    without a release (named, other, digest, then null, each alphabetically)
    are always last.

    Parameters
    ----------
    df : pandas.DataFrame
        Any frame with a ``tag`` column; version columns are computed with
        :func:`parse_tags` if ``release``/``prerelease``/``variant``/``scheme``
        are missing (they are not added to the result).
    descending : bool, default False
        Newest release first.

    Returns
    -------
    pandas.DataFrame
        ``df``'s rows reordered; same columns, index labels and attrs.

    Raises
    ------
    ValueError
        If ``df`` has no ``tag`` column.

    See Also
    --------
    version_key : the key columns this order sorts by.

    Examples
    --------
    >>> df = parse_tags(["1.10", "latest", "1.9", "1.10rc1", "1.9-alpine"])
    >>> sort_tags(df)["tag"].tolist()
    ['1.9', '1.9-alpine', '1.10rc1', '1.10', 'latest']
    >>> sort_tags(df, descending=True)["tag"].tolist()
    ['1.10', '1.10rc1', '1.9', '1.9-alpine', 'latest']
    """
    k = _key_arrays(df)
    n = len(df)
    sign = -1 if descending else 1
    numeric = [c for c in k if c.startswith("n") and c[1:].isdigit()]
    # np.lexsort sorts by the LAST key first.  Strings enter as order codes
    # (hash, then sort only the distinct values); the tag itself is only
    # needed to break ties, which are rare, so it is sorted within ties only.
    keys = [
        sign * k["stamp"],
        col.string_codes(k["variant"]),
        k["has_variant"],
        sign * k["build"],
        sign * col.string_codes(k["pre"]),
        sign * k["pre_num"],
        sign * k["pre_rank"].astype(np.int64),
        *[sign * k[c] for c in reversed(numeric)],
        col.string_codes(k["prefix"]),
        k["group"],
    ]
    order = np.lexsort(keys) if n else np.arange(0, dtype=np.intp)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for key in keys:
            ks = key[order]
            same &= ks[1:] == ks[:-1]
        if same.any():
            run = np.cumsum(np.concatenate(([True], ~same)))
            tied = np.flatnonzero(np.concatenate((same, [False])) | np.concatenate(([False], same)))
            rows = order[tied]
            order[tied] = rows[np.lexsort((k["tag"][rows], run[tied]))]
    return df.iloc[order]
