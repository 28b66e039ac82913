"""``changes``: what happened to an image's tags between two reads (two frames, or two snapshots).

One row per tag that appeared, disappeared or moved to another digest, with a ``kind``
a person would use: a new release, a new tag for a version that was there already, a
rebuild (same version, new digest), a retag (a floating tag such as ``latest`` or
``3.12`` now points at another version), or removed.  A tag's *version* is the version
of the most specific versioned tag on the same digest (``resolves_to``), else its own.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any, Final

import pandas as pd

from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError
from regframe.frame.history import history, parse_max_age, platform_key
from regframe.frame.history_store import HistoryStore, resolve_store_path
from regframe.parsing.order import sort_tags
from regframe.parsing.reference import parse_reference
from regframe.parsing.versions import parse_tags

__all__ = ["CHANGE_COLUMNS", "KINDS", "changes", "snapshot_changes"]

#: Values of ``kind``, in the order rows come.
KINDS: Final = ("new release", "new tag", "retag", "rebuild", "removed")
_DAYS: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(?:d|days?)", re.IGNORECASE)
#: Columns of :func:`changes` (``image`` first for several images).
CHANGE_COLUMNS: Final = ["tag", "kind", "old_digest", "new_digest", "old_version", "new_version"]


def _version_texts(tags: pd.Series) -> pd.Series:
    """Each tag's version as text (``jammy-20240808``, ``3.13.0-rc2``), NA without one."""
    parsed = parse_tags(tags.astype("string").reset_index(drop=True))
    prefix = parsed["prefix"].fillna("")
    text = parsed["release"].astype("string")
    text = text.where(parsed["prerelease"].isna(), text + "-" + parsed["prerelease"])
    text = text.where(prefix == "", prefix + "-" + text)
    return text.set_axis(tags.index)


