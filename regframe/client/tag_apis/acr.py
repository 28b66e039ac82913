"""Azure Container Registry's metadata API: every tag with digest and times, 1,000 a page.

``GET /acr/v1/{repo}/_tags?n=1000`` (``repo`` percent-encoded whole) answers
``{"registry", "imageName", "tags": [{name, digest, createdTime, lastUpdateTime, …}]}``
and pages with ``Link: </acr/v1/…/_tags?last=TAG&n=…&orderby=>; rel="next"``; ACR ignores
``n`` above 1,000.  It needs a token scoped ``repository:{repo}:metadata_read`` from the
same realm as pulls (``/oauth2/token`` on the registry host), obtained anonymously where
the owner enabled anonymous pull, else with the user's registry credentials — the realm
is on the registry's own host, so nothing goes anywhere new.

``pushed`` is ``lastUpdateTime``: ACR sets it when the tag is pushed or moved to another
manifest (``createdTime`` is when the tag name first appeared).  ACR is recognised by its
challenge — realm ``/oauth2/token`` on the registry's own origin, naming the registry host
as ``service`` — never by the ``azurecr.io`` host name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from regframe.client.headers import Challenge
from regframe.client.tag_apis.shared import ApiListing
from regframe.client.tag_apis.strict import ApiContext, StrictApi, api_row
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import origin_of
from regframe.errors import TagApiUnusable

__all__ = ["ACR_PAGE_SIZE", "acr_listing", "is_acr"]

#: ACR answers at most 1,000 tags a page whatever ``n`` says.
ACR_PAGE_SIZE = 1000
_API = StrictApi("ACR")


def is_acr(challenge: Challenge | None, base_url: str) -> bool:
    """Tell ACR by its challenge: realm ``/oauth2/token`` on the registry's origin, service = host.

    Examples
    --------
    >>> from regframe.client.headers import parse_www_authenticate
    >>> ch = parse_www_authenticate('Bearer realm="https://r.azurecr.io/oauth2/token",'
    ...                             'service="r.azurecr.io"')[0]
    >>> is_acr(ch, "https://r.azurecr.io")
    True
    """
    if challenge is None or challenge.scheme != "bearer" or not challenge.realm:
        return False
    try:
        realm = urlsplit(challenge.realm)
        same_origin = origin_of(challenge.realm) == origin_of(base_url)
    except ValueError:
        return False
    host = urlsplit(base_url).netloc.lower()
    return (
        same_origin
        and realm.path.rstrip("/") == "/oauth2/token"
        and (challenge.service or "").lower() in (host, realm.netloc.lower())
    )


def acr_listing(ctx: ApiContext) -> ApiListing:
    """List every tag of an ACR repository with its digest and last update time.

    Parameters
    ----------
    ctx
        The pinged ACR registry; its authenticator fetches the ``metadata_read`` token.

    Returns
    -------
    ApiListing
        ``source`` ``"acr"``; one token request, then one request per 1,000 tags.

    Raises
    ------
    TagApiUnusable
        HTTP errors (a token without ``metadata_read``), shapes or values that are not
        ACR's, an answer about another repository, a tag listed twice, a looping link.

    Examples
    --------
    With ``ctx`` on ``myregistry.azurecr.io/library/hello-world``, anonymous pull enabled:

    >>> acr_listing(ctx).rows["latest"].pushed_source  # doctest: +SKIP
    'acr'
    """
    repo = ctx.reference.repository
    headers = ctx.client.auth.headers_for(f"repository:{repo}:metadata_read")
    url = f"{ctx.base_url}/acr/v1/{quote(repo, safe='')}/_tags?n={ACR_PAGE_SIZE}"

    def rows(doc: object) -> list[tuple[str, TagMetadata]]:
        page = _API.json_object(doc, "the tag list")
        if page.get("imageName") not in (None, repo):
            raise TagApiUnusable(f"ACR answered about {str(page.get('imageName'))[:80]!r}")
        return [
            _acr_row(_API.json_object(t, "a tag"))
            for t in _API.json_list(page.get("tags", []), "tags")
        ]

    return _API.follow_links(ctx, ApiListing("acr"), url, headers=headers, read=rows)


def _acr_row(entry: Mapping[str, Any]) -> tuple[str, TagMetadata]:
    name = _API.tag(entry.get("name"))
    created = _API.time(entry.get("createdTime"), f"createdTime of tag {name}")
    updated = _API.time(entry.get("lastUpdateTime"), f"lastUpdateTime of tag {name}")
    if created is not None and updated is not None and updated < created:
        raise TagApiUnusable(f"ACR says tag {name} was updated before it was created")
    return name, api_row(
        source="acr",
        digest=_API.digest(entry.get("digest"), name),
        # The tag list names no media type; ACR's manifest API would, per digest.
        media_type=None,
        pushed_ns=updated if updated is not None else created,
    )
