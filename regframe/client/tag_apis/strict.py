"""Strict reading of the tag APIs that live beside a registry: any self-contradiction is fatal.

Harbor, ECR Public, GHCR, ACR and GitLab answer ``dates=True`` for many tags at once, but
regframe only learns which product it talks to from the registry's own answers (its token
challenge), and two of the APIs are undocumented or loosely documented.  So these readers
trust nothing they cannot check: a tag listed twice, a cursor that comes back, a digest that
is not a digest, a time that is not a time, pages that disagree with the count they announce
— each raises :class:`~regframe.errors.TagApiUnusable`, and the caller falls back to the
manifest walk, which is slower but never wrong.  (The Docker Hub and Quay readers in
:mod:`~regframe.client.tag_apis.shared` are lenient instead: those APIs are well known.)

Each product module holds one :class:`StrictApi` named after its API, so every message
says which API disagreed with itself; :func:`named_by` tells a product by its challenge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regframe.client.credentials import Credentials
from regframe.client.digests import is_digest
from regframe.client.headers import Challenge
from regframe.client.manifests import INDEX_MEDIA_TYPES
from regframe.client.paging import Pager
from regframe.client.platforms import Platform
from regframe.client.progress import Progress
from regframe.client.redact import redact_url
from regframe.client.registry import RegistryClient
from regframe.client.tag_apis.shared import MAX_PAGE_BYTES, MAX_PAGES, ApiListing, metadata
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Reply, Transport
from regframe.errors import TagApiUnusable
from regframe.parsing.reference import Reference
from regframe.parsing.timestamps import epoch_ns, rfc3339_ns

__all__ = ["ApiContext", "Cursors", "StrictApi", "api_row", "challenge_names", "named_by"]

#: The OCI distribution spec's tag grammar.
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
#: What an ISO 8601 / RFC 3339 time looks like, to tell a zero time (usable format, no
#: value: Go's ``0001-01-01T00:00:00Z``) from text that is not a time at all.
_ISO_SHAPE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\s*(?:[Zz]|[+-]\d{2}:?\d{2})?)?"
)
_NUMBER_RE = re.compile(r"\d{1,12}(?:\.\d{1,9})?")


@dataclass
class ApiContext:
    """What a registry-hosted tag API reader needs: the pinged registry and the question.

    Attributes
    ----------
    client
        The repository's :class:`~regframe.client.registry.RegistryClient`, already
        pinged: its base URL, transport and authenticator (with the challenge) are used.
    want
        The platform to describe (``None``: the first image of an index).
    progress
        Counts one step per page.
    credentials
        The explicit ``auth=`` of the call (GHCR uses it when it is a GitHub token);
        credentials found in the docker config are never given to these readers.

    Examples
    --------
    >>> from regframe.client.transport import Transport
    >>> from regframe.parsing.reference import parse_reference
    >>> client = RegistryClient.offline(parse_reference("ghcr.io/o/r"), Transport())
    >>> ApiContext(client, None).reference.repository
    'o/r'
    """

    client: RegistryClient
    want: Platform | None
    progress: Progress | None = None
    credentials: Credentials | None = field(default=None, repr=False)

    @property
    def reference(self) -> Reference:
        return self.client.reference

    @property
    def transport(self) -> Transport:
        return self.client.transport

    @property
    def base_url(self) -> str:
        return self.client.base_url

    @property
    def challenge(self) -> Challenge | None:
        return self.client.auth.challenge

    def step(self, listing: ApiListing, pages: int = 1) -> None:
        """Count ``pages`` requests in ``listing`` and on the progress bar."""
        listing.requests += pages
        if self.progress is not None:
            for _ in range(pages):
                self.progress.step()


def challenge_names(
    challenge: Challenge | None, *, service: str, realm_path: str | None = None
) -> bool:
    """Whether a Bearer ``challenge`` names ``service`` (and a realm path ending ``realm_path``).

    How a product is told from the registry's own answer rather than from its host name.

    Examples
    --------
    >>> from regframe.client.headers import parse_www_authenticate
    >>> ch = parse_www_authenticate('Bearer realm="https://h/jwt/auth?x=1",service="s"')[0]
    >>> challenge_names(ch, service="s", realm_path="/jwt/auth")
    True
    """
    if challenge is None or challenge.scheme != "bearer" or challenge.service != service:
        return False
    realm = (challenge.realm or "").split("?", 1)[0].rstrip("/")
    return realm_path is None or realm.endswith(realm_path)


def named_by(service: str, realm_path: str | None = None) -> Callable[[RegistryClient], bool]:
    """A test of a pinged registry: does its challenge name ``service`` (and ``realm_path``)?

    See :func:`challenge_names`; the test reads the challenge the client's authenticator
    kept from the ping.

    Examples
    --------
    >>> from regframe.client.transport import Transport
    >>> from regframe.parsing.reference import parse_reference
    >>> client = RegistryClient.offline(parse_reference("ghcr.io/o/r"), Transport())
    >>> named_by("ghcr.io")(client)  # an offline client was never challenged
    False
    """

    def applies(client: RegistryClient) -> bool:
        return challenge_names(client.auth.challenge, service=service, realm_path=realm_path)

    return applies


@dataclass(frozen=True)
class StrictApi:
    """The strict readers for one API, each naming it (``name``) in its errors.

    Examples
    --------
    >>> gitlab = StrictApi("GitLab")
    >>> gitlab.tag("../x")
    Traceback (most recent call last):
    ...
    regframe.errors.TagApiUnusable: GitLab listed a tag that is not a tag name: '../x'
    """

    name: str

    def follow_links(
        self,
        ctx: ApiContext,
        listing: ApiListing,
        url: str,
        *,
        headers: Mapping[str, str],
        read: Callable[[Any], Iterable[tuple[str, TagMetadata]]],
    ) -> ApiListing:
        """Read pages one after another along ``Link: <…>; rel="next"`` into ``listing``.

        ``read`` turns one page's JSON into ``(tag, row)`` pairs.  Links are followed on
        the same origin only and a page or ``last`` cursor seen before is a loop
        (:class:`~regframe.client.paging.Pager`, whose ``RegistryError`` the caller treats
        as unusable too).

        Examples
        --------
        >>> StrictApi("GitLab").follow_links(ctx, ApiListing("gitlab"), url,  # doctest: +SKIP
        ...                                  headers={}, read=lambda doc: [])
        """
        pager = Pager(ctx.reference.domain, "tags")
        for _page in range(MAX_PAGES):
            doc, reply = self.fetch_json(ctx.transport, url, headers=headers)
            ctx.step(listing)
            for name, row in read(doc):
                self.take_tag(listing, name, row)
            nxt = pager.next_url(url, reply.headers.get("Link"), count=len(listing.tags))
            if nxt is None:
                return listing
            url = nxt
        raise TagApiUnusable(f"{self.name} returned more than {MAX_PAGES} pages")

    def fetch_json(
        self,
        transport: Transport,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[Any, Reply]:
        """Send one bounded request and return its JSON (any type) with the reply.

        Anything but HTTP 200 with a JSON body is :class:`TagApiUnusable`.

        Examples
        --------
        >>> StrictApi("Harbor").fetch_json(  # doctest: +SKIP
        ...     Transport(), "https://harbor.example/api/v2.0/systeminfo")[0]["harbor_version"]
        """
        sent = {"Accept": "application/json", **(headers or {})}
        reply = transport.request(method, url, headers=sent, limit=MAX_PAGE_BYTES, body=body)
        where = redact_url(url)
        if reply.status != 200:
            raise TagApiUnusable(f"{self.name} answered HTTP {reply.status} for {where}")
        try:
            return json.loads(reply.body), reply
        except (ValueError, RecursionError):
            raise TagApiUnusable(f"{self.name} did not answer JSON for {where}") from None

    def json_list(self, value: object, what: str) -> list[Any]:
        """``value`` when it is a JSON array, else :class:`TagApiUnusable`.

        Examples
        --------
        >>> StrictApi("GitLab").json_list([1], "the tag list")
        [1]
        """
        if not isinstance(value, list):
            raise TagApiUnusable(f"{self.name} sent {what} as {type(value).__name__}, not a list")
        return value

    def json_object(self, value: object, what: str) -> Mapping[str, Any]:
        """``value`` when it is a JSON object, else :class:`TagApiUnusable`.

        Examples
        --------
        >>> StrictApi("ACR").json_object({"a": 1}, "a tag")["a"]
        1
        """
        if not isinstance(value, dict):
            raise TagApiUnusable(
                f"{self.name} sent {what} as {type(value).__name__}, not an object"
            )
        return value

    def tag(self, value: object) -> str:
        """A tag name in the OCI grammar; anything else (blank, not text, ``../x``) is unusable.

        Examples
        --------
        >>> StrictApi("Harbor").tag("3.12.1-slim")
        '3.12.1-slim'
        """
        if isinstance(value, str) and _TAG_RE.fullmatch(value):
            return value
        raise TagApiUnusable(
            f"{self.name} listed a tag that is not a tag name: {str(value)[:80]!r}"
        )

    def digest(self, value: object, tag: str) -> str:
        """A digest in the OCI grammar, else :class:`TagApiUnusable` naming the tag.

        Examples
        --------
        >>> StrictApi("GitLab").digest("sha256:" + "a" * 64, "1.0")[:10]
        'sha256:aaa'
        """
        if isinstance(value, str) and is_digest(value):
            return value
        raise TagApiUnusable(
            f"{self.name} gave tag {tag} a digest that is not a digest: {str(value)[:80]!r}"
        )

    def time(self, value: object, what: str, *, epoch: bool = False) -> int | None:
        """Nanoseconds since the epoch from an RFC 3339 text (or epoch seconds with ``epoch``).

        Absent (``None``) and zero or pre-1970 times (Go's ``0001-01-01T00:00:00Z``) are
        ``None``: the API says nothing.  A value in any other form is a surprise and raises.

        Examples
        --------
        >>> StrictApi("ACR").time("2021-06-01T17:44:40.8107647Z", "createdTime")
        1622569480810764700
        >>> StrictApi("ECR Public").time(1692031462.678, "imagePushedAt", epoch=True)
        1692031462678000000
        >>> StrictApi("Harbor").time("0001-01-01T00:00:00Z", "push_time") is None
        True
        """
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip()
            if _ISO_SHAPE.fullmatch(text):
                return rfc3339_ns(text)
            if epoch and _NUMBER_RE.fullmatch(text):
                return epoch_ns(text, "s")
        elif (
            epoch
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and 0 <= value < 10**11  # seconds; milliseconds would be a surprise, not a date
        ):
            return epoch_ns(value, "s")
        raise TagApiUnusable(f"{self.name} sent {what} in an unexpected form: {str(value)[:80]!r}")

    def take_tag(self, listing: ApiListing, name: str, row: TagMetadata) -> None:
        """Add ``name`` to ``listing``; a tag listed twice means the pages disagree: unusable.

        Examples
        --------
        >>> listing, gitlab = ApiListing("gitlab"), StrictApi("GitLab")
        >>> gitlab.take_tag(listing, "1.0", TagMetadata())
        >>> gitlab.take_tag(listing, "1.0", TagMetadata())
        Traceback (most recent call last):
        ...
        regframe.errors.TagApiUnusable: GitLab listed tag 1.0 twice
        """
        if name in listing.rows:
            raise TagApiUnusable(f"{self.name} listed tag {name} twice")
        listing.add(name, row)


class Cursors:
    """Pagination cursors (``nextToken``, ``last``) seen so far; one coming back is a loop.

    Examples
    --------
    >>> c = Cursors("ECR Public")
    >>> c.check("abc")
    >>> c.check("abc")
    Traceback (most recent call last):
    ...
    regframe.errors.TagApiUnusable: ECR Public repeated a pagination cursor
    """

    def __init__(self, api: str) -> None:
        self.api = api
        self._seen: set[str] = set()

    def check(self, cursor: str) -> None:
        if cursor in self._seen:
            raise TagApiUnusable(f"{self.api} repeated a pagination cursor")
        self._seen.add(cursor)


def api_row(
    *,
    source: str,
    digest: str,
    media_type: object,
    pushed_ns: int | None,
    size: int | None = None,
    platforms: str | None = None,
    created_ns: int | None = None,
    attested: bool | None = None,
    error: str | None = None,
) -> TagMetadata:
    """One tag's record from a registry-hosted API (``source`` names it).

    An index has no single size (the registry's figure is a sum over platforms), so
    ``size`` is dropped for index media types.

    Examples
    --------
    >>> row = api_row(source="gitlab", digest="sha256:" + "a" * 64, pushed_ns=5,
    ...               media_type="application/vnd.oci.image.index.v1+json", size=99)
    >>> row.pushed_source, row.size
    ('gitlab', None)
    """
    kind = media_type.strip() if isinstance(media_type, str) and media_type.strip() else None
    row = metadata(
        digest=digest,
        media_type=kind,
        platforms=platforms,
        source=source,
        size=None if kind in INDEX_MEDIA_TYPES else size,
        pushed_ns=pushed_ns,
        created_ns=created_ns,
        error=error,
    )
    row.attested = attested
    return row
