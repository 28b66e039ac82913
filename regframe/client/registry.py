"""The registry v2 API for one repository: tag listing, manifests and blobs.

:class:`RegistryClient` combines a :class:`~regframe.client.transport.Transport` and an
:class:`~regframe.client.auth.Authenticator` and turns HTTP answers into data or into
the typed errors of :mod:`regframe.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from regframe.client.auth import Authenticator
from regframe.client.credentials import Credentials, coerce_auth, find_credentials
from regframe.client.paging import Pager
from regframe.client.progress import Progress
from regframe.client.redact import redact_url
from regframe.client.transport import Reply, Transport, json_errors, origin_of
from regframe.errors import NetworkError, NotFoundError, RateLimitError, RegistryError
from regframe.parsing.reference import Reference

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGES", "RegistryClient", "TagList"]

# ECR rejects n > 1000; most registries accept it, Quay caps it lower and says
# so through Link headers, and CNCF distribution ignores it altogether.
DEFAULT_PAGE_SIZE = 1000
# 10,000 pages of even 50 tags is half a million tags — far beyond any real
# repository — while still stopping a registry that paginates forever.
MAX_PAGES = 10_000
MAX_LIST_BYTES = 32 * 1024 * 1024


@dataclass
class TagList:
    """What :meth:`RegistryClient.list_tags` found.

    Attributes
    ----------
    tags
        Every tag, in the registry's order, without duplicates.
    gcr_manifests
        GCR's and Artifact Registry's ``manifest`` maps of every page, merged (``{}`` for
        other registries); :func:`regframe.client.tag_apis.gcr_rows` reads them.

    Examples
    --------
    >>> TagList(["1.0", "latest"]).gcr_manifests
    {}
    """

    tags: list[str]
    gcr_manifests: dict[str, Any] = field(default_factory=dict)


@dataclass
class RegistryClient:
    """Talks to one repository of one registry.

    Build it with :meth:`open`, which picks the URL scheme and sets up auth.

    Examples
    --------
    >>> from regframe.client.transport import Transport
    >>> from regframe.parsing.reference import parse_reference
    >>> ref = parse_reference("localhost:5000/app")
    >>> client = RegistryClient.open(ref, Transport())  # doctest: +SKIP
    >>> client.list_tags().tags  # doctest: +SKIP
    ['1.0', 'latest']
    """

    reference: Reference
    transport: Transport
    auth: Authenticator
    base_url: str

    @classmethod
    def offline(cls, reference: Reference, transport: Transport) -> RegistryClient:
        """A client that names the repository without pinging it (all data came from elsewhere)."""
        base = f"https://{reference.registry}"
        authenticator = Authenticator(
            transport, base, display=reference.domain, docker_hub=reference.is_docker_hub
        )
        return cls(reference, transport, authenticator, base)

    @classmethod
    def open(
        cls,
        reference: Reference,
        transport: Transport,
        *,
        auth: tuple[str, str] | Credentials | None = None,
        insecure: bool = False,
        credential_lookup: Callable[[str], Credentials | None] | None = None,
    ) -> RegistryClient:
        """Connect to ``reference``'s registry: choose https/http, ping, prepare auth.

        Plain http is only ever tried for loopback hosts or with ``insecure=True``,
        and only after https failed (as docker does for insecure registries).  The
        client owns ``transport`` once built (:meth:`close` closes it); if this
        raises, closing ``transport`` is the caller's job.
        """
        explicit = coerce_auth(auth)
        lookup = credential_lookup or find_credentials
        registry = reference.registry
        candidates = ["https"]
        if insecure or reference.is_loopback:
            candidates.append("http")
        first_error: RegistryError | None = None
        for scheme in candidates:
            base = f"{scheme}://{registry}"
            try:
                if scheme == "https" and len(candidates) > 1:
                    ping = transport.probe(f"{base}/v2/")
                else:
                    ping = transport.request("GET", f"{base}/v2/")
            except RegistryError as exc:
                first_error = first_error or exc
                if isinstance(exc, NetworkError) and exc.reason in ("resolve", "refused", "tls"):
                    # Plain http cannot help: the same host:port has no address, takes
                    # no connections, or speaks TLS (its answer would be a 400).
                    break
                continue
            authenticator = Authenticator(
                transport,
                base,
                display=reference.domain,
                credentials=explicit,
                lookup=(lambda: lookup(registry)) if explicit is None else None,
                docker_hub=reference.is_docker_hub,
            )
            authenticator.accept_ping(ping)
            return cls(reference, transport, authenticator, base)
        assert first_error is not None
        raise first_error

    def close(self) -> None:
        self.transport.close()

    @property
    def scope(self) -> str:
        return f"repository:{self.reference.repository}:pull"

    @property
    def repo_url(self) -> str:
        return f"{self.base_url}/v2/{self.reference.repository}"

    # -- requests ----------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        accept: str | None = None,
        limit: int = 4 * 1024 * 1024,
    ) -> Reply:
        """Send an authorised request, re-authenticating once on 401; 401/403 left over raise."""
        headers = self.auth.headers_for(self.scope)
        if accept:
            headers["Accept"] = accept
        reply = self.transport.request(method, url, headers=headers, limit=limit)
        if reply.status in (401, 403):
            if origin_of(reply.url) != origin_of(self.base_url):
                # A redirect target that wants credentials of its own never
                # gets the registry's: that is a broken redirect, not our cue.
                raise RegistryError(
                    f"{redact_url(reply.url)} (a redirect target of "
                    f"{self.reference.domain}) refused the request with HTTP {reply.status}",
                    status_code=reply.status,
                    url=redact_url(reply.url),
                )
            retry = self.auth.refresh(reply, self.scope, used=headers)
            if retry is not None:
                if accept:
                    retry["Accept"] = accept
                reply = self.transport.request(method, url, headers=retry, limit=limit)
            if reply.status in (401, 403):
                raise self.auth.unauthorized(reply, self.scope)
        return reply

    def raise_for_status(self, reply: Reply, what: str) -> None:
        """Map an error status to the typed error; 2xx passes."""
        if 200 <= reply.status < 300:
            return
        errors = json_errors(reply.body)
        codes = {str(e.get("code", "")) for e in errors}
        where = f"{self.reference.domain}/{self.reference.repository}"
        url = redact_url(reply.url)
        if reply.status == 404:
            if "NAME_UNKNOWN" in codes or what == "tags":
                msg = f"repository {where} not found"
            else:
                msg = f"{what} not found in {where}"
            raise NotFoundError(msg, status_code=404, url=url, errors=errors)
        if reply.status == 429:
            raise RateLimitError(
                f"{self.reference.domain} kept rate-limiting requests (HTTP 429) for {what}; "
                "wait and try again, or log in for a higher limit",
                status_code=429,
                url=url,
                errors=errors,
            )
        detail = "; ".join(
            f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors
        )
        raise RegistryError(
            f"{self.reference.domain} answered HTTP {reply.status} for {what} of "
            f"{self.reference.repository}" + (f" ({detail})" if detail else ""),
            status_code=reply.status,
            url=url,
            errors=errors,
        )

    # -- tags --------------------------------------------------------------

    def list_tags(
        self,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = MAX_PAGES,
        progress: Progress | None = None,
    ) -> TagList:
        """Every tag of the repository, following ``Link`` pagination.

        Null, empty and non-string entries are skipped; duplicates (some
        registries repeat the boundary tag across pages) are dropped.
        ``progress`` counts one step per page.

        Returns
        -------
        TagList
            The tags, and the ``manifest`` maps GCR and Artifact Registry send with them.

        Raises
        ------
        RegistryError
            On a pagination loop, a cross-origin ``Link``, a malformed body, or
            more than ``max_pages`` pages.
        """
        url: str | None = f"{self.repo_url}/tags/list?n={page_size}"
        pager = Pager(self.reference.domain, "tags", max_pages=max_pages)
        out: dict[str, None] = {}
        gcr_manifests: dict[str, Any] = {}
        retried_without_n = False
        while url is not None:
            reply = self.request("GET", url, accept="application/json", limit=MAX_LIST_BYTES)
            if progress is not None:
                progress.step()
            if reply.status == 400 and not retried_without_n and "n=" in url and not out:
                # A few registries reject the page-size hint instead of ignoring it.
                retried_without_n = True
                url = f"{self.repo_url}/tags/list"
                continue
            self.raise_for_status(reply, "tags")
            tags, manifests = _tags_from(reply, self.reference.domain)
            for tag in tags:
                out.setdefault(tag, None)
            gcr_manifests.update(manifests)
            url = pager.next_url(url, reply.headers.get("Link"), count=len(out))
        return TagList(list(out), gcr_manifests)


def _tags_from(reply: Reply, domain: str) -> tuple[list[str], dict[str, Any]]:
    try:
        doc = json.loads(reply.body)
    except ValueError:
        raise RegistryError(
            f"{domain} answered the tag list with something that is not JSON",
            status_code=reply.status,
            url=redact_url(reply.url),
        ) from None
    if not isinstance(doc, dict):
        raise RegistryError(
            f"{domain} answered the tag list with a JSON {type(doc).__name__}, not an object",
            status_code=reply.status,
            url=redact_url(reply.url),
        )
    manifests = doc.get("manifest")
    # GCR and Artifact Registry describe every digest here (tag_apis.gcr_rows).
    manifests = manifests if isinstance(manifests, dict) else {}
    tags = doc.get("tags")
    if tags is None:
        return [], manifests
    if not isinstance(tags, list):
        raise RegistryError(
            f"{domain} sent 'tags' as a {type(tags).__name__}, not a list",
            status_code=reply.status,
            url=redact_url(reply.url),
        )
    return [t for t in tags if isinstance(t, str) and t.strip()], manifests
