"""``dates=True`` for a tags frame: follow every tag's manifest chain, then add the columns.

:func:`add_metadata` runs a :class:`~regframe.frame.chains.Resolver` over the tags a
registry's tag API did not describe already, completes those it did (``labels=True``),
takes listed push times where the walk reached the listed digest, and assembles the
``dates=True`` columns; one tag's failure is that row's ``error``.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, replace

import pandas as pd

from regframe.client.cache import DigestCache
from regframe.client.progress import Progress, ProgressOption
from regframe.client.registry import RegistryClient
from regframe.client.tag_metadata import TagMetadata
from regframe.errors import (
    AuthenticationError,
    MetadataWarning,
    RateLimitError,
)
from regframe.frame.chains import LABEL_KEYS, Resolver, TagLookup
from regframe.frame.columns import assemble_metadata

__all__ = [
    "LABEL_KEYS",
    "ListedPush",
    "Resolver",
    "add_metadata",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedPush:
    """A push time a tag listing gave for the digest a tag pointed at when it was listed.

    Examples
    --------
    >>> ListedPush("sha256:" + "c" * 64, 1583475321879000000, "gcr").source
    'gcr'
    """

    digest: str
    pushed_ns: int
    source: str


def add_metadata(
    df: pd.DataFrame,
    client: RegistryClient,
    *,
    platform: str | None = "linux/amd64",
    cache: bool | str | os.PathLike[str] = True,
    progress: ProgressOption | Progress = None,
    max_workers: int = 16,
    prefetched: dict[str, TagMetadata] | None = None,
    labels: bool = False,
    pushes: dict[str, ListedPush] | None = None,
) -> pd.DataFrame:
    """Add the ``dates=True`` columns (and with ``labels`` the label columns) to a tags frame.

    Parameters
    ----------
    df
        A frame with a ``tag`` column (from :func:`regframe.parse_tags`).
    client
        An open :class:`~regframe.client.registry.RegistryClient` for the repository.
    platform, cache, progress, max_workers
        As in :func:`regframe.read_tags`.
    prefetched
        Per-tag facts already known from a registry's own tag API; those tags are not
        requested again (with ``labels``, only their images' manifests and configs are
        read, each digest once, and the config's build time fills ``created``).
    labels
        Also add ``revision, source, image_version, labels``.
    pushes
        Push times a listing gave for tags it left to the walk (GCR's manifest lists): a
        walked tag takes its ``pushed`` only when the walk reached the listed digest, so
        a tag moved since the listing never shows the other digest's time.

    Returns
    -------
    pandas.DataFrame
        ``df`` with ``digest, media_type, platforms, created, created_source, pushed,
        pushed_source, size, resolves_to, error, date_note, attested`` appended.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.read_tags("localhost:5000/app", dates=True)  # doctest: +SKIP
    >>> df[["tag", "created", "resolves_to"]]  # doctest: +SKIP
    """
    tags = [str(t) for t in df["tag"].tolist()]
    wanted = set(tags)  # once: a set per item made this quadratic (20 s for 10,000 tags)
    prefetched = {t: m for t, m in (prefetched or {}).items() if t in wanted}
    with DigestCache.from_option(cache) as store:
        resolver = Resolver(client, platform=platform, store=store, labels=labels)
        resolver.resolve(
            [t for t in tags if t not in prefetched], max_workers=max_workers, progress=progress
        )
        if labels and prefetched:
            prefetched = _with_labels(resolver, prefetched, max_workers, progress)
    pushes = pushes or {}
    rows = [
        prefetched[t] if t in prefetched else _with_push(t, resolver.metadata_for(t), pushes.get(t))
        for t in tags
    ]
    out = assemble_metadata(df, rows, labels=labels)
    _raise_if_all_failed(out, resolver.lookups)
    failed = int(out["error"].notna().sum())
    if failed:
        warnings.warn(
            f"{failed} of {len(out)} tags could not be fully described; see the 'error' column",
            MetadataWarning,
            stacklevel=3,
        )
    return out


def _with_push(tag: str, meta: TagMetadata, listed: ListedPush | None) -> TagMetadata:
    """``meta`` with the listed push time, when the walk found the digest that was listed."""
    if listed is None or meta.pushed_ns is not None:
        return meta
    if meta.digest != listed.digest:
        log.debug("tag %s moved from %s to %s after it was listed: no %s push time", tag,
                  listed.digest[:19], (meta.digest or "nothing")[:19], listed.source)  # fmt: skip
        return meta
    return replace(meta, pushed_ns=listed.pushed_ns, pushed_source=listed.source)


def _with_labels(
    resolver: Resolver,
    prefetched: dict[str, TagMetadata],
    max_workers: int,
    progress: ProgressOption | Progress,
) -> dict[str, TagMetadata]:
    """Tag-API facts completed with labels read from each unique digest's image config."""
    digests = list(dict.fromkeys(m.digest for m in prefetched.values() if m.digest))
    resolver.walk_digests(digests, max_workers=max_workers, progress=progress)
    out: dict[str, TagMetadata] = {}
    for tag, meta in prefetched.items():
        walked = resolver.walk_for(meta.digest) if meta.digest else None
        if walked is None:
            out[tag] = meta
            continue
        # The tag API's push time stays; the walk adds what only the image itself knows,
        # its build time first (a config's ``created`` outranks GCR's copy of it).
        built = walked.created_ns is not None
        out[tag] = replace(
            meta,
            created_ns=walked.created_ns if built else meta.created_ns,
            created_source=walked.created_source if built else meta.created_source,
            platforms=meta.platforms or walked.platforms,
            attested=walked.attested,
            labels=walked.labels,
            revision=walked.revision,
            source=walked.source,
            image_version=walked.image_version,
            error=meta.error or walked.error,
        )
    return out


def _raise_if_all_failed(out: pd.DataFrame, results: dict[str, TagLookup]) -> None:
    """When no tag at all could be resolved for an account-level reason, raise that reason.

    A frame in which every row says "rate limited" or "not authorized" hides
    the one thing the user must act on; per-tag problems (a missing manifest,
    a bad digest) still come back as rows.
    """
    if out.empty or not results or any(r.exc is None for r in results.values()):
        return
    first = next(iter(results.values())).exc
    if isinstance(first, AuthenticationError | RateLimitError) and all(
        type(r.exc) is type(first) for r in results.values()
    ):
        raise first
