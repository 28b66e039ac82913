"""Dates that cannot be right are dropped from a tags frame, with the reason in ``date_note``.

A ``created`` (build time) or ``pushed`` (push time) that no real image can have would put a
wrong point on every chart and shift every release it dates, so :func:`flag_implausible_dates`
sets it to NA (and its ``*_source`` with it) and says why in ``date_note``, quoting the
dropped value.  The rules, in the order they are applied:

1. **Before 2013-01-01** (:data:`EARLIEST`) — Docker's first release was in March 2013, so no
   container image was built or pushed before.  Catches the fixed stamps of reproducible
   builders: Cloud Native Buildpacks / Paketo write ``1980-01-01T00:00:01Z``, a devbox shell
   exports ``SOURCE_DATE_EPOCH=315532800`` (1980-01-01); ko, bazel and nix write the Unix
   epoch, which the parser already reads as no date.
2. **More than a day after the read** (:data:`AFTER_READ`) — a date from the future; a day
   leaves room for a badly set clock on either side.
3. **One build time shared by images of different releases** — a fixed
   ``SOURCE_DATE_EPOCH`` or placeholder, not a build time.  Images legitimately built in one
   job share a build time too: every variant and platform of one release (GDAL sets
   ``SOURCE_DATE_EPOCH`` to the release date, so ``ubuntu-small-3.9.2``,
   ``ubuntu-full-3.9.2``, ``alpine-small-3.9.2``, … all say ``2024-08-16T09:00:00Z``), and a
   job may build the newest patch of several lines from one commit.  So images are grouped
   by the release of their most specific version tag (``resolves_to``; prefix and variant
   do not count; an image without a version tag is a group of its own), and a shared value
   is dropped when
   * two *patch* releases of one line share it (``3.12.7`` and ``3.12.8``: a patch is built
     when it exists, and a later rebuild gets a new time), or
   * :data:`SHARED_RELEASES` (8) or more groups share it — more lines than any project
     builds at once (Python supports at most six).
4. **Build after push** — ``created`` later than ``pushed`` by more than :data:`CLOCK_SKEW`
   (one hour: CI clocks drift by seconds to minutes) is impossible, as an image is built
   before any push of it; the builder's clock was wrong, so ``created`` is dropped and the
   registry's ``pushed`` kept.

Rules 1 and 2 apply to ``pushed`` too.  The check sees the rows of the frame it is given:
a frame filtered with ``match`` (or :func:`regframe.add_dates` on a slice) shows rule 3
fewer images, so a placeholder shared only with rows outside it is not found there.  The
history store keeps the values as read; frames answered from it are checked again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pandas as pd

__all__ = [
    "AFTER_READ",
    "CLOCK_SKEW",
    "EARLIEST",
    "SHARED_RELEASES",
    "flag_implausible_dates",
]

log = logging.getLogger(__name__)

#: No container image was built or pushed before this (Docker 0.1: March 2013).
EARLIEST = pd.Timestamp("2013-01-01", tz="UTC")
#: How far after the read a date may lie (clock error on either side) before it is dropped.
AFTER_READ = pd.Timedelta(days=1)
#: How much later than its push a build time may be before it is dropped.
CLOCK_SKEW = pd.Timedelta(hours=1)
#: This many release groups sharing one build time make it a placeholder.
SHARED_RELEASES = 8


def flag_implausible_dates(df: pd.DataFrame, *, read_at: pd.Timestamp | None = None) -> None:
    """Set implausible ``created``/``pushed`` values to NA, in place, saying why in ``date_note``.

    Parameters
    ----------
    df
        A ``dates=True`` frame of one image (the columns of
        :data:`regframe.frame.columns.DATE_COLUMNS`); a frame without ``created`` is left
        alone.
    read_at
        When the registry was read (``df.attrs["fetched_at"]``); default: now.

    Examples
    --------
    >>> import regframe as rf
    >>> from regframe.client.tag_metadata import TagMetadata
    >>> from regframe.frame.columns import assemble_metadata
    >>> paketo = TagMetadata(digest="sha256:" + "a" * 64, created_source="config",
    ...                      created_ns=pd.Timestamp("1980-01-01T00:00:01Z").value)
    >>> df = assemble_metadata(rf.parse_tags(["1.0.0"]), [paketo])
    >>> flag_implausible_dates(df)
    >>> df.loc[0, "created"] is pd.NaT, df.loc[0, "date_note"]
    (True, 'created 1980-01-01T00:00:01Z dropped: before 2013, older than any container image')
    """
    if df.empty or "created" not in df.columns:
        return
    if "date_note" not in df.columns:
        df["date_note"] = pd.Series(pd.NA, index=df.index, dtype="string")
    read_at = pd.Timestamp.now(tz="UTC") if read_at is None else read_at
    late = f"more than a day after the read ({_iso(read_at)})"
    for column in ("created", "pushed"):
        if column not in df.columns:
            continue
        _drop(df, column, df[column] < EARLIEST, "before 2013, older than any container image")
        _drop(df, column, df[column] > read_at + AFTER_READ, late)
    for value, reason in _shared_build_times(df).items():
        _drop(df, "created", df["created"] == value, reason)
    if "pushed" in df.columns:
        after = (df["created"] > df["pushed"] + CLOCK_SKEW).fillna(False).astype(bool)
        pushed = df.loc[after, "pushed"]
        reasons = pd.Series(
            [f"after the push ({_iso(p)}); the build clock was wrong" for p in pushed],
            index=pushed.index,
            dtype=object,
        )
        _drop(df, "created", after, reasons)


def _iso(stamp: pd.Timestamp) -> str:
    """``2024-08-16T09:00:00Z`` (a fraction only when there is one)."""
    return stamp.tz_convert("UTC").tz_localize(None).isoformat() + "Z"


def _drop(df: pd.DataFrame, column: str, mask: pd.Series, reason: str | pd.Series) -> None:
    """NA for ``column`` (and its source) where ``mask``; each note quotes the value dropped.

    ``reason`` is one text for every row, or a Series of texts for (at least) those rows.
    """
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    rows = df.index[mask.to_numpy()]
    why = reason.reindex(rows) if isinstance(reason, pd.Series) else [reason] * len(rows)
    notes = [
        f"{column} {_iso(value)} dropped: {text}"
        for value, text in zip(df.loc[rows, column], why, strict=True)
    ]
    old = df.loc[mask, "date_note"]
    joined = [n if pd.isna(o) else f"{o}; {n}" for o, n in zip(old, notes, strict=True)]
    df.loc[mask, "date_note"] = pd.array(joined, dtype="string")
    df.loc[mask, column] = pd.NaT
    source = f"{column}_source"
    if source in df.columns:
        df.loc[mask, source] = None
    log.debug("%d %s value(s) dropped as implausible", int(mask.sum()), column)


def _shared_build_times(df: pd.DataFrame) -> dict[pd.Timestamp, str]:
    """Build times shared by images of different releases (rule 3), with the reason."""
    known = df["created"].notna() & df["digest"].notna()
    if int(known.sum()) < 2:
        return {}
    images = pd.DataFrame(
        {"created": df.loc[known, "created"], "digest": df.loc[known, "digest"].astype(str)}
    ).drop_duplicates()
    counts = images.groupby("created")["digest"].nunique()
    shared = counts[counts > 1].index
    if shared.empty:
        return {}
    group = _release_groups(df)
    out: dict[pd.Timestamp, str] = {}
    for value in shared:
        digests = images.loc[images["created"] == value, "digest"]
        groups = {group.get(d, d) for d in digests}
        if len(groups) >= SHARED_RELEASES or _two_patches_of_one_line(groups):
            releases = sorted(g for g in groups if ":" not in g)
            named = ", ".join(releases[:3]) + (", …" if len(releases) > 3 else "")
            out[value] = (
                f"the same build time as {len(digests) - 1} other image(s) of "
                f"{len(groups)} releases ({named or 'no version tags'}): a fixed "
                "SOURCE_DATE_EPOCH or placeholder, not a build time"
            )
    return out


def _release_groups(df: pd.DataFrame) -> dict[str, str]:
    """Digest → release of its most specific version tag (``resolves_to``), where it has one."""
    if not {"tag", "release", "resolves_to"} <= set(df.columns):
        return {}
    release_of = dict(zip(df["tag"].astype(str), df["release"], strict=True))
    pairs = df.loc[df["resolves_to"].notna() & df["digest"].notna(), ["digest", "resolves_to"]]
    out: dict[str, str] = {}
    for digest, tag in zip(pairs["digest"].astype(str), pairs["resolves_to"], strict=True):
        release = release_of.get(str(tag))
        if isinstance(release, str):
            out[digest] = release
    return out


def _two_patches_of_one_line(groups: Iterable[str]) -> bool:
    """Two different ``X.Y.Z`` releases of one ``X.Y`` line (digest-only groups aside)."""
    seen: dict[str, str] = {}
    for release in groups:
        parts = release.split(".")
        if ":" in release or len(parts) < 3:
            continue
        line = ".".join(parts[:-1])
        if seen.setdefault(line, release) != release:
            return True
    return False
