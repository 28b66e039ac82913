"""Docker Hub's tags API: every tag of a repository with its per-platform images, 100 a request.

``GET /v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100`` lists each tag's digest
and, per platform image, its digest, compressed size and ``last_pushed``.

The API knows push times only, never the build time in the image config, so a tag read
here has ``pushed`` (``pushed_source`` ``"hub"``) and an NA ``created``; ``labels=True``
reads the config and adds the build time.  Of the three times Hub gives, ``pushed`` is the
tag's own ``tag_last_pushed``: when *this tag* was last pushed.  The image's
``last_pushed`` belongs to the digest, and moves whenever any tag pushes that digest again
(a real listing: ``1.2.1`` pushed at 19:55:17.37, ``latest`` with the same image at
19:55:18.44, and both images say 19:55:18.44), so it is only the last resort, after
``last_updated`` (the tag's time under its older name; Hub reports both null for tags
pushed before about 2015).  All three are *last* pushes: an official image rebuilt and
re-pushed under the same tag for a base-image update moves them.
``$REGFRAME_DOCKERHUB_API`` overrides the base URL (tests, mirrors).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from regframe.client.digests import is_digest
from regframe.client.jobs import JobRunner
from regframe.client.manifests import Descriptor, Index
from regframe.client.paging import Pager
from regframe.client.platforms import Platform, index_platforms, select_child
from regframe.client.progress import Progress
from regframe.client.tag_apis import shared
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Transport
from regframe.errors import RegframeError, TagApiUnusable
from regframe.parsing.reference import Reference
from regframe.parsing.timestamps import rfc3339_ns

__all__ = ["DOCKERHUB_API_ENV", "hub_listing"]

#: Environment variable overriding Docker Hub's API base URL (tests, mirrors).
DOCKERHUB_API_ENV = "REGFRAME_DOCKERHUB_API"
_DOCKERHUB_API = "https://hub.docker.com"


def hub_listing(
    ref: Reference,
    want: Platform | None,
    transport: Transport,
    *,
    progress: Progress | None = None,
) -> shared.ApiListing:
    """List every tag of a Docker Hub repository, describing the *want* platform's image.

    Page 1 says how many tags there are (``count``); the other pages are then fetched
    concurrently, up to ``transport.max_workers`` at a time (the transport halves that
    for the host on HTTP 429).  Should the repository grow while it is listed, the last
    page's ``next`` link is followed one page at a time.

    Parameters
    ----------
    ref
        A Docker Hub repository (``namespace/name``).
    want
        Which image of a multi-arch tag to describe, matched as
        :func:`regframe.client.platforms.select_child` does; ``None`` takes the first.
    transport
        Sends the (anonymous) requests.
    progress
        Counts one step per page.

    Returns
    -------
    ApiListing

    Raises
    ------
    TagApiUnusable
        Any HTTP error, unexpected shape, pagination loop or link to another host.

    Examples
    --------
    >>> from regframe.parsing.reference import parse_reference
    >>> hub_listing(parse_reference("python"), None, Transport())  # doctest: +SKIP
    """
    ns, repo = shared.split_repository(ref)
    base = os.environ.get(DOCKERHUB_API_ENV, _DOCKERHUB_API).rstrip("/")
    url = (
        f"{base}/v2/namespaces/{quote(ns, safe='')}/repositories/{quote(repo, safe='')}"
        f"/tags?page_size={shared.PAGE_SIZE}"
    )
    reader = _HubReader(shared.ApiListing("hub"), want, transport, progress)
    page, nxt = reader.one(url)
    rest = _page_urls(nxt, page.count)
    if nxt is not None and rest:
        last = reader.concurrently(rest)
        if last is None:  # the listing shrank while we read it: nothing after this
            return reader.listing
        nxt = reader.next_url(*last)
    # One page after another: the repository grew while it was listed, or page 1 named
    # no count or a next link without a page number.
    for _page in range(shared.MAX_PAGES):
        if nxt is None:
            return reader.listing
        _, nxt = reader.one(nxt)
    raise TagApiUnusable(f"Docker Hub returned more than {shared.MAX_PAGES} pages")


@dataclass
class _HubPage:
    """One page of the tags API, already turned into rows."""

    rows: list[tuple[str, TagMetadata]]
    next: object
    count: object


@dataclass
class _HubReader:
    """Reads pages of one listing into ``listing``, counting requests and progress steps."""

    listing: shared.ApiListing
    want: Platform | None
    transport: Transport
    progress: Progress | None
    pager: Pager = field(default_factory=lambda: Pager("Docker Hub", "tags"))

    def one(self, url: str) -> tuple[_HubPage, str | None]:
        """Read the page at ``url``; return it and the URL of the page after it."""
        page = _read_page(shared.get_json(url, self.transport), self.want)
        self.listing.requests += 1
        if self.progress is not None:
            self.progress.step()
        self.listing.extend(page.rows)
        return page, self.next_url(url, page)

    def concurrently(self, urls: list[str]) -> tuple[str, _HubPage] | None:
        """Read ``urls`` at once and keep their rows in order; the last URL and page.

        ``None`` when a page was gone (404: the listing shrank), so nothing follows it.
        """
        runner = JobRunner(
            self.transport.max_workers, progress=self.progress, cancel=self.transport.cancelled
        )

        def read(page_url: str) -> _HubPage | None:
            doc = shared.get_json(page_url, self.transport, missing_ok=True)
            return None if doc is None else _read_page(doc, self.want)

        pages = shared.get_pages(urls, self.transport, runner, read)
        self.listing.requests += len(urls)
        for page_url in urls:
            self.pager.follow(page_url, None)  # fetched: a next link back to it is a loop
        last: tuple[str, _HubPage] | None = None
        for page_url, result in zip(urls, pages, strict=True):
            if result is None:
                return None
            if isinstance(result, RegframeError):
                raise result
            self.listing.extend(result.rows)
            last = (page_url, result)
        return last

    def next_url(self, url: str, page: _HubPage) -> str | None:
        """The page after ``url`` from its ``next`` field (checked for origin and loops)."""
        link = page.next
        if link is not None and not isinstance(link, str):
            raise TagApiUnusable(f"Docker Hub sent 'next' as {type(link).__name__}")
        return self.pager.follow(url, link, count=len(self.listing.tags))


def _read_page(doc: Mapping[str, Any], want: Platform | None) -> _HubPage:
    results = doc.get("results")
    if not isinstance(results, list):
        raise TagApiUnusable(f"Docker Hub sent 'results' as {type(results).__name__}, not a list")
    rows = []
    for item in results:
        name = shared.text(item.get("name")) if isinstance(item, dict) else None
        if name is not None:
            rows.append((name, _hub_row(item, want)))
    return _HubPage(rows, doc.get("next"), doc.get("count"))


def _page_urls(nxt: str | None, count: object) -> list[str]:
    """URLs of pages 2..last when page 1's next link numbers pages and ``count`` is known."""
    if nxt is None or not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return []
    parts = urlsplit(nxt)
    query = parse_qsl(parts.query, keep_blank_values=True)
    values = dict(query)
    size = values.get("page_size", "")
    if values.get("page") != "2" or not size.isdigit() or int(size) < 1:
        return []
    last = -(-count // int(size))
    if last > shared.MAX_PAGES:
        raise TagApiUnusable(f"Docker Hub counts {count} tags: more than {shared.MAX_PAGES} pages")

    def numbered(n: int) -> str:
        q = [(k, str(n) if k == "page" else v) for k, v in query]
        return urlunsplit(parts._replace(query=urlencode(q)))

    return [nxt] + [numbered(n) for n in range(3, last + 1)]


def _hub_row(item: Mapping[str, Any], want: Platform | None) -> TagMetadata:
    raw_images = item.get("images")
    images = [i for i in raw_images if isinstance(i, dict)] if isinstance(raw_images, list) else []
    kind = shared.media_type(item.get("media_type"), item.get("content_type"))
    tag_digest = item.get("digest")
    if not images:
        # No per-platform entries (very old tags): only the tag's own facts are known.
        return shared.metadata(
            digest=tag_digest, media_type=kind, platforms=None,
            pushed_ns=_tag_pushed(item), source="hub", size=None,
        )  # fmt: skip
    text = shared.text
    platforms_of = tuple(
        (text(i.get("os")), text(i.get("architecture")), text(i.get("variant"))) for i in images
    )
    position, platforms = _choose(platforms_of, want)
    if position is None:
        return shared.metadata(
            digest=tag_digest, media_type=kind, platforms=platforms, source="hub", size=None,
            error=f"no image for platform {want or 'any'} (has: {platforms or 'none'})",
        )  # fmt: skip
    image = images[position]
    image_digest = image.get("digest")
    return shared.metadata(
        digest=tag_digest if is_digest(tag_digest) else image_digest,
        media_type=kind,
        platforms=platforms,
        # The tag's own push first: the image's moves with every push of its digest.
        pushed_ns=_tag_pushed(item) or rfc3339_ns(image.get("last_pushed")),
        source="hub",
        size=shared.positive_int(image.get("size")),
    )


def _tag_pushed(item: Mapping[str, Any]) -> int | None:
    return rfc3339_ns(item.get("tag_last_pushed")) or rfc3339_ns(item.get("last_updated"))


@functools.lru_cache(maxsize=1024)
def _choose(
    platforms_of: tuple[tuple[str | None, str | None, str | None], ...], want: Platform | None
) -> tuple[int | None, str | None]:
    """Which image of a tag to describe, and the tag's platforms, decided once per platform set.

    Hub images become index descriptors so the choice is exactly the registry path's
    (select_child: arm64 ≡ arm64/v8, attestations skipped).  A repository's tags
    mostly share one set of platforms, so this runs a handful of times per listing.
    """
    children = tuple(
        Descriptor("", "", 0, Platform(os_, arch, variant) if os_ and arch else None)
        for os_, arch, variant in platforms_of
    )
    index = Index("", children)
    chosen = select_child(index, want)
    position = next((i for i, c in enumerate(children) if c is chosen), None)
    return position, index_platforms(index) or None