def _state(df: pd.DataFrame) -> pd.DataFrame:
    """``tag → digest, version`` of a dates=True frame (the version through ``resolves_to``)."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentTypeError(f"changes() compares tag frames, not {type(df).__name__}")
    if not {"tag", "digest"} <= set(df.columns):
        raise InvalidArgumentError(
            "changes() needs frames read with dates=True (columns 'tag' and 'digest')"
        )
    out = df.loc[df["digest"].notna(), ["tag", "digest"]].copy()
    via = df["resolves_to"] if "resolves_to" in df.columns else pd.Series(pd.NA, index=df.index)
    named = via.loc[out.index].astype("string").fillna(out["tag"].astype("string"))
    out["version"] = _version_texts(named)
    return out.drop_duplicates("tag", keep="last").set_index("tag")


def _kind(tag: str, old: Any, new: Any, old_versions: set[str]) -> str | None:
    if old is None:
        known = isinstance(new["version"], str) and new["version"] in old_versions
        return "new tag" if known else "new release"
    if new is None:
        return "removed"
    if old["digest"] == new["digest"]:
        return None
    same = isinstance(old["version"], str) and old["version"] == new["version"]
    return "rebuild" if same else "retag"


def _compare(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    a, b = _state(old), _state(new)
    old_versions = {v for v in a["version"].dropna().tolist()}
    rows = []
    for tag in list(dict.fromkeys([*a.index.tolist(), *b.index.tolist()])):
        o = a.loc[tag] if tag in a.index else None
        n = b.loc[tag] if tag in b.index else None
        kind = _kind(tag, o, n, old_versions)
        if kind is None:
            continue
        rows.append({
            "tag": tag,
            "kind": kind,
            "old_digest": None if o is None else o["digest"],
            "new_digest": None if n is None else n["digest"],
            "old_version": None if o is None else o["version"],
            "new_version": None if n is None else n["version"],
        })  # fmt: skip
    return _typed(pd.DataFrame(rows, columns=CHANGE_COLUMNS))


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    out = out.astype({c: "string" for c in CHANGE_COLUMNS if c != "kind"})
    out["kind"] = pd.Categorical(out["kind"], categories=list(KINDS))
    if out.empty:
        return out.reset_index(drop=True)
    # kinds in KINDS order, each in version order of its tags
    ordered = sort_tags(out).reset_index(drop=True)
    return ordered.sort_values("kind", kind="stable").reset_index(drop=True)


def changes(
    old: pd.DataFrame | str,
    new: pd.DataFrame | None = None,
    /,
    *,
    since: str | dt.timedelta | dt.datetime | pd.Timestamp | None = None,
    store: str | os.PathLike[str] | None = None,
    platform: str | None = "linux/amd64",
) -> pd.DataFrame:
    """What changed between two reads of an image's tags: one row per tag that changed.

    Either two frames — ``changes(old, new)``, each from ``read_tags(..., dates=True)``
    of the same image (or the same images: compared image by image on the ``image``
    column) — or an image and the history store: ``changes("python", since="7d")``
    compares the last complete snapshot taken at or before that time (else the first
    one) with the newest.

    Parameters
    ----------
    old, new
        Two ``dates=True`` frames; or ``old`` an image reference and ``new`` omitted.
    since
        With an image: a duration back from now (``"7d"``, ``timedelta``) or a date.
        Default: the snapshot before the newest.
    store, platform
        With an image: the history store file and the platform the reads were for.

    Returns
    -------
    pandas.DataFrame
        ``tag, kind, old_digest, new_digest, old_version, new_version`` (and a leading
        ``image`` for several images).  ``kind`` is a category of :data:`KINDS`:
        ``new release`` (a tag whose version was not there before), ``new tag`` (a new
        tag for a version that was), ``retag`` (the tag now points at another
        version), ``rebuild`` (same version, new digest), ``removed``.  Rows come by
        kind, each in version order.  With an image, ``attrs`` hold ``old_snapshot``
        and ``new_snapshot``.

    Raises
    ------
    InvalidArgumentError
        A frame lacks ``digest`` (read without ``dates=True``), ``since`` is neither a
        duration nor a date, or the store holds fewer than two snapshots of the image.

    Examples
    --------
    >>> import pandas as pd, regframe as rf
    >>> old = pd.DataFrame({"tag": ["3.12.7", "3.12", "latest"],
    ...                     "digest": ["sha256:a", "sha256:a", "sha256:a"],
    ...                     "resolves_to": ["3.12.7", "3.12.7", "3.12.7"]})
    >>> new = pd.DataFrame({"tag": ["3.12.7", "3.12.8", "3.12", "latest"],
    ...                     "digest": ["sha256:b", "sha256:c", "sha256:c", "sha256:c"],
    ...                     "resolves_to": ["3.12.7", "3.12.8", "3.12.8", "3.12.8"]})
    >>> rf.changes(old, new)[["tag", "kind", "old_version", "new_version"]].values.tolist()
    [['3.12.8', 'new release', <NA>, '3.12.8'], ['3.12', 'retag', '3.12.7', '3.12.8'], \
['latest', 'retag', '3.12.7', '3.12.8'], ['3.12.7', 'rebuild', '3.12.7', '3.12.7']]
    """
    if isinstance(old, str):
        if new is not None:
            raise InvalidArgumentError(
                "changes(image, ...) reads the history store: give since=, not a frame"
            )
        return _from_store(old, since=since, store=store, platform=platform)
    if new is None:
        raise InvalidArgumentError("changes() takes two frames, or an image and since=")
    if "image" in old.columns or "image" in new.columns:
        return _per_image(old, new)
    return _compare(old, new)


def _per_image(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    if not ("image" in old.columns and "image" in new.columns):
        raise InvalidArgumentError("changes(): both frames need the 'image' column, or neither")
    seen = [*old["image"].dropna().tolist(), *new["image"].dropna().tolist()]
    images = list(dict.fromkeys(seen))
    parts = []
    for image in images:
        part = _compare(old[old["image"] == image], new[new["image"] == image])
        part.insert(0, "image", pd.Series([image] * len(part), dtype="string"))
        parts.append(part)
    if not parts:
        empty = _compare(old.iloc[:0], new.iloc[:0])
        empty.insert(0, "image", pd.Series([], dtype="string"))
        return empty
    return pd.concat(parts, ignore_index=True)


def _cutoff(since: object, now: pd.Timestamp) -> pd.Timestamp | None:
    if since is None:
        return None
    if isinstance(since, str) and (days := _DAYS.fullmatch(since.strip())) is not None:
        # "7d" is what people write; pandas deprecates the lower-case unit
        return now - pd.Timedelta(days=float(days[1]))
    if isinstance(since, str | dt.timedelta | pd.Timedelta) and not isinstance(since, dt.datetime):
        try:
            ns = parse_max_age(since)
        except InvalidArgumentError:
            ns = None
        if ns is not None:
            return now - pd.Timedelta(ns, unit="ns")
    try:
        stamp = pd.Timestamp(since)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"since {since!r} is neither a duration ('7d') nor a date"
        ) from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _state_at(hist: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """The tags frame as it was at ``when``: intervals running then, the latest per tag."""
    running = hist[(hist["first_seen"] <= when) & (hist["last_seen"] >= when)]
    running = running.sort_values("first_seen", kind="stable").drop_duplicates("tag", keep="last")
    return running.loc[:, ["tag", "digest", "resolves_to"]].reset_index(drop=True)


def snapshot_changes(
    image: str,
    old_at: pd.Timestamp,
    new_at: pd.Timestamp,
    *,
    store: str | os.PathLike[str] | None = None,
    platform: str | None = "linux/amd64",
) -> pd.DataFrame:
    """:func:`changes` between the states the history store recorded at two times."""
    hist = history(image, store=store, platform=platform)
    out = _compare(_state_at(hist, old_at), _state_at(hist, new_at))
    out.attrs.update(old_snapshot=old_at, new_snapshot=new_at)
    return out


def _from_store(
    image: str, *, since: object, store: str | os.PathLike[str] | None, platform: str | None
) -> pd.DataFrame:
    ref = parse_reference(image)
    now = pd.Timestamp.now(tz="UTC")
    cutoff = _cutoff(since, now)
    path = resolve_store_path(True if store is None else store)
    taken: list[int] = []
    if path is not None and path.exists():
        with HistoryStore.open(path, readonly=True) as opened:
            rows = opened.snapshots(ref.domain, ref.repository, platform_key(platform))
        taken = [t for t, _, _, complete in rows if complete]
    if len(taken) < 2:
        raise InvalidArgumentError(
            f"the history store holds {len(taken)} complete snapshot(s) of {image}; "
            "changes() needs two (run read_tags(..., dates=True) or `regframe snapshot` again)"
        )
    before = [t for t in taken[:-1] if cutoff is None or t <= cutoff.value]
    old_at = before[-1] if before else taken[0]
    old_time, new_time = pd.Timestamp(old_at, tz="UTC"), pd.Timestamp(taken[-1], tz="UTC")
    return snapshot_changes(image, old_time, new_time, store=store, platform=platform)
