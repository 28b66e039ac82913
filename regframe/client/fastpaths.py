"""Registry fast paths for ``dates=True``: one request per 100 tags instead of 2–3 per tag.

Some registries describe every tag in their own listing APIs (DESIGN §3 "Fast
paths"), so the per-tag manifest chain of :mod:`regframe.frame.resolve` can be
skipped entirely:

* **Docker Hub** — ``GET /v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100``
  lists each tag's digest and, per platform image, its digest, compressed size
  and ``last_pushed``.
* **Quay** — ``GET /api/v1/repository/{ns}/{repo}/tag/?limit=100&page=N&onlyActiveTags=true``
  lists each tag's manifest digest, ``start_ts`` and (for single images) size.
* **GCR / Artifact Registry** — the ordinary ``tags/list`` answer carries a
  ``manifest`` map with creation/upload times and sizes; :func:`gcr_rows`
  turns that map into rows (it needs no request of its own).

What the dates mean differs from the registry path, and the ``created_source``
column says which one a row has:

* ``hub``: the platform image's **push** time (``last_pushed``), falling back
  to the tag's push time — *not* the build time in the image config.  Official
  images are rebuilt and re-pushed for base-image updates, so this is when the
  bytes last changed on Hub.
* ``quay``: the tag's push time (``start_ts``).  Quay's tag API does not list
  the platforms of a manifest list, so ``platforms`` is NA and, for a manifest
  list, ``created`` is the list's push time rather than one platform's.
* ``gcr``: GCR's ``timeCreatedMs`` (the config's build time) when it is set;
  Artifact Registry reports ``"0"`` there, and then ``timeUploadedMs`` (push
  time) is used.

The Hub and Quay APIs are queried anonymously, never with the registry
credentials: a private repository answers 401/403/404 and :func:`fetch_listing`
returns ``None``, so the caller falls back to the authenticated registry path.
Every failure of a fast path (HTTP errors after the transport's retries,
non-JSON, unexpected shapes, pagination loops, links to another host) is
logged at debug level and ends in that same fallback; none of them raises.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pandas as pd

from regframe.client.manifests import (
    INDEX_MEDIA_TYPES,
    Descriptor,
    Index,
    Platform,
    index_platforms,
    is_digest,
    parse_created,
    select_child,
    timestamp_from_epoch,
)
from regframe.client.transport import Transport, origin_of
from regframe.errors import RegistryError
from regframe.parsing.reference import Reference

__all__ = [
    "DOCKERHUB_API_ENV",
    "MAX_PAGES",
    "MAX_PAGE_BYTES",
    "PAGE_SIZE",
    "QUAY_API_ENV",
    "FastListing",
    "fetch_listing",
    "gcr_rows",
]

log = logging.getLogger("regframe")

#: Environment variable overriding Docker Hub's API base URL (tests, mirrors).
DOCKERHUB_API_ENV = "REGFRAME_DOCKERHUB_API"
#: Environment variable overriding Quay's API base URL.
QUAY_API_ENV = "REGFRAME_QUAY_API"
_DOCKERHUB_API = "https://hub.docker.com"
_QUAY_API = "https://quay.io"
#: Both APIs cap a page at 100 entries.
PAGE_SIZE = 100
#: A page of 100 Hub tags with a dozen images each is ~200 KiB; 8 MiB leaves
#: ample room while still bounding a hostile or broken answer.
MAX_PAGE_BYTES = 8 * 1024 * 1024
#: 200,000 tags — beyond any real repository, but a stop for endless pagination.
MAX_PAGES = 2_000
#: The columns :func:`regframe.frame.resolve.add_metadata` reads from a prefetched row.
ROW_KEYS = ("digest", "media_type", "platforms", "created", "created_source", "size", "error")

_MEDIA_TYPE_RE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")


@dataclass
class FastListing:
    """Every tag of a repository with its ``dates=True`` facts, from one fast path.

    Attributes
    ----------
    source
        ``"hub"`` or ``"quay"``.
    tags
        Tag names in the order the API listed them, without duplicates.
    rows
        ``tag → {digest, media_type, platforms, created, created_source, size,
        error}``, ready for ``add_metadata(..., prefetched=rows)``.
    requests
        HTTP requests the listing took (one per page of 100 tags).
    """

    source: str
    tags: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0


class _Unusable(Exception):
    """The fast path does not apply or failed; the message says why (for the debug log)."""


def fetch_listing(
    ref: Reference, *, platform: Platform | None, transport: Transport
) -> FastListing | None:
    """List every tag of a Docker Hub or Quay repository with its metadata, 100 tags a request.

    Docker Hub's ``created`` is the selected platform image's ``last_pushed``
    — its **push** time, not the build time recorded in the image config —
    then the tag's ``tag_last_pushed``, then ``last_updated``.  Quay's is the
    tag's ``start_ts`` (push time) and its rows have no ``platforms``, because
    Quay's tag API does not list them.  The APIs are asked anonymously.

    Parameters
    ----------
    ref
        The repository.  Only Docker Hub (``ref.is_docker_hub``) and
        ``quay.io`` have a fast path; the API base URLs can be overridden with
        ``$REGFRAME_DOCKERHUB_API`` and ``$REGFRAME_QUAY_API``.
    platform
        Which image of a multi-arch tag to describe (Docker Hub), matched as
        :func:`regframe.client.manifests.select_child` does (``arm64`` ≡
        ``arm64/v8``); ``None`` takes the first real image.
    transport
        Sends the requests (bounded reads, retries, safe redirects).

    Returns
    -------
    FastListing or None
        ``None`` when no fast path applies to ``ref`` or the API could not be
        used (HTTP error after retries, non-JSON, unexpected shape, a
        pagination loop or a link to another host); the reason is logged at
        debug level and the caller should fall back to the registry path.

    Examples
    --------
    >>> from regframe.parsing.reference import parse_reference
    >>> from regframe.client.manifests import parse_platform
    >>> from regframe.client.transport import Transport
    >>> listing = fetch_listing(parse_reference("python"),  # doctest: +SKIP
    ...                         platform=parse_platform("linux/amd64"), transport=Transport())
    >>> listing.rows["3.12.1"]["created_source"]  # doctest: +SKIP
    'hub'
    """
    try:
        if ref.is_docker_hub:
            return _hub_listing(ref, platform, transport)
        if ref.registry == "quay.io":
            return _quay_listing(ref, transport)
    except (_Unusable, RegistryError) as exc:
        log.debug("fast path for %s not used, falling back to the registry: %s", ref.name, exc)
    return None


# --------------------------------------------------------------------------- shared


def _split_repository(ref: Reference) -> tuple[str, str]:
    parts = ref.repository.split("/")
    if len(parts) != 2:
        # Both APIs address repositories as exactly namespace/name.
        raise _Unusable(f"repository {ref.repository!r} is not namespace/name")
    return parts[0], parts[1]


def _get_json(url: str, transport: Transport) -> dict[str, Any]:
    reply = transport.request(
        "GET", url, headers={"Accept": "application/json"}, limit=MAX_PAGE_BYTES
    )
    where = _no_query(url)
    if reply.status != 200:
        raise _Unusable(f"HTTP {reply.status} from {where}")
    try:
        doc = json.loads(reply.body)
    except (ValueError, RecursionError):
        raise _Unusable(f"{where} did not answer JSON") from None
    if not isinstance(doc, dict):
        raise _Unusable(f"{where} answered a JSON {type(doc).__name__}, not an object")
    return doc


def _no_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _text(value: object) -> str | None:
    """A non-blank string as sent, else None."""
    return value if isinstance(value, str) and value.strip() else None


def _media_type(*candidates: object) -> str | None:
    # Hub's ``content_type`` is a word such as "image", not a media type.
    for value in candidates:
        if isinstance(value, str) and _MEDIA_TYPE_RE.fullmatch(value.strip()):
            return value.strip()
    return None


def _positive_int(value: object) -> int | None:
    """Sizes arrive as ints (Hub, Quay) or digit strings (GCR); 0 means unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and value > 0:
        return value
    return None


