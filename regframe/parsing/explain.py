"""``explain``: one line saying how regframe read a tag and where it sorts among its frame's tags.

:func:`reading` describes one parsed row (prefix, release, prerelease, variant, build,
scheme, and what a tag without a version is); :func:`place` says where its version
sorts among the versions of its line (same image, same prefix); :func:`explain`
joins the two for a tag of a frame.  Pure functions of the frame, no I/O.
"""

from __future__ import annotations

import re
from typing import Any, Final

import pandas as pd

from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError
from regframe.parsing.grammar import PRE_RE, parse_tags
from regframe.parsing.order import sort_tags
from regframe.parsing.ranges import Version, pre_key, pre_keys, release_tuple

__all__ = ["explain", "place", "reading"]

# What each prerelease word means, for people (ranks: regframe.parsing.grammar.PRERELEASE_RANKS).
_WORDS: Final[dict[str, str]] = {
    **dict.fromkeys(("dev", "snapshot", "nightly", "canary"), "a development build"),
    "ea": "an early-access build",
    **dict.fromkeys(("alpha", "a"), "an alpha"),
    **dict.fromkeys(("beta", "b"), "a beta"),
    **dict.fromkeys(("milestone", "m"), "a milestone"),
    **dict.fromkeys(("pre", "preview", "next", "incubating"), "a preview"),
    **dict.fromkeys(("rc", "c"), "a release candidate"),
}
# ``git describe`` output after a version: N commits, then the commit (``63-gc1cfb6864``).
_DESCRIBE: Final = re.compile(r"^(\d+)[-.]g?((?=[0-9a-f]*[a-f])[0-9a-f]{7,40})(?:[-._](.+))?$")
_SCHEMES: Final[dict[str, str]] = {
    "semver": "semver: 1-3 numbers",
    "multipart": "multipart: 4 or more numbers, compared one by one",
    "calver": "calver: year first",
}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _prerelease(pre: str, release: str) -> str:
    m = PRE_RE.match(pre)
    if m is None:
        return f"prerelease {pre} (a build id: ranks with development builds, before {release})"
    kind = _WORDS.get(m["word"].lower(), "a prerelease")
    return f"prerelease {pre} ({kind}, before {release})"


def _variant(variant: str, release: str) -> str:
    m = _DESCRIBE.match(variant)
    if m is None:
        return f"variant {variant!r} (a line of its own beside {release})"
    rest = f", then variant {m[3]!r}" if m[3] else ""
    return (
        f"variant {variant!r}: git describe output, {m[1]} commits after {release} "
        f"(commit {m[2]}){rest}; regframe keeps it a final {release} on a line of its own, "
        f"not a semver prerelease (which would sort it before {release})"
    )


def _no_version(row: pd.Series) -> str:
    scheme = _text(row["scheme"])
    if scheme == "named":
        return "no version: a name without digits (scheme named), never in a range"
    if scheme == "digest":
        return "no version: a signature or attestation tag of a digest (scheme digest)"
    return (
        "no version (scheme other): a version starts the tag, or a '-'/'_'-separated word "
        "after a prefix, with a digit or v+digit; glued names (alpine3.20, ltsc2022) and "
        "'RELEASE.2024-…' are not versions"
    )


def reading(row: pd.Series) -> str:
    """How one row of :func:`regframe.parse_tags` was read, in words.

    Examples
    --------
    >>> reading(parse_tags(["alpine-v15.7.1"]).iloc[0])
    "prefix 'alpine' (the words before the version: a line of its own), release 15.7.1 \
after the 'v' (semver: 1-3 numbers), final"
    """
    release = _text(row["release"])
    if not release:
        return _no_version(row)
    parts = []
    prefix = _text(row.get("prefix"))
    if prefix:
        parts.append(f"prefix {prefix!r} (the words before the version: a line of its own)")
    tag = _text(row["tag"])
    v = " after the 'v'" if re.search(rf"(?:^|[-_])[vV]{re.escape(release)}", tag) else ""
    parts.append(f"release {release}{v} ({_SCHEMES.get(_text(row['scheme']), 'a version')})")
    pre = _text(row["prerelease"])
    parts.append(_prerelease(pre, release) if pre else "final")
    if "_" in tag.partition(release)[2].split("-")[0] or "+" in tag:
        parts.append("build metadata after '_'/'+' kept out of the version (sorts builds)")
    variant = _text(row["variant"])
    if variant:
        parts.append(_variant(variant, release))
    build = _text(row.get("build"))
    if build:
        parts.append(f"rebuild stamp {build} (kept out of the variant; rebuilds sort by it)")
    return ", ".join(parts)


