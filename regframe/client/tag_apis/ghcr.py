"""GitHub Container Registry through GitHub's packages API: every version's tags and first push.

``GET https://api.github.com/{orgs|users}/{owner}/packages/container/{name}/versions``
(``per_page=100``, ``Link`` pages with ``rel="last"``) lists every *version* of a package —
one per digest, tagged or not — with ``metadata.container.tags`` and ``created_at``.  The
API needs a token with ``read:packages`` even for public packages, so it is used only when
one is at hand: ``$GITHUB_TOKEN`` or ``$GH_TOKEN``, or an ``auth=`` for ghcr.io whose
password is a GitHub token (``ghp_…``, ``github_pat_…``).  The token is sent to the GitHub
API host only (``$REGFRAME_GITHUB_API`` overrides it), never to ghcr.io, never logged.

``pushed`` (``pushed_source`` ``"ghcr"``) is the version's ``created_at``: when that
*digest* was first pushed to the package, not when the tag last moved — a tag re-pointed
at an older digest keeps that digest's date.  Pages count versions, untagged children of
multi-arch images included, so a package may need more pages than tags/100.

GHCR is recognised by its registry's challenge (service ``ghcr.io``), not its host name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import requests.utils

from regframe.client.headers import parse_link_next
from regframe.client.jobs import JobRunner
from regframe.client.paging import Pager
from regframe.client.tag_apis.shared import MAX_PAGES, ApiListing, get_pages
from regframe.client.tag_apis.strict import ApiContext, StrictApi, api_row
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Reply, origin_of
from regframe.errors import RegframeError, TagApiUnusable

__all__ = ["GITHUB_API_ENV", "GITHUB_TOKEN_ENVS", "ghcr_listing", "github_token"]

#: Environment variable overriding the GitHub API base URL (tests, GitHub Enterprise).
GITHUB_API_ENV = "REGFRAME_GITHUB_API"
#: Where a GitHub token is looked for, in order.
GITHUB_TOKEN_ENVS = ("GITHUB_TOKEN", "GH_TOKEN")
_GITHUB_API = "https://api.github.com"
_PAGE_SIZE = 100
_API = StrictApi("GitHub's packages API")
# GitHub's documented token prefixes: classic, OAuth, user-to-server, server-to-server,
# refresh, fine-grained.
_GITHUB_TOKEN_RE = re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")


def github_token(password: str | None = None) -> str | None:
    """The GitHub token to use: ``$GITHUB_TOKEN``, ``$GH_TOKEN``, or ``password`` if it is one.

    Parameters
    ----------
    password
        The password of an explicit ``auth=`` for ghcr.io; used only when it has the
        shape of a GitHub token (a registry password of another kind is never sent to
        the API).

    Examples
    --------
    >>> github_token("ghp_" + "x" * 36) == "ghp_" + "x" * 36  # doctest: +SKIP
    True
    """
    for name in GITHUB_TOKEN_ENVS:
        value = os.environ.get(name, "").strip()
        if value and "\n" not in value and "\r" not in value:
            return value
    if password is not None and _GITHUB_TOKEN_RE.fullmatch(password.strip()):
        return password.strip()
    return None


def ghcr_listing(ctx: ApiContext) -> ApiListing:
    """List every tag of a ghcr.io package from its versions, pages fetched concurrently.

    Parameters
    ----------
    ctx
        The pinged GHCR registry; ``ctx.credentials`` may carry a GitHub token.

    Returns
    -------
    ApiListing
        ``source`` ``"ghcr"``.

    Raises
    ------
    TagApiUnusable
        No token at hand, HTTP errors (a token without ``read:packages``), a version
        that is not a digest, a tag on two versions, pages that repeat.

    Examples
    --------
    For ``ghcr.io/home-assistant/home-assistant`` with ``$GITHUB_TOKEN`` set (any token with
    ``read:packages``):

    >>> listing = ghcr_listing(ctx)  # doctest: +SKIP
    >>> listing.source, listing.rows["stable"].pushed_source  # doctest: +SKIP
    ('ghcr', 'ghcr')
    """
    token = github_token(ctx.credentials.password if ctx.credentials else None)
    if token is None:
        raise TagApiUnusable("no GitHub token at hand ($GITHUB_TOKEN, $GH_TOKEN)")
    owner, _, package = ctx.reference.repository.partition("/")
    if not package:
        raise TagApiUnusable(f"{ctx.reference.repository!r} names no package")
    base = os.environ.get(GITHUB_API_ENV, _GITHUB_API).rstrip("/")
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    listing = ApiListing("ghcr")
    first = None
    for kind in ("orgs", "users"):
        url = (f"{base}/{kind}/{quote(owner, safe='')}/packages/container/"
               f"{quote(package, safe='')}/versions?per_page={_PAGE_SIZE}")  # fmt: skip
        reply = ctx.transport.request("GET", url, headers=headers)
        ctx.step(listing)
        if reply.status != 404:  # an owner is an organisation or a user
            first = (url, reply)
            break
    if first is None:
        raise TagApiUnusable(f"GitHub knows no container package {ctx.reference.repository}")
    return _read_versions(ctx, listing, first, headers)


def _read_versions(
    ctx: ApiContext, listing: ApiListing, first: tuple[str, Reply], headers: Mapping[str, str]
) -> ApiListing:
    url, reply = first
    if reply.status != 200:
        raise TagApiUnusable(f"GitHub answered HTTP {reply.status} for the package versions")
    try:
        versions = _API.json_list(json.loads(reply.body), "the version list")
    except (ValueError, RecursionError):
        raise TagApiUnusable("GitHub did not answer JSON") from None
    rest = _page_urls(url, reply)
    runner = JobRunner(ctx.transport.max_workers, progress=ctx.progress,
                       cancel=ctx.transport.cancelled)  # fmt: skip

    def read(page_url: str) -> tuple[list[Any], str | None]:
        doc, page_reply = _API.fetch_json(ctx.transport, page_url, headers=headers)
        return _API.json_list(doc, "the version list"), page_reply.headers.get("Link")

    pages = get_pages(rest, ctx.transport, runner, read)
    listing.requests += len(rest)
    pager = Pager("the GitHub API", "package versions")
    nxt = pager.next_url(url, reply.headers.get("Link"))
    for page_url, page in zip(rest, pages, strict=True):
        if isinstance(page, RegframeError):
            raise page
        if nxt is None or not _same_page(nxt, page_url):
            raise TagApiUnusable("GitHub's next links do not follow its rel=last page count")
        more, link = page
        versions += more
        nxt = pager.next_url(page_url, link)
    if nxt is not None:
        raise TagApiUnusable("GitHub links a page after the one it called the last")
    for item in versions:
        for name, row in _version_rows(_API.json_object(item, "a version")):
            _API.take_tag(listing, name, row)
    return listing


def _version_rows(version: Mapping[str, Any]) -> list[tuple[str, TagMetadata]]:
    """``(tag, row)`` for every tag of one package version (one digest)."""
    digest = version.get("name")
    meta = _API.json_object(version.get("metadata"), "a version's metadata")
    container = _API.json_object(meta.get("container"), "metadata.container")
    names = [_API.tag(t) for t in _API.json_list(container.get("tags"), "tags")]
    if not names:
        return []  # untagged: an older digest, or a child of a multi-arch image
    digest = _API.digest(digest, names[0])
    pushed = _API.time(version.get("created_at"), f"created_at of {digest[:19]}")
    row = api_row(source="ghcr", digest=digest, media_type=None, pushed_ns=pushed)
    return [(name, replace(row)) for name in names]


def _same_page(a: str, b: str) -> bool:
    """Two page URLs name the same page (query parameters in any order)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.netloc, pa.path, sorted(parse_qsl(pa.query))) == (
        pb.netloc, pb.path, sorted(parse_qsl(pb.query)),
    )  # fmt: skip


def _page_urls(url: str, reply: Reply) -> list[str]:
    """URLs of pages 2..last, from page 1's ``next`` link and the ``rel="last"`` page number."""
    link = parse_link_next(reply.headers.get("Link"))
    if link is None:
        return []
    nxt = urljoin(url, link)
    if origin_of(nxt) != origin_of(url):
        # Checked before any page is asked for: the token must not follow a link elsewhere.
        raise TagApiUnusable("GitHub linked its next page on another host")
    last = None
    for entry in requests.utils.parse_header_links(reply.headers.get("Link", "")):
        if entry.get("rel") == "last":
            last = dict(parse_qsl(urlsplit(entry.get("url", "")).query)).get("page")
    parts = urlsplit(nxt)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if dict(query).get("page") != "2" or last is None or not last.isdigit():
        raise TagApiUnusable("GitHub's Link header names no numbered pages")
    if int(last) > MAX_PAGES:
        raise TagApiUnusable(f"GitHub counts {last} pages: more than {MAX_PAGES}")

    def numbered(n: int) -> str:
        q = [(k, str(n) if k == "page" else v) for k, v in query]
        return urlunsplit(parts._replace(query=urlencode(q)))

    return [numbered(n) for n in range(2, int(last) + 1)]