def _row(
    *,
    digest: object,
    media_type: str | None,
    platforms: str | None,
    created: pd.Timestamp | None,
    source: str,
    size: int | None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "digest": digest if is_digest(digest) else None,
        "media_type": media_type,
        "platforms": platforms,
        "created": created,
        "created_source": source if created is not None else None,
        "size": size,
        "error": error,
    }


# --------------------------------------------------------------------------- Docker Hub


def _hub_listing(ref: Reference, want: Platform | None, transport: Transport) -> FastListing:
    ns, repo = _split_repository(ref)
    base = os.environ.get(DOCKERHUB_API_ENV, _DOCKERHUB_API).rstrip("/")
    url = (
        f"{base}/v2/namespaces/{quote(ns, safe='')}/repositories/{quote(repo, safe='')}"
        f"/tags?page_size={PAGE_SIZE}"
    )
    listing = FastListing("hub")
    seen: set[str] = set()
    for _page in range(MAX_PAGES):
        seen.add(url)
        doc = _get_json(url, transport)
        listing.requests += 1
        results = doc.get("results")
        if not isinstance(results, list):
            raise _Unusable(f"Docker Hub sent 'results' as {type(results).__name__}, not a list")
        for item in results:
            name = _text(item.get("name")) if isinstance(item, dict) else None
            if name is None or name in listing.rows:
                continue
            listing.tags.append(name)
            listing.rows[name] = _hub_row(item, want)
        nxt = doc.get("next")
        if nxt is None or nxt == "":
            return listing
        if not isinstance(nxt, str):
            raise _Unusable(f"Docker Hub sent 'next' as {type(nxt).__name__}")
        nxt = urljoin(url, nxt)
        if origin_of(nxt) != origin_of(base):
            raise _Unusable(
                f"Docker Hub's next page is on another host or scheme ({_no_query(nxt)})"
            )
        if nxt in seen:
            raise _Unusable(f"Docker Hub pagination loops after {len(listing.tags)} tags")
        url = nxt
    raise _Unusable(f"Docker Hub returned more than {MAX_PAGES} pages")


