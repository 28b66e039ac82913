"""What the history store proves about when each tag first appeared, for dating releases.

One frame per repository: for each tag, the last complete read that did not see
it (``seen_after``), the read that first saw it (``seen_by``), the earliest build or
push time any of its digests had (``built_by``) and, where a registry keeps tag history
(Quay), when the tag was first pushed (``pushed_first``).
:func:`regframe.releases` uses it to narrow the release dates of rebuilt lines.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from regframe.errors import HistoryStoreError
from regframe.frame.history import platform_key
from regframe.frame.history_schema import INTERVAL_COLUMNS
from regframe.frame.history_store import HistoryStore, resolve_store_path
from regframe.parsing.reference import parse_reference

__all__ = ["SIGHTING_COLUMNS", "sightings_for", "tag_sightings"]

log = logging.getLogger(__name__)

#: Columns of :func:`tag_sightings`, in order (the dates are UTC).
SIGHTING_COLUMNS = ("tag", "seen_after", "seen_by", "built_by", "pushed_first")

HistoryOption = bool | str | os.PathLike[str] | None


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype("Int64"), unit="ns", utc=True).astype("datetime64[ns, UTC]")


def tag_sightings(
    registry: str,
    repository: str,
    platform: str | None,
    store: bool | str | os.PathLike[str],
) -> pd.DataFrame | None:
    """Per tag of a repository, what ``store`` recorded about its first appearance.

    Returns ``None`` when the store does not exist, cannot be read or holds
    nothing for the repository and platform (a store that cannot be read is
    logged, never raised: dating goes on without it).

    Examples
    --------
    >>> tag_sightings("localhost:5000", "app", "linux/amd64", "/no/such/store") is None
    True
    """
    path = resolve_store_path(store)
    if path is None or not path.exists():
        return None
    key = platform_key(platform)
    try:
        with HistoryStore.open(path, readonly=True) as opened:
            rows = opened.intervals(registry, repository, key)
            reads = opened.snapshots(registry, repository, key)
    except HistoryStoreError as exc:
        log.debug("release dates without history: %s", exc)
        return None
    if not rows:
        return None
    return _summarise(pd.DataFrame.from_records(rows, columns=list(INTERVAL_COLUMNS)), reads)


def _summarise(intervals: pd.DataFrame, reads: list[tuple[int, int, int, bool]]) -> pd.DataFrame:
    """The per-tag summary of one series' intervals and its recorded reads."""
    observed = intervals[intervals["source"] == "observed"]
    registry_kept = intervals[intervals["source"] != "observed"]
    tags = pd.Index(intervals["tag"].unique(), name="tag")
    seen_by = observed.groupby("tag")["first_seen"].min().reindex(tags)
    complete = sorted(taken for taken, _, _, done in reads if done)
    # the last complete read before the first sighting did not list the tag
    after = [_last_before(complete, v) for v in seen_by.tolist()]
    def first(frame: pd.DataFrame, column: str) -> pd.Series:
        return _dates(frame.groupby("tag")[column].min().reindex(tags).reset_index(drop=True))

    return pd.DataFrame(
        {
            "tag": pd.Series(tags, dtype="string"),
            "seen_after": _dates(pd.Series(after, dtype="Int64")),
            "seen_by": _dates(seen_by.reset_index(drop=True)),
            "built_by": _earliest(first(intervals, "created"), first(intervals, "pushed")),
            "pushed_first": first(registry_kept, "first_seen"),
        }
    )


def _earliest(a: pd.Series, b: pd.Series) -> pd.Series:
    """Per row, the earlier of two dates (NaT only where both are)."""
    return a.where(b.isna() | (a <= b), b)


def _last_before(times: list[int], value: Any) -> int | None:
    if value is None or pd.isna(value):
        return None
    earlier = [t for t in times if t < int(value)]
    return earlier[-1] if earlier else None


def sightings_for(
    attrs: Mapping[Any, Any], history: HistoryOption, image: str | None = None
) -> pd.DataFrame | None:
    """:func:`tag_sightings` for the frame whose ``attrs`` these are, as ``history`` asks.

    ``history=None`` uses the store the frame was recorded in
    (``attrs["history"]["store"]``, set by :func:`regframe.read_tags`), if any;
    ``False`` none; ``True`` or a path that store.  ``image`` names the image of a
    several-images frame (whose ``attrs`` do not).
    """
    recorded = attrs.get("history")
    if not isinstance(recorded, dict):
        recorded = {}
    store: bool | str | os.PathLike[str] | None = history
    if history is None:
        store = recorded.get("store")
    if store is None or store is False:
        return None
    registry, repository = attrs.get("registry"), attrs.get("repository")
    if image is not None:
        ref = parse_reference(image)
        registry, repository = ref.domain, ref.repository
    if not registry or not repository:
        return None
    # the platform as given to read_tags (None: the first image of each index)
    platform = recorded.get("platform", "linux/amd64")
    return tag_sightings(str(registry), str(repository), platform, store)