def _version(row: pd.Series) -> Version:
    return Version(release_tuple(_text(row["release"])), pre_key(_text(row["prerelease"])))


def place(df: pd.DataFrame, tag: str) -> str:
    """Where ``tag``'s version sorts among the versions of its line in ``df`` (one image).

    Examples
    --------
    >>> place(parse_tags(["1.9", "1.10", "1.10rc1", "1.2"]), "1.10rc1")
    'sorts after 1.9 and before 1.10 (3rd of 4 versions)'
    """
    row = df[df["tag"] == tag].iloc[0]
    if not _text(row["release"]):
        return "sorts after every versioned tag"
    prefix = _text(row.get("prefix"))
    line = df[df["release"].notna()]
    if "prefix" in line.columns:
        line = line[line["prefix"].fillna("") == prefix]
    line = sort_tags(line)
    pres = pre_keys([_text(p) for p in line["prerelease"].astype(object)])
    tags_of: dict[Version, list[str]] = {}
    for tag_, release, pre in zip(line["tag"], line["release"], pres, strict=True):
        tags_of.setdefault(Version(release_tuple(str(release)), pre), []).append(str(tag_))
    order = sorted(tags_of, key=_sort_key)
    mine = _version(row)
    i = order.index(mine)
    where = [f"with {t} (same version)" for t in tags_of[mine][:1] if t != tag]
    where += [f"after {tags_of[order[i - 1]][0]}"] if i > 0 and not where else []
    where += [f"before {tags_of[order[i + 1]][0]}"] if i + 1 < len(order) else []
    line_name = f" with prefix {prefix!r}" if prefix else ""
    if len(order) == 1:
        return f"sorts alone: the only version{line_name}"
    if i + 1 == len(order):
        return f"sorts last: the newest of {len(order)} versions{line_name}" + (
            f" ({where[0]})" if where else ""
        )
    rank = f"{_ordinal(i + 1)} of {len(order)} versions{line_name}"
    return f"sorts {' and '.join(where) or 'first'} ({rank})"


def _sort_key(v: Version) -> tuple[Any, ...]:
    width = 24
    pre = v.pre
    return (v.padded(width), pre is None, pre or (0, 0, ""))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def explain(df: pd.DataFrame, tag: str, *, image: str | None = None) -> str:
    """One line: how regframe read ``tag`` and where it sorts among the frame's tags.

    Parameters
    ----------
    df
        A frame from :func:`regframe.read_tags` or :func:`regframe.parse_tags`
        (several images: give ``image`` when the tag is in more than one).
    tag
        A tag of the frame.
    image
        With a several-images frame, which image's tag.

    Returns
    -------
    str
        ``"TAG: <reading>; <place>"``.

    Raises
    ------
    InvalidArgumentError
        ``tag`` is not in the frame (of ``image``), or is in several images and
        ``image`` was not given.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.parse_tags(["2.0.330", "2.0.330-63-gc1cfb6864", "2.0.331"])
    >>> print(rf.explain(df, "2.0.330-63-gc1cfb6864"))  # doctest: +NORMALIZE_WHITESPACE
    2.0.330-63-gc1cfb6864: release 2.0.330 (semver: 1-3 numbers), final, variant
    '63-gc1cfb6864': git describe output, 63 commits after 2.0.330 (commit c1cfb6864);
    regframe keeps it a final 2.0.330 on a line of its own, not a semver prerelease (which
    would sort it before 2.0.330); sorts with 2.0.330 (same version) and before 2.0.331 (1st
    of 2 versions)
    """
    if not isinstance(df, pd.DataFrame) or "tag" not in df.columns:
        raise InvalidArgumentTypeError(
            "explain() takes a tags DataFrame from read_tags or parse_tags"
        )
    frame = df
    if "release" not in frame.columns:
        frame = parse_tags(df["tag"].reset_index(drop=True)).set_axis(df.index)
        if "image" in df.columns:
            frame.insert(0, "image", df["image"])
    if "image" in frame.columns:
        images = frame.loc[frame["tag"] == tag, "image"].dropna().unique().tolist()
        if image is None and len(images) > 1:
            raise InvalidArgumentError(
                f"tag {tag!r} is in {len(images)} images ({', '.join(map(str, images))}): "
                "say which with image="
            )
        if image is not None or images:
            frame = frame[frame["image"] == (image if image is not None else images[0])]
    rows = frame[frame["tag"] == tag]
    if rows.empty:
        where = f" of image {image!r}" if image is not None else ""
        raise InvalidArgumentError(f"tag {tag!r} is not in the frame{where}")
    return f"{tag}: {reading(rows.iloc[0])}; {place(frame, tag)}"
