"""What the registry tag APIs share: the listing record, bounded JSON pages, lenient readers.

A fast path never raises to its caller: every problem becomes
:class:`~regframe.errors.TagApiUnusable`, which :func:`regframe.client.tag_apis.fetch_listing`
logs and turns into "fall back to the registry".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from regframe.client.digests import is_digest
from regframe.client.jobs import JobRunner
from regframe.client.redact import redact_url
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Transport
from regframe.errors import RegframeError, TagApiUnusable
from regframe.parsing.reference import Reference

__all__ = [
    "MAX_PAGES",
    "MAX_PAGE_BYTES",
    "PAGE_SIZE",
    "ApiListing",
    "TagRevision",
    "get_json",
    "get_pages",
    "media_type",
    "metadata",
    "positive_int",
    "split_repository",
    "text",
]

T = TypeVar("T")

#: Both APIs cap a page at 100 entries.
PAGE_SIZE = 100
#: A page of 100 Hub tags with a dozen images each is ~200 KiB; 8 MiB leaves
#: ample room while still bounding a hostile or broken answer.
MAX_PAGE_BYTES = 8 * 1024 * 1024
#: 200,000 tags — beyond any real repository, but a stop for endless pagination.
MAX_PAGES = 2_000

_MEDIA_TYPE_RE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")


@dataclass
class TagRevision:
    """A past interval of a tag as the registry reports it: ``digest`` from ``start`` to ``end``.

    Times are nanoseconds since the epoch, UTC.

    Examples
    --------
    >>> TagRevision("latest", "sha256:" + "a" * 64, 1, 2).end
    2
    """

    tag: str
    digest: str
    start: int
    end: int


@dataclass
class ApiListing:
    """Every tag of a repository with its ``dates=True`` facts, from one registry's tag API.

    Attributes
    ----------
    source
        ``"hub"`` or ``"quay"``.
    tags
        Tag names in the order the API listed them, without duplicates.
    rows
        ``tag → TagMetadata``, ready for ``add_metadata(..., prefetched=rows)``.
    requests
        HTTP requests the listing took (one per page of 100 tags).
    started
        ``tag → start`` (ns since the epoch) for registries that say since when each tag
        points at its digest (Quay's ``start_ts``).
    history
        Past revisions the registry reported (Quay with ``onlyActiveTags=false``).

    Examples
    --------
    >>> ApiListing("hub").requests
    0
    """

    source: str
    tags: list[str] = field(default_factory=list)
    rows: dict[str, TagMetadata] = field(default_factory=dict)
    requests: int = 0
    started: dict[str, int] = field(default_factory=dict)
    history: list[TagRevision] = field(default_factory=list)

    def add(self, name: str, row: TagMetadata) -> None:
        """Record a tag unless it was listed already (pages may repeat a boundary tag)."""
        if name not in self.rows:
            self.tags.append(name)
            self.rows[name] = row

    def extend(self, rows: Sequence[tuple[str, TagMetadata]]) -> None:
        """:meth:`add` every ``(name, row)`` in order."""
        for name, row in rows:
            self.add(name, row)


def split_repository(ref: Reference) -> tuple[str, str]:
    """Split ``namespace/name``; both APIs address repositories as exactly that.

    Examples
    --------
    >>> from regframe.parsing.reference import parse_reference
    >>> split_repository(parse_reference("python"))
    ('library', 'python')
    """
    parts = ref.repository.split("/")
    if len(parts) != 2:
        raise TagApiUnusable(f"repository {ref.repository!r} is not namespace/name")
    return parts[0], parts[1]


@overload
def get_json(url: str, transport: Transport) -> dict[str, Any]: ...
@overload
def get_json(url: str, transport: Transport, *, missing_ok: bool) -> dict[str, Any] | None: ...
def get_json(url: str, transport: Transport, *, missing_ok: bool = False) -> dict[str, Any] | None:
    """GET one bounded page and return its JSON object; anything else is :class:`TagApiUnusable`.

    With ``missing_ok``, a 404 (a page past the end of a listing that shrank) gives ``None``.

    Examples
    --------
    >>> url = "https://hub.docker.com/v2/namespaces/library/repositories/python/tags"
    >>> get_json(url, Transport())["count"]  # doctest: +SKIP
    """
    reply = transport.request(
        "GET", url, headers={"Accept": "application/json"}, limit=MAX_PAGE_BYTES
    )
    where = redact_url(url)
    if reply.status == 404 and missing_ok:
        return None
    if reply.status != 200:
        raise TagApiUnusable(f"HTTP {reply.status} from {where}")
    try:
        doc = json.loads(reply.body)
    except (ValueError, RecursionError):
        raise TagApiUnusable(f"{where} did not answer JSON") from None
    if not isinstance(doc, dict):
        raise TagApiUnusable(f"{where} answered a JSON {type(doc).__name__}, not an object")
    return doc


def get_pages(
    urls: Sequence[str], transport: Transport, runner: JobRunner, read: Callable[[str], T]
) -> list[T | RegframeError]:
    """``read(url)`` for every URL at once on ``runner``'s threads; results in URL order.

    A page that failed holds its exception instead (``TagApiUnusable`` or the transport's
    ``RegistryError``), so the caller decides, in page order, whether it matters: a
    failure after the page that ends the listing does not.  ``read`` runs on the worker
    threads, so turning a page into rows overlaps with the other pages' round trips.

    Examples
    --------
    >>> t = Transport()
    >>> urls = [f"https://quay.io/api/v1/repository/a/b/tag/?page={n}" for n in (2, 3)]
    >>> get_pages(urls, t, JobRunner(2), lambda u: get_json(u, t))  # doctest: +SKIP
    [{'tags': [...], 'page': 2, 'has_additional': True}, {'tags': [...], 'page': 3, ...}]
    """
    results: dict[str, T | RegframeError] = {}

    def job(url: str) -> None:
        try:
            results[url] = read(url)
        except RegframeError as exc:
            results[url] = exc

    runner.run(urls, job)
    return [results[url] for url in urls]


def text(value: object) -> str | None:
    """A non-blank string as sent, else None.

    Examples
    --------
    >>> text(" 1.0 "), text("  "), text(3)
    (' 1.0 ', None, None)
    """
    return value if isinstance(value, str) and value.strip() else None


def media_type(*candidates: object) -> str | None:
    """The first candidate shaped like a media type (Hub's ``content_type`` is a word, "image").

    Examples
    --------
    >>> media_type("image", "application/vnd.oci.image.index.v1+json")
    'application/vnd.oci.image.index.v1+json'
    """
    for value in candidates:
        if isinstance(value, str) and _MEDIA_TYPE_RE.fullmatch(value.strip()):
            return value.strip()
    return None


def positive_int(value: object) -> int | None:
    """Sizes arrive as ints (Hub, Quay) or digit strings (GCR); 0 means unknown.

    Examples
    --------
    >>> positive_int("2803255"), positive_int(0), positive_int(True)
    (2803255, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and value > 0:
        return value
    return None


def metadata(
    *,
    digest: object,
    media_type: str | None,
    platforms: str | None,
    source: str,
    size: int | None,
    pushed_ns: int | None = None,
    created_ns: int | None = None,
    error: str | None = None,
) -> TagMetadata:
    """Build one tag's record; a digest of the wrong grammar is dropped, not trusted.

    ``source`` names the registry API: it becomes ``pushed_source`` when ``pushed_ns`` is
    set, and ``created_source`` when the API also reports a real build time
    (``created_ns``; GCR's ``timeCreatedMs``).

    Examples
    --------
    >>> metadata(digest="sha256:../x", media_type=None, platforms=None, pushed_ns=None,
    ...          source="hub", size=None).digest is None
    True
    >>> metadata(digest=None, media_type=None, platforms=None, pushed_ns=5, source="quay",
    ...          size=None).pushed_source
    'quay'
    """
    return TagMetadata(
        digest=digest if isinstance(digest, str) and is_digest(digest) else None,
        media_type=media_type,
        platforms=platforms,
        created_ns=created_ns,
        created_source=source if created_ns is not None else None,
        pushed_ns=pushed_ns,
        pushed_source=source if pushed_ns is not None else None,
        size=size,
        error=error,
    )
