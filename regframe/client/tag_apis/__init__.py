"""Registries' own tag APIs: every tag with its ``dates=True`` facts in one request per 100 tags.

Some registries describe every tag in an API of their own, so the per-tag manifest chain of
:mod:`regframe.frame.resolve` (two or three requests a tag) can be skipped:

* :mod:`~regframe.client.tag_apis.dockerhub` — Docker Hub's tags API (``pushed_source``
  ``"hub"``: push times, no build time);
* :mod:`~regframe.client.tag_apis.quay` — Quay's tag API (``"quay"``: push times, no build
  time, no platforms);
* :mod:`~regframe.client.tag_apis.gcr` — the ``manifest`` map GCR and Artifact Registry add
  to the ordinary tag list (``"gcr"``: upload time as ``pushed``, and on GCR the build time
  as ``created``; a tag on a manifest list is walked for its build time and keeps the
  list's upload time as ``pushed`` when the walk reaches the same digest).

A registry API's time is a push time (``pushed``), never filed under ``created`` (a build
time) unless the API reports the build time itself.

Those two are asked before the registry is pinged.  Five more live beside registries that
must first say who they are — :func:`fetch_registry_listing` reads the ping's token
challenge (realm path and service), never the host name, and then asks:

* :mod:`~regframe.client.tag_apis.harbor` — Harbor's artifact API (``"harbor"``);
* :mod:`~regframe.client.tag_apis.gitlab` — GitLab's registry API (``"gitlab"``);
* :mod:`~regframe.client.tag_apis.acr` — Azure Container Registry's ``/acr/v1`` (``"acr"``);
* :mod:`~regframe.client.tag_apis.ghcr` — GitHub's packages API, with a GitHub token
  only (``"ghcr"``);
* :mod:`~regframe.client.tag_apis.ecr_public` — ECR Public's gallery API (``"ecr-public"``).

They read strictly (:mod:`~regframe.client.tag_apis.strict`): any answer that disagrees
with itself falls back to the manifest walk.

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
from collections.abc import Callable

from regframe.client.credentials import Credentials
from regframe.client.platforms import Platform
from regframe.client.progress import Progress
from regframe.client.registry import RegistryClient
from regframe.client.tag_apis.acr import acr_listing, is_acr
from regframe.client.tag_apis.dockerhub import DOCKERHUB_API_ENV, hub_listing
from regframe.client.tag_apis.ecr_public import ECR_PUBLIC_API_ENV, ecr_public_listing
from regframe.client.tag_apis.gcr import gcr_index_pushes, gcr_rows
from regframe.client.tag_apis.ghcr import GITHUB_API_ENV, ghcr_listing
from regframe.client.tag_apis.gitlab import gitlab_listing
from regframe.client.tag_apis.harbor import harbor_listing
from regframe.client.tag_apis.quay import QUAY_API_ENV, quay_listing
from regframe.client.tag_apis.shared import MAX_PAGE_BYTES, MAX_PAGES, PAGE_SIZE, ApiListing
from regframe.client.tag_apis.strict import ApiContext, named_by
from regframe.client.transport import Transport
from regframe.errors import RegframeError, RegistryError, TagApiUnusable
from regframe.parsing.reference import Reference

__all__ = [
    "DOCKERHUB_API_ENV",
    "ECR_PUBLIC_API_ENV",
    "GITHUB_API_ENV",
    "MAX_PAGES",
    "MAX_PAGE_BYTES",
    "PAGE_SIZE",
    "QUAY_API_ENV",
    "ApiListing",
    "fetch_listing",
    "fetch_registry_listing",
    "gcr_index_pushes",
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


#: The registry-hosted tag APIs: (name for messages, detection on the ping, reader).  Each
#: product is told by what its registry's token challenge names, never by the host name.
_REGISTRY_APIS: tuple[
    tuple[str, Callable[[RegistryClient], bool], Callable[[ApiContext], ApiListing]], ...
] = (
    ("Harbor", named_by("harbor-registry", realm_path="/service/token"), harbor_listing),
    ("GitLab", named_by("container_registry", realm_path="/jwt/auth"), gitlab_listing),
    ("ACR", lambda c: is_acr(c.auth.challenge, c.base_url), acr_listing),
    ("GHCR", named_by("ghcr.io"), ghcr_listing),
    ("ECR Public", named_by("public.ecr.aws"), ecr_public_listing),
)


def fetch_registry_listing(
    client: RegistryClient,
    *,
    platform: Platform | None,
    progress: Progress | None = None,
    credentials: Credentials | None = None,
) -> ApiListing | None:
    """List every tag with its facts from the API of the product behind a pinged registry.

    The registry's token challenge (kept by ``client.auth`` from the ping) says which
    product answers: Harbor (realm ``…/service/token``, service ``harbor-registry``), GitLab
    (``…/jwt/auth``, ``container_registry``), ACR (``/oauth2/token`` on the registry's own
    origin), GHCR (service ``ghcr.io``; only with a GitHub token at hand) or ECR Public
    (service ``public.ecr.aws``).  Host names are never consulted, so the same products on
    any host, loopback included, qualify.

    Parameters
    ----------
    client
        An opened (pinged) client for the repository.
    platform
        Which image of a multi-arch tag to describe where the API names platforms.
    progress
        Counts one step per request.
    credentials
        The explicit ``auth=`` of the call (a GitHub token for GHCR).

    Returns
    -------
    ApiListing or None
        ``None`` when no API applies or it could not be used (logged at debug level);
        the caller then lists tags and walks manifests as usual.

    Examples
    --------
    >>> from regframe.parsing.reference import parse_reference
    >>> client = RegistryClient.open(parse_reference("harbor.example/library/app"),
    ...                              Transport())  # doctest: +SKIP
    >>> fetch_registry_listing(client, platform=None).source  # doctest: +SKIP
    'harbor'
    """
    ctx = ApiContext(client, platform, progress, credentials)
    for name, applies, reader in _REGISTRY_APIS:
        if not applies(client):
            continue
        try:
            return reader(ctx)
        except RegframeError as exc:
            # TagApiUnusable, HTTP or network failures, a refused token: all mean
            # "not this way"; the registry path reports real failures itself.
            log.debug("%s tag API for %s not used, walking manifests: %s",
                      name, client.reference.name, exc)  # fmt: skip
            return None
    return None