def _hub_row(item: Mapping[str, Any], want: Platform | None) -> dict[str, Any]:
    raw_images = item.get("images")
    images = [i for i in raw_images if isinstance(i, dict)] if isinstance(raw_images, list) else []
    # Hub images become index descriptors so the platform choice is exactly the
    # registry path's (select_child: arm64 ≡ arm64/v8, attestations skipped).
    children: list[Descriptor] = []
    for image in images:
        os_, arch = _text(image.get("os")), _text(image.get("architecture"))
        plat = Platform(os_, arch, _text(image.get("variant"))) if os_ and arch else None
        digest = image.get("digest")
        children.append(Descriptor("", digest if isinstance(digest, str) else "", 0, plat))
    index = Index("", tuple(children))
    platforms = index_platforms(index) or None
    media_type = _media_type(item.get("media_type"), item.get("content_type"))
    tag_digest = item.get("digest")
    tag_pushed = parse_created(item.get("tag_last_pushed")) or parse_created(
        item.get("last_updated")
    )
    if not children:
        # No per-platform entries (very old tags): only the tag's own facts are known.
        return _row(
            digest=tag_digest, media_type=media_type, platforms=None,
            created=tag_pushed, source="hub", size=None,
        )  # fmt: skip
    chosen = select_child(index, want)
    if chosen is None:
        return _row(
            digest=tag_digest, media_type=media_type, platforms=platforms, created=None,
            source="hub", size=None,
            error=f"no image for platform {want or 'any'} (has: {platforms or 'none'})",
        )  # fmt: skip
    image = next(img for img, child in zip(images, children, strict=True) if child is chosen)
    return _row(
        digest=tag_digest if is_digest(tag_digest) else chosen.digest,
        media_type=media_type,
        platforms=platforms,
        created=parse_created(image.get("last_pushed")) or tag_pushed,
        source="hub",
        size=_positive_int(image.get("size")),
    )


# --------------------------------------------------------------------------- Quay


def _quay_listing(ref: Reference, transport: Transport) -> FastListing:
    ns, repo = _split_repository(ref)
    base = os.environ.get(QUAY_API_ENV, _QUAY_API).rstrip("/")
    prefix = f"{base}/api/v1/repository/{quote(ns, safe='')}/{quote(repo, safe='')}/tag/"
    listing = FastListing("quay")
    for page in range(1, MAX_PAGES + 1):
        url = f"{prefix}?limit={PAGE_SIZE}&page={page}&onlyActiveTags=true"
        doc = _get_json(url, transport)
        listing.requests += 1
        tags = doc.get("tags")
        if not isinstance(tags, list):
            raise _Unusable(f"Quay sent 'tags' as {type(tags).__name__}, not a list")
        echoed = doc.get("page")
        if isinstance(echoed, int) and not isinstance(echoed, bool) and echoed != page:
            raise _Unusable(f"Quay answered page {echoed} when asked for page {page}")
        entries = [(t, _text(t.get("name"))) for t in tags if isinstance(t, dict)]
        names = [name for _, name in entries if name is not None]
        # A server that ignores ``page`` repeats page 1 forever.  A push during
        # listing can shift single tags across a page boundary, so only a page
        # with nothing new counts as a repeat.
        if page > 1 and names and all(name in listing.rows for name in names):
            raise _Unusable(f"Quay page {page} repeats tags already listed")
        for entry, name in entries:
            if name is None or name in listing.rows:
                continue
            listing.tags.append(name)
            listing.rows[name] = _quay_row(entry)
        more = doc.get("has_additional")
        if more is not True:
            return listing
        if not names:
            raise _Unusable(f"Quay page {page} is empty but claims more pages")
    raise _Unusable(f"Quay returned more than {MAX_PAGES} pages")


