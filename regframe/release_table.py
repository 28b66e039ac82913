"""Tags → releases: one row per version, floating aliases dropped, dated by :mod:`.release_dates`.

Pure pandas, no I/O except the optional history-store look-up that
:func:`releases` makes for a frame :func:`regframe.read_tags` recorded.  The rules
(which tags are releases, what a floating alias is, how a release is dated) are
in the docstrings of :mod:`regframe.cadence` and :mod:`regframe.release_dates`.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from regframe.errors import InvalidArgumentError
from regframe.parsing.versions import RELEASE_SCHEMES
from regframe.release_dates import date_releases
from regframe.release_frames import (
    check_tags_frame,
    empty_dates,
    images,
    per_image,
    prefix_keys,
    utc,
    version_order,
)

__all__ = ["HistoryOption", "releases"]

HistoryOption = bool | str | os.PathLike[str] | None

_FINAL = "\x00final"
_NUMBERS = re.compile(r"\d+")
_KEYS = ["prefix", "release", "pre_key"]


def _numbers(release: object) -> tuple[int, ...]:
    """``"8.15.0"`` → ``(8, 15, 0)``; NA or garbage → ``()``."""
    if not isinstance(release, str):
        return ()
    return tuple(int(n) for n in _NUMBERS.findall(release))


def _line_of(release: str) -> str:
    """``"8.15.0"`` → ``"8.15"``; ``"22"`` → ``"22"``; written as in the release."""
    return ".".join(release.split(".")[:2])


def _release_tags(df: pd.DataFrame) -> pd.DataFrame:
    """The versioned tags that name a release (prereleases too), floating aliases dropped."""
    scheme = df["scheme"].astype("string")
    versioned = df[scheme.isin(RELEASE_SCHEMES).fillna(False) & df["release"].notna()]
    # Floating detection looks at every versioned tag, prereleases included,
    # and compares versions within one prefix only.
    prefix_of = prefix_keys(versioned)
    numbers = [
        (p, _numbers(r))
        for p, r in zip(prefix_of.tolist(), versioned["release"].tolist(), strict=True)
    ]
    leading = {(p, n[:k]) for p, n in set(numbers) for k in range(1, len(n))}
    floating = np.array([key in leading for key in numbers], dtype=bool)
    return versioned[~floating]


def _optional(kept: pd.DataFrame, name: str, dates: bool = False) -> pd.Series:
    if name in kept.columns:
        return utc(kept[name]) if dates else kept[name].astype("string")
    return empty_dates(kept.index) if dates else pd.Series(pd.NA, index=kept.index, dtype="string")


def _tag_rows(kept: pd.DataFrame) -> pd.DataFrame:
    """One row per release tag with what grouping and dating need, plain tags first."""
    prefix_of = prefix_keys(kept)
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
            "variant": _optional(kept, "variant"),
            "stamp": _optional(kept, "build"),
            "created": _optional(kept, "created", dates=True),
            "pushed": _optional(kept, "pushed", dates=True),
            "major": kept["major"].astype("Int64"),
            "minor": kept["minor"].astype("Int64"),
            "patch": kept["patch"].astype("Int64"),
            "scheme": kept["scheme"].astype("string"),
            "plain_last": ~np.array(plain, dtype=bool),
        },
        index=kept.index,
    )
    return work.sort_values(["plain_last", "tag"], kind="stable")


def _group(work: pd.DataFrame) -> pd.DataFrame:
    """One row per release, in version order, with its tags and earliest build and push."""
    grouped = work.groupby(_KEYS, sort=False)
    out = grouped.agg(
        major=("major", "first"),
        minor=("minor", "first"),
        patch=("patch", "first"),
        scheme=("scheme", "first"),
        created=("created", "min"),
        pushed=("pushed", "min"),
        n_tags=("tag", "size"),
        tags=("tag", ",".join),
    )
    variants = (
        work.dropna(subset=["variant"])
        .drop_duplicates([*_KEYS, "variant"])
        .sort_values("variant", kind="stable")
        .groupby(_KEYS, sort=False)["variant"]
        .agg(",".join)
    )
    out = out.join(variants.rename("variants")).reset_index()
    pre_key = out["pre_key"].astype("string")
    out["prerelease"] = pre_key.mask(pre_key == _FINAL)
    prefix = out["prefix"].astype("string")
    out = out.iloc[version_order(out["release"], out["prerelease"], prefix.mask(prefix == ""))]
    return out.reset_index(drop=True)


def _assemble(table: pd.DataFrame, dated: pd.DataFrame) -> pd.DataFrame:
    """The public columns of :func:`releases`, from the grouped table and its dates."""
    prefix = table["prefix"].astype("string")
    release = table["release"].astype("string")
    return pd.DataFrame(
        {
            "release": release,
            "prefix": prefix.mask(prefix == ""),
            "major": table["major"].astype("Int64"),
            "minor": table["minor"].astype("Int64"),
            "patch": table["patch"].astype("Int64"),
            "prerelease": table["prerelease"].astype("string"),
            "is_prerelease": table["prerelease"].notna().astype("boolean"),
            "line": release.map(_line_of).astype("string"),
            "scheme": pd.Categorical(
                table["scheme"].astype(object), categories=list(RELEASE_SCHEMES)
            ),
            **{name: dated[name] for name in dated.columns},
            "created": utc(table["created"]),
            "pushed": utc(table["pushed"]),
            "n_tags": table["n_tags"].astype("Int64"),
            "tags": table["tags"].astype("string"),
            "variants": table["variants"].astype("string"),
        }
    )


def _check_options(rebuilt: object, history: object) -> None:
    if rebuilt is not None and not isinstance(rebuilt, bool):
        raise InvalidArgumentError(f"rebuilt must be True, False or None, not {rebuilt!r}")
    if history is not None and not isinstance(history, bool | str | os.PathLike):
        raise InvalidArgumentError(
            f"history must be True, False, None or a path to a history store, not {history!r}"
        )


def releases(
    df: pd.DataFrame,
    *,
    prereleases: bool = False,
    rebuilt: bool | None = None,
    history: HistoryOption = None,
) -> pd.DataFrame:
    """One row per release (a version, not a tag), in version order, with its release date.

    The public entry point is :func:`regframe.cadence.releases` (``rf.releases``),
    whose docstring describes the parameters and columns.
    """
    check_tags_frame(df)
    _check_options(rebuilt, history)
    names = images(df)
    if names is not None:
        return per_image(
            df, names, lambda part, image: _one_image(part, prereleases, rebuilt, history, image)
        )
    return _one_image(df, prereleases, rebuilt, history, None)


def _one_image(
    df: pd.DataFrame,
    prereleases: bool,
    rebuilt: bool | None,
    history: HistoryOption,
    image: object,
) -> pd.DataFrame:
    from regframe.frame.sightings import sightings_for  # lazy: the store only when asked

    work = _tag_rows(_release_tags(df))
    table = _group(work)
    key_of = {k: i for i, k in enumerate(zip(*(table[c] for c in _KEYS), strict=True))}
    work["key"] = [key_of[k] for k in zip(*(work[c] for c in _KEYS), strict=True)]
    sightings = None
    if len(table):
        sightings = sightings_for(df.attrs, history, str(image) if image else None)
    dated = date_releases(work, table, rebuilt=rebuilt, sightings=sightings)
    result = _assemble(table, dated)
    if not prereleases:
        result = result[~result["is_prerelease"].to_numpy(dtype=bool)]
    result = result.reset_index(drop=True)
    result.attrs = dict(df.attrs)
    return result
