"""Repository names of a registry or namespace: ``/v2/_catalog`` pages, or Docker Hub's API.

:func:`catalog_repositories` asks the registry itself (distribution's catalog,
with ``Link`` pagination and a ``registry:catalog:*`` token);
:func:`hub_repositories` asks Docker Hub's web API, because Docker Hub's
registry host does not offer the catalog.  Both return plain repository paths
(``prometheus/prometheus``) and raise :class:`~regframe.errors.CatalogUnavailableError`
when the listing is refused or not offered at all.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from regframe.client.credentials import Credentials
from regframe.client.paging import Pager
from regframe.client.redact import redact_url
from regframe.client.registry import MAX_LIST_BYTES, RegistryClient
from regframe.client.tag_apis.dockerhub import DOCKERHUB_API_ENV
from regframe.client.transport import Reply, Transport, json_errors
from regframe.errors import CatalogUnavailableError, NotFoundError, RateLimitError, RegistryError
from regframe.parsing.reference import Reference

__all__ = ["CATALOG_SCOPE", "catalog_repositories", "hub_repositories"]

CATALOG_SCOPE = "registry:catalog:*"
CATALOG_PAGE_SIZE = 1000
#: Ten million repositories at the default page size: a stop for endless pagination only.
MAX_CATALOG_PAGES = 10_000
HUB_PAGE_SIZE = 100
_DOCKERHUB_API = "https://hub.docker.com"


def catalog_repositories(
    ref: Reference,
    transport: Transport,
    *,
    namespace: str = "",
    auth: tuple[str, str] | Credentials | None = None,
    insecure: bool = False,
    page_size: int = CATALOG_PAGE_SIZE,
    max_pages: int = MAX_CATALOG_PAGES,
) -> list[str]:
    """Every repository ``GET /v2/_catalog`` lists on ``ref``'s registry, within ``namespace``.

    ``ref`` names the registry (its repository part is not used).  The
    transport is the caller's to close.

    Raises
    ------
    CatalogUnavailableError
        The registry answers 401/403 (the catalog is for other accounts) or
        404 (no catalog) to the catalog request.
    RegistryError
        A malformed or looping listing, or another failure.
    """
    client = RegistryClient.open(ref, transport, auth=auth, insecure=insecure)
    domain = ref.domain
    url: str | None = f"{client.base_url}/v2/_catalog?n={page_size}"
    pager = Pager(domain, "repositories", max_pages=max_pages)
    out: dict[str, None] = {}
    retried_without_n = False
    while url is not None:
        reply = _catalog_get(client, url)
        if reply.status == 400 and not retried_without_n and not out:
            # As with tags: a few registries reject the page-size hint.
            retried_without_n = True
            url = f"{client.base_url}/v2/_catalog"
            continue
        _raise_for_catalog(client, reply)
        for name in _names(reply, domain):
            if not namespace or name.startswith(namespace + "/"):
                out.setdefault(name, None)
        url = pager.next_url(url, reply.headers.get("Link"), count=len(out))
    return list(out)


def _catalog_get(client: RegistryClient, url: str) -> Reply:
    headers = client.auth.headers_for(CATALOG_SCOPE)
    headers["Accept"] = "application/json"
    reply = client.transport.request("GET", url, headers=headers, limit=MAX_LIST_BYTES)
    if reply.status in (401, 403):
        retry = client.auth.refresh(reply, CATALOG_SCOPE, used=headers)
        if retry is not None:
            retry["Accept"] = "application/json"
            reply = client.transport.request("GET", url, headers=retry, limit=MAX_LIST_BYTES)
    return reply


def _raise_for_catalog(client: RegistryClient, reply: Reply) -> None:
    domain = client.reference.domain
    where = f"{client.base_url}/v2/_catalog"
    if reply.status in (401, 403):
        raise CatalogUnavailableError(
            f"{domain} does not let this account list its repositories "
            f"(HTTP {reply.status} for /v2/_catalog); many registries keep the catalog for "
            "administrators: list the repositories another way and pass them to read_tags",
            status_code=reply.status,
            url=where,
            errors=json_errors(reply.body),
        )
    if reply.status in (404, 405, 501):
        raise CatalogUnavailableError(
            f"{domain} does not offer a repository catalog (HTTP {reply.status} for /v2/_catalog)",
            status_code=reply.status,
            url=where,
            errors=json_errors(reply.body),
        )
    client.raise_for_status(reply, "catalog")


def _names(reply: Reply, domain: str) -> list[str]:
    try:
        doc = json.loads(reply.body)
    except (ValueError, RecursionError):
        raise RegistryError(
            f"{domain} answered the catalog with something that is not JSON",
            status_code=reply.status,
        ) from None
    repos = doc.get("repositories") if isinstance(doc, dict) else None
    if repos is None and isinstance(doc, dict):
        return []
    if not isinstance(repos, list):
        raise RegistryError(
            f"{domain} answered the catalog without a 'repositories' list",
            status_code=reply.status,
        )
    return [r for r in repos if isinstance(r, str) and r.strip()]


def hub_repositories(
    namespace: str, transport: Transport, *, max_pages: int = MAX_CATALOG_PAGES
) -> list[str]:
    """Public repositories of a Docker Hub namespace, via ``hub.docker.com/v2/namespaces/…``.

    The base URL can be changed with ``$REGFRAME_DOCKERHUB_API`` (mirrors, tests).

    Raises
    ------
    NotFoundError
        The namespace does not exist.
    RateLimitError, RegistryError
        Docker Hub throttled or failed.
    """
    base = os.environ.get(DOCKERHUB_API_ENV, _DOCKERHUB_API).rstrip("/")
    url = f"{base}/v2/namespaces/{quote(namespace, safe='')}/repositories?page_size={HUB_PAGE_SIZE}"
    pager = Pager("Docker Hub", "repositories", max_pages=max_pages)
    out: dict[str, None] = {}
    page: str | None = url
    while page is not None:
        doc = _hub_page(page, namespace, transport)
        for item in doc.get("results") or []:
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name.strip():
                out.setdefault(f"{namespace}/{name}", None)
        nxt = doc.get("next")
        page = pager.follow(page, nxt if isinstance(nxt, str) else None, count=len(out))
    return list(out)


def _hub_page(url: str, namespace: str, transport: Transport) -> dict[str, Any]:
    reply = transport.request(
        "GET", url, headers={"Accept": "application/json"}, limit=MAX_LIST_BYTES
    )
    where = redact_url(url)
    if reply.status == 404:
        raise NotFoundError(
            f"Docker Hub has no namespace {namespace!r}", status_code=404, url=where
        )
    if reply.status == 429:
        raise RateLimitError(
            "Docker Hub kept rate-limiting the repository listing (HTTP 429); wait and retry",
            status_code=429,
            url=where,
        )
    if reply.status != 200:
        raise RegistryError(
            f"Docker Hub answered HTTP {reply.status} listing namespace {namespace!r}",
            status_code=reply.status,
            url=where,
        )
    try:
        doc = json.loads(reply.body)
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("results", []), list):
        raise RegistryError(
            "Docker Hub answered the repository listing with an unexpected shape",
            status_code=reply.status,
            url=where,
        )
    return doc
