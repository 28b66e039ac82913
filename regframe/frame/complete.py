"""``add_dates``: complete a (filtered) tags frame with the ``dates=True`` columns.

The two-step form of ``read_tags(..., dates=True, match=...)``; how and why is in
:func:`add_dates`' docstring, which users see in ``help()``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import pandas as pd
import requests

from regframe.client.credentials import Credentials
from regframe.client.progress import ProgressOption
from regframe.client.transport import default_workers
from regframe.errors import InvalidArgumentError, InvalidArgumentTypeError
from regframe.frame.columns import DATE_COLUMNS, LABEL_COLUMNS, TAG_COLUMNS
from regframe.frame.many import ImageTask, run_tasks
from regframe.frame.match import TagFilter
from regframe.frame.one import empty_tags_frame, with_image
from regframe.frame.options import Options
from regframe.parsing.ranges import VersionRange
from regframe.parsing.select import select

__all__ = ["add_dates"]

log = logging.getLogger(__name__)

#: ``error`` for a row whose tag the registry no longer lists.
GONE = "the registry no longer lists this tag"


def add_dates(
    df: pd.DataFrame,
    /,
    *,
    labels: bool = False,
    versions: str | VersionRange | None = None,
    platform: str | None = "linux/amd64",
    auth: tuple[str, str] | Credentials | None = None,
    insecure: bool = False,
    max_workers: int | None = None,
    cache: bool | str | os.PathLike[str] = True,
    progress: ProgressOption = None,
    timeout: float = 30.0,
    session: requests.Session | None = None,
) -> pd.DataFrame:
    """Add the ``dates=True`` columns to a tags frame from :func:`read_tags`, filtered or not.

    The two-step form of ``read_tags(image, dates=True, match=...)``: list once, filter
    with pandas, then ask the registry only about the rows left.  Each image of the
    frame is read with ``match=`` set to its remaining tags, so the requests sent are
    exactly those of that one-step call.

    Parameters
    ----------
    df
        A frame from :func:`read_tags` (one image: its ``df.attrs`` name the
        repository; several images: its ``image`` column does), or any slice
        of one.
    versions
        Complete only the rows whose version is in this range (see
        :func:`regframe.select`); the others are left out of the result.
    labels, platform, auth, insecure, max_workers, cache, progress, timeout, session
        As in :func:`read_tags`.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` (same rows — those in ``versions`` when given —, index and
        other columns) with ``digest,
        media_type, platforms, created, created_source, pushed, pushed_source, size,
        resolves_to, error, date_note, attested`` (and with ``labels`` ``revision, source,
        image_version, labels``) set.  A tag the registry no longer lists keeps its row, with
        ``error`` saying so.

    Raises
    ------
    InvalidArgumentError
        ``df`` has no ``tag`` column, or neither an ``image`` column nor the
        ``attrs`` that name its repository, or ``versions`` is malformed (before any
        network traffic).
    InvalidArgumentTypeError
        ``df`` is not a DataFrame.

    Examples
    --------
    >>> import regframe as rf
    >>> full = rf.read_tags("python")  # doctest: +SKIP
    >>> rf.add_dates(full[(full.major == 3) & (full.minor >= 12)])  # doctest: +SKIP
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentTypeError(
            f"add_dates() takes a tags DataFrame from read_tags, not {type(df).__name__}"
        )
    if "tag" not in df.columns:
        raise InvalidArgumentError("add_dates() needs a frame with a 'tag' column (from read_tags)")
    if versions is not None:
        df = select(df, versions=versions)
    base = Options.validated(
        dates=True,
        labels=labels,
        platform=platform,
        auth=auth,
        insecure=insecure,
        max_workers=default_workers(session) if max_workers is None else max_workers,
        cache=cache,
        timeout=timeout,
    )
    several = "image" in df.columns
    groups = _groups(df, several)
    tasks = [
        ImageTask(image, replace(base, match=TagFilter(tags=frozenset(tags))))
        for image, tags in groups.items()
    ]
    if not tasks:
        empty = empty_tags_frame(dates=True, labels=labels, image=several)
        return _with_columns(df, empty, several)
    frames, _ = run_tasks(tasks, progress=progress, session=session)
    parts = [with_image(f, image) if several else f for image, f in frames.items()]
    result = pd.concat(parts, ignore_index=True)
    out = _with_columns(df, result, several)
    out.attrs = dict(df.attrs)
    out.attrs["fetched_at"] = max(f.attrs["fetched_at"] for f in frames.values())
    return out


def _groups(df: pd.DataFrame, several: bool) -> dict[str, list[str]]:
    """Tags to ask about, per image as written in the frame (first appearance first)."""
    tags = df["tag"].astype("string")
    if not several:
        reference = df.attrs.get("reference")
        if not isinstance(reference, str) or not reference:
            registry, repository = df.attrs.get("registry"), df.attrs.get("repository")
            if not (isinstance(registry, str) and isinstance(repository, str)):
                raise InvalidArgumentError(
                    "add_dates() cannot tell which repository this frame is from: its attrs "
                    "lost 'reference' (pandas drops attrs in some operations); use a slice of "
                    "a read_tags frame, or set df.attrs['reference'] = 'registry/repository'"
                )
            reference = f"{registry}/{repository}"
        wanted = [str(t) for t in tags.dropna().tolist()]
        return {reference: wanted} if wanted else {}
    images = df["image"]
    if images.isna().any():
        raise InvalidArgumentError("add_dates(): the 'image' column has missing values")
    out: dict[str, list[str]] = {}
    present = tags.notna().to_numpy()
    for image, tag, ok in zip(images.astype(str), tags.astype(object), present, strict=True):
        if ok:
            out.setdefault(image, []).append(str(tag))
    return out


def _with_columns(df: pd.DataFrame, result: pd.DataFrame, several: bool) -> pd.DataFrame:
    """``df`` with the metadata columns of ``result`` matched on (image,) tag, order kept."""
    keys = ["image", "tag"] if several else ["tag"]
    new = [c for c in result.columns if c in DATE_COLUMNS or c in LABEL_COLUMNS]
    right = result.loc[:, keys + new].drop_duplicates(keys)
    left = df.loc[:, keys].astype("string").reset_index(drop=True)
    right = right.astype({k: "string" for k in keys})
    merged = left.merge(right, how="left", on=keys, indicator=True)
    out = df.drop(columns=[c for c in new if c in df.columns]).copy()
    for col in new:
        out[col] = merged[col].array  # positional: merged follows df's row order
    gone = (merged["_merge"] == "left_only").to_numpy()
    if gone.any() and "error" in out.columns:
        out["error"] = out["error"].astype("string").mask(pd.Series(gone, index=out.index), GONE)
        log.debug("%d tag(s) no longer listed", int(gone.sum()))
    # keep the read_tags column order: tag columns, then the metadata ones
    first = [c for c in ["image", *TAG_COLUMNS] if c in out.columns]
    rest = [c for c in out.columns if c not in first and c not in new]
    return out.loc[:, first + new + rest]
