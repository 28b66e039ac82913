"""One repository's read, step by step: the store, the source, the tags, their facts, the record.

:func:`read_one` is ``read_tags`` for one image after its arguments were checked
(:mod:`regframe.frame.options`); :mod:`regframe.frame.many` calls it once per image.
Each step a reader names has one function here:

1. :func:`_from_store` — with ``max_age=``, the history store may answer alone;
2. :func:`_open_source` — **where the tags come from**: a registry's own tag API (the
   fast paths of :mod:`regframe.client.tag_apis`: Docker Hub's and Quay's before any
   ping, the APIs beside Harbor, GitLab, ACR, GHCR and ECR Public once the ping's
   challenge named the product) or the registry itself, and with it the
   :class:`~regframe.client.registry.RegistryClient` (pinged, or offline when Hub or
   Quay described everything);
3. :func:`_list_tags` — the tag names, and the facts a listing already gave;
4. :func:`_select_tags` — parse, sort, and **filter** (``match=``, ``versions=``) before
   any manifest request;
5. :func:`_describe_tags` — the ``dates=True`` columns (:mod:`regframe.frame.resolve`);
6. :func:`_finish` — ``df.attrs``, the read recorded in the history store, and dates that
   cannot be right dropped (:mod:`regframe.frame.plausible`).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from regframe.client.progress import Progress, ProgressOption
from regframe.client.registry import RegistryClient
from regframe.client.tag_apis import (
    ApiListing,
    fetch_listing,
    fetch_registry_listing,
    gcr_index_pushes,
    gcr_rows,
)
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Transport
from regframe.frame.columns import TAG_COLUMNS, assemble_metadata
from regframe.frame.history import frame_from_store, record_frame
from regframe.frame.history_store import Revision
from regframe.frame.options import Options
from regframe.frame.plausible import flag_implausible_dates
from regframe.frame.resolve import ListedPush, add_metadata
from regframe.parsing.reference import Reference
from regframe.parsing.versions import parse_tags, sort_tags

__all__ = ["empty_tags_frame", "read_one", "with_image"]

log = logging.getLogger(__name__)


def read_one(
    ref: Reference,
    transport: Transport,
    options: Options,
    *,
    progress: ProgressOption | Progress = None,
) -> pd.DataFrame:
    """Read one repository through ``transport`` (closed afterwards) with validated ``options``.

    :func:`~regframe.frame.read.read_tags` for one image, after its arguments were
    checked; the several-images path (:mod:`regframe.frame.many`) calls it once per image.

    Examples
    --------
    >>> from regframe.client.transport import Transport
    >>> from regframe.frame.options import Options
    >>> from regframe.parsing.reference import parse_reference
    >>> read_one(parse_reference("localhost:5000/app"), Transport(),  # doctest: +SKIP
    ...          Options.validated(dates=True))
    """
    if options.max_age is not None:
        stored = _from_store(ref, options)
        if stored is not None:
            transport.close()
            return stored
    steps = Progress.of(progress)
    try:
        client, listing = _open_source(ref, transport, options, steps)
    except BaseException:
        transport.close()
        steps.close()
        raise
    try:
        tags, prefetched, pushes = _list_tags(ref, client, listing, options, steps)
        df = _select_tags(tags, options)
        if options.dates:
            df = _describe_tags(df, client, prefetched, pushes, options, steps)
    finally:
        client.close()
        steps.close()
    return _finish(df, ref, options, listing)


def _open_source(
    ref: Reference, transport: Transport, options: Options, steps: Progress
) -> tuple[RegistryClient, ApiListing | None]:
    """The client to read ``ref`` with, and the registry tag API's listing when one answered.

    The one place that chooses between a registry's own tag API and the registry.
    """
    listing = None
    if options.dates:
        # Docker Hub and Quay describe 100 tags per request in their own APIs;
        # None (not applicable, private, API down) falls back to the registry.
        listing = fetch_listing(ref, platform=options.want, transport=transport, progress=steps)
    if listing is not None and not options.labels:
        # Every tag is prefetched, so add_metadata sends nothing: the client
        # only names the repository and needs no ping (nor credentials).
        return RegistryClient.offline(ref, transport), listing
    client = RegistryClient.open(ref, transport, auth=options.auth, insecure=options.insecure)
    if options.dates and listing is None:
        # Harbor, GitLab, ACR, GHCR and ECR Public say who they are in the ping's
        # challenge; their APIs then list every tag with its facts.
        listing = fetch_registry_listing(
            client, platform=options.want, progress=steps, credentials=options.auth
        )
    return client, listing


def _list_tags(
    ref: Reference,
    client: RegistryClient,
    listing: ApiListing | None,
    options: Options,
    steps: Progress,
) -> tuple[list[str], dict[str, TagMetadata], dict[str, ListedPush]]:
    """Every tag name, the facts of tags the listing described, push times of tags it did not.

    The second item is ``tag → facts``, the third ``tag → push time`` for tags left to the
    manifest walk (GCR's manifest lists).
    """
    if listing is not None:
        log.debug("%s: %d tags from the %s tag API", ref, len(listing.tags), listing.source)
        return listing.tags, listing.rows, {}
    found = client.list_tags(progress=steps)
    if not options.dates:
        return found.tags, {}, {}
    # GCR and Artifact Registry describe their tags in the tag list itself; a tag on a
    # manifest list is walked for its build time and keeps the list's upload time.
    prefetched = gcr_rows(found.gcr_manifests, platform=options.want)
    pushes = {
        tag: ListedPush(digest, pushed_ns, "gcr")
        for tag, (digest, pushed_ns) in gcr_index_pushes(found.gcr_manifests).items()
    }
    log.debug("%s: %d tags listed, %d described by the listing, %d with a listed push time",
              ref, len(found.tags), len(prefetched), len(pushes))  # fmt: skip
    return found.tags, prefetched, pushes


def _select_tags(tags: list[str], options: Options) -> pd.DataFrame:
    """The tags frame in version order, filtered as asked.

    Filters run here, before any manifest request: they decide what is worth asking about.
    """
    df = parse_tags(pd.Series(tags, dtype="string"))
    df = sort_tags(df).reset_index(drop=True)
    df = options.select(df)
    return df


def _describe_tags(
    df: pd.DataFrame,
    client: RegistryClient,
    prefetched: dict[str, TagMetadata],
    pushes: dict[str, ListedPush],
    options: Options,
    steps: Progress,
) -> pd.DataFrame:
    """``df`` with the ``dates=True`` (and ``labels=True``) columns.

    ``prefetched`` are the facts of the tags the listing described, ``pushes`` the push
    times it gave for tags it left to the walk.
    """
    return add_metadata(
        df,
        client,
        platform=options.platform,
        cache=options.cache,
        progress=steps,
        max_workers=options.max_workers,
        prefetched=prefetched or None,
        labels=options.labels,
        pushes=pushes or None,
    )


def _finish(
    df: pd.DataFrame, ref: Reference, options: Options, listing: ApiListing | None
) -> pd.DataFrame:
    """Name the repository in ``df.attrs`` and record a ``dates=True`` read in the store."""
    fetched_at = pd.Timestamp.now(tz="UTC")
    df.attrs.update(
        registry=ref.domain,
        repository=ref.repository,
        reference=str(ref),
        fetched_at=fetched_at,
    )
    if options.dates:
        record_frame(
            df,
            registry=ref.domain,
            repository=ref.repository,
            platform=options.platform,
            history=options.history,
            seen=fetched_at,
            # A filtered read saw only some tags: the others are not gone.
            complete=not options.filtered,
            # Registries that keep history (Quay) say since when each tag points where.
            **(_registry_history(listing) if listing is not None else {}),
        )
        # After recording: the store keeps the dates as read, and is checked on the way out.
        flag_implausible_dates(df, read_at=fetched_at)
    return df


def _registry_history(listing: ApiListing) -> dict[str, Any]:
    """``record_frame`` arguments for a tag API that reports start times and past revisions."""
    if not listing.started and not listing.history:
        return {}
    revisions = [
        Revision(r.tag, r.digest, r.start, r.end, source=listing.source) for r in listing.history
    ]
    return {"since": dict(listing.started), "revisions": revisions, "source": listing.source}


def _from_store(ref: Reference, options: Options) -> pd.DataFrame | None:
    """The frame as recorded less than ``max_age`` ago, filtered as asked, or ``None``."""
    assert options.max_age is not None
    if options.labels:
        return None  # the store keeps digests and dates, not labels: read them
    stored = frame_from_store(
        registry=ref.domain,
        repository=ref.repository,
        platform=options.platform,
        history=options.history,
        max_age=options.max_age,
    )
    if stored is None:
        return None
    snapshot = stored.attrs["history_snapshot"]
    out = stored if options.dates else stored.loc[:, TAG_COLUMNS].copy()
    out = options.select(out)
    out = out.reset_index(drop=True)
    out.attrs = {
        "registry": ref.domain,
        "repository": ref.repository,
        "reference": str(ref),
        "fetched_at": snapshot,
    }
    return out


def empty_tags_frame(
    *, dates: bool = False, labels: bool = False, image: bool = False
) -> pd.DataFrame:
    """A tags frame with every column and no rows (what a repository without tags gives).

    ``image=True`` adds the leading ``image`` column of a several-images frame.

    Examples
    --------
    >>> list(empty_tags_frame(dates=True).columns[-3:])
    ['error', 'date_note', 'attested']
    >>> list(empty_tags_frame(image=True).columns[:2])
    ['image', 'tag']
    """
    df = parse_tags(pd.Series([], dtype="string"))
    if dates:
        df = assemble_metadata(df, [], labels=labels)
    return with_image(df, "") if image else df


def with_image(df: pd.DataFrame, image: str) -> pd.DataFrame:
    """A copy of ``df`` led by an ``image`` column holding ``image`` on every row.

    Examples
    --------
    >>> with_image(pd.DataFrame({"tag": ["1.0"]}), "python").to_dict("records")
    [{'image': 'python', 'tag': '1.0'}]
    """
    out = df.copy()
    out.insert(0, "image", pd.Series([image] * len(out), index=out.index, dtype="string"))
    return out
