"""Docker Hub's tags API: every tag of a repository with its per-platform images, 100 a request.

``GET /v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100`` lists each tag's digest
and, per platform image, its digest, compressed size and ``last_pushed``.  ``created`` is the
chosen platform image's **push** time (``created_source`` ``"hub"``), falling back to the
tag's ``tag_last_pushed``, then ``last_updated`` — not the build time in the image config:
official images are rebuilt and re-pushed for base-image updates, so this is when the bytes
last changed on Hub.  ``$REGFRAME_DOCKERHUB_API`` overrides the base URL (tests, mirrors).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from regframe.client.digests import is_digest
from regframe.client.manifests import Descriptor, Index
from regframe.client.paging import Pager
from regframe.client.platforms import Platform, index_platforms, select_child
from regframe.client.tag_apis.shared import (
    MAX_PAGES,
    PAGE_SIZE,
    ApiListing,
    get_json,
    media_type,
    metadata,
    positive_int,
    split_repository,
    text,
)
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Transport
from regframe.errors import TagApiUnusable
from regframe.parsing.reference import Reference
from regframe.parsing.timestamps import rfc3339_ns

__all__ = ["DOCKERHUB_API_ENV", "hub_listing"]

log = logging.getLogger(__name__)

#: Environment variable overriding Docker Hub's API base URL (tests, mirrors).
DOCKERHUB_API_ENV = "REGFRAME_DOCKERHUB_API"
_DOCKERHUB_API = "https://hub.docker.com"


def hub_listing(ref: Reference, want: Platform | None, transport: Transport) -> ApiListing:
    """List every tag of a Docker Hub repository, describing the *want* platform's image.

    Parameters
    ----------
    ref
        A Docker Hub repository (``namespace/name``).
    want
        Which image of a multi-arch tag to describe, matched as
        :func:`regframe.client.platforms.select_child` does; ``None`` takes the first.
    transport
        Sends the (anonymous) requests.

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
    ns, repo = split_repository(ref)
    base = os.environ.get(DOCKERHUB_API_ENV, _DOCKERHUB_API).rstrip("/")
    url = (
        f"{base}/v2/namespaces/{quote(ns, safe='')}/repositories/{quote(repo, safe='')}"
        f"/tags?page_size={PAGE_SIZE}"
    )
    listing = ApiListing("hub")
    pager = Pager("Docker Hub", "tags")
    for _page in range(MAX_PAGES):
        doc = get_json(url, transport)
        listing.requests += 1
        results = doc.get("results")
        if not isinstance(results, list):
            raise TagApiUnusable(
                f"Docker Hub sent 'results' as {type(results).__name__}, not a list"
            )
        for item in results:
            name = text(item.get("name")) if isinstance(item, dict) else None
            if name is not None and name not in listing.rows:
                listing.add(name, _hub_row(item, want))
        link = doc.get("next")
        if link is not None and not isinstance(link, str):
            raise TagApiUnusable(f"Docker Hub sent 'next' as {type(link).__name__}")
        nxt = pager.follow(url, link, count=len(listing.tags))
        if nxt is None:
            return listing
        url = nxt
    raise TagApiUnusable(f"Docker Hub returned more than {MAX_PAGES} pages")


def _hub_row(item: Mapping[str, Any], want: Platform | None) -> TagMetadata:
    raw_images = item.get("images")
    images = [i for i in raw_images if isinstance(i, dict)] if isinstance(raw_images, list) else []
    # Hub images become index descriptors so the platform choice is exactly the
    # registry path's (select_child: arm64 ≡ arm64/v8, attestations skipped).
    children: list[Descriptor] = []
    for image in images:
        os_, arch = text(image.get("os")), text(image.get("architecture"))
        plat = Platform(os_, arch, text(image.get("variant"))) if os_ and arch else None
        digest = image.get("digest")
        children.append(Descriptor("", digest if isinstance(digest, str) else "", 0, plat))
    index = Index("", tuple(children))
    platforms = index_platforms(index) or None
    kind = media_type(item.get("media_type"), item.get("content_type"))
    tag_digest = item.get("digest")
    tag_pushed = rfc3339_ns(item.get("tag_last_pushed")) or rfc3339_ns(item.get("last_updated"))
    if not children:
        # No per-platform entries (very old tags): only the tag's own facts are known.
        return metadata(
            digest=tag_digest, media_type=kind, platforms=None,
            created_ns=tag_pushed, source="hub", size=None,
        )  # fmt: skip
    chosen = select_child(index, want)
    if chosen is None:
        return metadata(
            digest=tag_digest, media_type=kind, platforms=platforms, created_ns=None,
            source="hub", size=None,
            error=f"no image for platform {want or 'any'} (has: {platforms or 'none'})",
        )  # fmt: skip
    image = next(img for img, child in zip(images, children, strict=True) if child is chosen)
    return metadata(
        digest=tag_digest if is_digest(tag_digest) else chosen.digest,
        media_type=kind,
        platforms=platforms,
        created_ns=rfc3339_ns(image.get("last_pushed")) or tag_pushed,
        source="hub",
        size=positive_int(image.get("size")),
    )