def _quay_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    is_list = entry.get("is_manifest_list") is True
    created = timestamp_from_epoch(entry.get("start_ts"), "s")
    if created is None:
        created = _http_date(entry.get("last_modified"))
    return _row(
        digest=entry.get("manifest_digest"),
        # The tag API does not name the media type; is_manifest_list alone
        # cannot tell OCI from Docker.
        media_type=_media_type(entry.get("media_type"), entry.get("manifest_media_type")),
        platforms=None,
        created=created,
        source="quay",
        # Quay reports null for manifest lists; a list has no single size anyway.
        size=None if is_list else _positive_int(entry.get("size")),
    )


def _http_date(value: object) -> pd.Timestamp | None:
    """Quay's ``last_modified`` (``Mon, 01 Sep 2025 15:23:01 -0000``): start_ts as a date."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        stamp = pd.Timestamp(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError, OverflowError):  # incl. OutOfBoundsDatetime
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return timestamp_from_epoch(stamp.value, "ns")


# --------------------------------------------------------------------------- GCR


def gcr_rows(
    manifest_map: Mapping[str, Any], *, platform: Platform | None = None
) -> dict[str, dict[str, Any]]:
    """Rows for the tags described by a GCR / Artifact Registry ``tags/list`` ``manifest`` map.

    The map is ``{digest: {imageSizeBytes, layerId, mediaType, tag: [...],
    timeCreatedMs, timeUploadedMs}}`` with numbers as strings of
    milliseconds.  ``created`` is ``timeCreatedMs`` (GCR: the build time)
    when it is set, else ``timeUploadedMs`` (Artifact Registry always reports
    ``"0"`` for created, so there it is the push time); ``created_source`` is
    ``"gcr"`` either way.  ``size`` is ``imageSizeBytes`` (compressed layers),
    NA when ``"0"``.  Entries of the wrong type are skipped.

    Tags on a manifest list (OCI index / Docker manifest list) get **no** row:
    the map does not say which child belongs to which list, and a list's own
    times are its push times, not a platform's build.  Those tags stay for
    the registry path, which reads the chosen ``platform``'s image; so do
    tags missing from the map.  Rows carry no ``platforms`` (the map has none).

    Parameters
    ----------
    manifest_map
        The ``manifest`` object of one or more ``tags/list`` pages, merged.
    platform
        The platform being described.  It does not change any row (single
        images have no choice to make); it is part of the signature so every
        fast path is called alike.

    Returns
    -------
    dict
        ``tag → row`` as for ``add_metadata(..., prefetched=...)``.

    Examples
    --------
    >>> rows = gcr_rows({"sha256:" + "a" * 64: {
    ...     "imageSizeBytes": "2803255", "mediaType": "application/vnd.oci.image.manifest.v1+json",
    ...     "tag": ["1.0"], "timeCreatedMs": "0", "timeUploadedMs": "1723120496123"}})
    >>> rows["1.0"]["created"], rows["1.0"]["size"]
    (Timestamp('2024-08-08 12:34:56.123000+0000', tz='UTC'), 2803255)
    """
    rows: dict[str, dict[str, Any]] = {}
    if not isinstance(manifest_map, Mapping):
        return rows
    for digest, entry in manifest_map.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("tag"), list):
            continue
        media_type = _media_type(entry.get("mediaType"))
        if media_type in INDEX_MEDIA_TYPES:
            continue
        created = timestamp_from_epoch(entry.get("timeCreatedMs"), "ms")
        if created is None:
            created = timestamp_from_epoch(entry.get("timeUploadedMs"), "ms")
        row = _row(
            digest=digest,
            media_type=media_type,
            platforms=None,
            created=created,
            source="gcr",
            size=_positive_int(entry.get("imageSizeBytes")),
        )
        for tag in entry["tag"]:
            name = _text(tag)
            if name is not None and name not in rows:
                rows[name] = dict(row)
    return rows
