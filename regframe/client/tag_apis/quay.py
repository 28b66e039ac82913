"""Quay's tag API: every tag with its manifest digest, push time and size — and its past.

``GET /api/v1/repository/{ns}/{repo}/tag/?limit=100&page=N&onlyActiveTags=false``.
With ``onlyActiveTags=false`` Quay lists every *revision* of every tag: the active ones
(no ``end_ts``, or one still in the future when an expiry is set) become the rows, the past
ones (``end_ts`` reached: the tag moved away or was deleted) become
:class:`~regframe.client.tag_apis.shared.TagRevision` entries — real push history, which
the history store imports.  ``pushed`` is the tag's ``start_ts`` (``pushed_source``
``"quay"``): when the tag started pointing at its digest, i.e. the push (or retag) that
made it point there — ``last_modified``, the same moment as an HTTP date, when ``start_ts``
is missing.  The API knows no build time, so ``created`` is NA unless ``labels=True`` reads
the image config.  Nor does it list the platforms of a manifest list, so ``platforms`` is
NA.  ``$REGFRAME_QUAY_API`` overrides the base URL (tests, mirrors).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from regframe.client.jobs import JobRunner
from regframe.client.progress import Progress
from regframe.client.tag_apis.shared import (
    MAX_PAGES,
    PAGE_SIZE,
    ApiListing,
    TagRevision,
    get_json,
    get_pages,
    media_type,
    metadata,
    positive_int,
    split_repository,
    text,
)
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Transport
from regframe.errors import RegframeError, TagApiUnusable
from regframe.parsing.reference import Reference
from regframe.parsing.timestamps import epoch_ns, http_date_ns

__all__ = ["QUAY_API_ENV", "quay_listing"]

#: Environment variable overriding Quay's API base URL.
QUAY_API_ENV = "REGFRAME_QUAY_API"
_QUAY_API = "https://quay.io"


def quay_listing(
    ref: Reference, transport: Transport, *, progress: Progress | None = None
) -> ApiListing:
    """List every active tag of a quay.io repository, and the past revisions of every tag.

    Parameters
    ----------
    ref
        A quay.io repository (``namespace/name``).
    transport
        Sends the requests, anonymously (never the registry's credentials); pages are
        fetched ahead, up to ``transport.max_workers`` at a time.
    progress
        Counts one step per page of 100 tag revisions.

    Returns
    -------
    ApiListing
        The active tags as rows (their ``start_ts`` also in ``started``) and the past
        revisions in ``history``.

    Raises
    ------
    TagApiUnusable
        Any HTTP error, unexpected shape, or a server that ignores ``page``.

    Examples
    --------
    >>> from regframe.parsing.reference import parse_reference
    >>> ref = parse_reference("quay.io/prometheus/prometheus")
    >>> quay_listing(ref, Transport()).tags[:2]  # doctest: +SKIP
    """
    ns, repo = split_repository(ref)
    base = os.environ.get(QUAY_API_ENV, _QUAY_API).rstrip("/")
    prefix = f"{base}/api/v1/repository/{quote(ns, safe='')}/{quote(repo, safe='')}/tag/"
    listing = ApiListing("quay")
    now_ns = time.time_ns()
    seen: set[tuple[str, object]] = set()
    runner = JobRunner(transport.max_workers, progress=progress, cancel=transport.cancelled)
    page, ahead = 1, 1
    while page <= MAX_PAGES:
        numbers = list(range(page, min(page + ahead, MAX_PAGES + 1)))
        urls = [f"{prefix}?limit={PAGE_SIZE}&page={n}&onlyActiveTags=false" for n in numbers]
        docs = get_pages(urls, transport, runner, lambda url: get_json(url, transport))
        listing.requests += len(urls)
        for number, doc in zip(numbers, docs, strict=True):
            if isinstance(doc, RegframeError):
                raise doc
            if not _take_page(doc, number, listing, seen, now_ns):
                # Pages fetched ahead of this one are past the end: ignored.
                return listing
        page += len(numbers)
        # Quay names no page count: fetch more pages ahead while it keeps saying
        # has_additional (1, 2, 4, ... up to the worker limit), so a small
        # repository costs no wasted request and a large one few round trips.
        ahead = min(2 * ahead, transport.max_workers)
    raise TagApiUnusable(f"Quay returned more than {MAX_PAGES} pages")


def _take_page(
    doc: Mapping[str, Any],
    page: int,
    listing: ApiListing,
    seen: set[tuple[str, object]],
    now_ns: int,
) -> bool:
    """Add one page's tags and past revisions; ``True`` when Quay says more pages follow."""
    tags = doc.get("tags")
    if not isinstance(tags, list):
        raise TagApiUnusable(f"Quay sent 'tags' as {type(tags).__name__}, not a list")
    echoed = doc.get("page")
    if isinstance(echoed, int) and not isinstance(echoed, bool) and echoed != page:
        raise TagApiUnusable(f"Quay answered page {echoed} when asked for page {page}")
    entries = [(t, text(t.get("name"))) for t in tags if isinstance(t, dict)]
    keys = [(name, t.get("start_ts")) for t, name in entries if name is not None]
    # A server that ignores ``page`` repeats page 1 forever.  A push during
    # listing can shift single revisions across a page boundary, so only a
    # page with nothing new counts as a repeat.
    if page > 1 and keys and all(key in seen for key in keys):
        raise TagApiUnusable(f"Quay page {page} repeats tags already listed")
    for entry, name in entries:
        if name is None or (name, entry.get("start_ts")) in seen:
            continue
        seen.add((name, entry.get("start_ts")))
        end = epoch_ns(entry.get("end_ts"), "s")
        if end is not None and end <= now_ns:
            revision = _revision(name, entry, end)
            if revision is not None:
                listing.history.append(revision)
            continue
        if name not in listing.rows:
            listing.add(name, _quay_row(entry))
            start = epoch_ns(entry.get("start_ts"), "s")
            if start is not None:
                listing.started[name] = start
    if doc.get("has_additional") is not True:
        return False
    if not keys:
        raise TagApiUnusable(f"Quay page {page} is empty but claims more pages")
    return True


def _revision(name: str, entry: Mapping[str, Any], end: int) -> TagRevision | None:
    """A past revision, when it names a digest and a start before its end."""
    start = epoch_ns(entry.get("start_ts"), "s")
    row = _quay_row(entry)
    if row.digest is None or start is None or start > end:
        return None
    return TagRevision(name, row.digest, start, end)


def _quay_row(entry: Mapping[str, Any]) -> TagMetadata:
    is_list = entry.get("is_manifest_list") is True
    pushed = epoch_ns(entry.get("start_ts"), "s")
    if pushed is None:
        pushed = http_date_ns(entry.get("last_modified"))
    return metadata(
        digest=entry.get("manifest_digest"),
        # The tag API does not name the media type; is_manifest_list alone
        # cannot tell OCI from Docker.
        media_type=media_type(entry.get("media_type"), entry.get("manifest_media_type")),
        platforms=None,
        pushed_ns=pushed,
        source="quay",
        # Quay reports null for manifest lists; a list has no single size anyway.
        size=None if is_list else positive_int(entry.get("size")),
    )
