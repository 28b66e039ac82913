"""Registries' own tag APIs: every tag with its ``dates=True`` facts in one request per 100 tags.

Some registries describe every tag in an API of their own, so the per-tag manifest chain of
:mod:`regframe.frame.resolve` (two or three requests a tag) can be skipped:

* :mod:`~regframe.client.tag_apis.dockerhub` — Docker Hub's tags API (``pushed_source``
  ``"hub"``: push times, no build time);
* :mod:`~regframe.client.tag_apis.quay` — Quay's tag API (``"quay"``: push times, no build
  time, no platforms);
* :mod:`~regframe.client.tag_apis.gcr` — the ``manifest`` map GCR and Artifact Registry add
  to the ordinary tag list (``"gcr"``: upload time as ``pushed``, and on GCR the build time
  as ``created``).

A registry API's time is a push time (``pushed``), never filed under ``created`` (a build
time) unless the API reports the build time itself.

The Hub and Quay APIs are queried anonymously, never with the registry credentials: a
private repository answers 401/403/404 and :func:`fetch_listing` returns ``None``, so the
caller falls back to the authenticated registry path.  Every failure (HTTP errors after the
transport's retries, non-JSON, unexpected shapes, pagination loops, links to another host)
is logged at debug level and ends in that same fallback; none of them raises.

To add a registry: write a module here whose listing function returns an
:class:`ApiListing` (or, like ``gcr``, rows from data already fetched) and raises
:class:`~regframe.errors.TagApiUnusable` for anything unexpected, then dispatch to it in
:func:`fetch_listing`.
"""

from __future__ import annotations

import logging

from regframe.client.platforms import Platform
from regframe.client.progress import Progress
from regframe.client.tag_apis.dockerhub import DOCKERHUB_API_ENV, hub_listing
from regframe.client.tag_apis.gcr import gcr_rows
from regframe.client.tag_apis.quay import QUAY_API_ENV, quay_listing
from regframe.client.tag_apis.shared import MAX_PAGE_BYTES, MAX_PAGES, PAGE_SIZE, ApiListing
from regframe.client.transport import Transport
from regframe.errors import RegistryError, TagApiUnusable
from regframe.parsing.reference import Reference

__all__ = [
    "DOCKERHUB_API_ENV",
    "MAX_PAGES",
    "MAX_PAGE_BYTES",
    "PAGE_SIZE",
    "QUAY_API_ENV",
    "ApiListing",
    "fetch_listing",
    "gcr_rows",
]

log = logging.getLogger(__name__)


def fetch_listing(
    ref: Reference,
    *,
    platform: Platform | None,
    transport: Transport,
    progress: Progress | None = None,
) -> ApiListing | None:
    """List every tag of a Docker Hub or Quay repository with its facts, 100 tags a request.

    Parameters
    ----------
    ref
        The repository.  Only Docker Hub (``ref.is_docker_hub``) and ``quay.io`` have a tag
        API; their base URLs can be overridden with ``$REGFRAME_DOCKERHUB_API`` and
        ``$REGFRAME_QUAY_API``.
    platform
        Which image of a multi-arch tag to describe (Docker Hub), matched as
        :func:`regframe.client.platforms.select_child` does (``arm64`` ≡ ``arm64/v8``);
        ``None`` takes the first real image.
    transport
        Sends the requests (bounded reads, retries, safe redirects); pages after the first
        are fetched up to ``transport.max_workers`` at a time.
    progress
        Counts one step per page.

    Returns
    -------
    ApiListing or None
        ``None`` when no tag API applies to ``ref`` or it could not be used; the reason is
        logged at debug level and the caller should fall back to the registry path.

    Examples
    --------
    >>> from regframe.parsing.reference import parse_reference
    >>> from regframe.client.platforms import parse_platform
    >>> listing = fetch_listing(parse_reference("python"),  # doctest: +SKIP
    ...                         platform=parse_platform("linux/amd64"), transport=Transport())
    >>> listing.rows["3.12.1"].pushed_source  # doctest: +SKIP
    'hub'
    """
    try:
        if ref.is_docker_hub:
            return hub_listing(ref, platform, transport, progress=progress)
        if ref.registry == "quay.io":
            return quay_listing(ref, transport, progress=progress)
    except (TagApiUnusable, RegistryError) as exc:
        log.debug("tag API fast path for %s not used, using the registry: %s", ref.name, exc)
    return None
