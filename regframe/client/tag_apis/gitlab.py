"""GitLab's container registry API: every tag with digest, size and publish time, 1,000 a page.

``GET /gitlab/v1/repositories/{path}/tags/list/?n=1000`` is the registry's own extension
(GitLab container registry with its metadata database; ``404`` without it) and takes the
same bearer token as ``/v2/`` with ``pull`` scope.  Each entry carries ``digest``,
``media_type``, ``size_bytes``, ``created_at``, ``updated_at`` (the tag moved to another
manifest) and ``published_at`` (the later of the two: ``pushed``).  Pages follow the
``Link: <…&last=TAG>; rel="next"`` header.  There is no build time and no platform list.

GitLab is recognised by its registry's token challenge — realm ``…/jwt/auth``, service
``container_registry`` — never by its host name.  GitLab's REST API, which needs one
request per tag for dates, is not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regframe.client.tag_apis.shared import ApiListing, positive_int
from regframe.client.tag_apis.strict import ApiContext, StrictApi, api_row
from regframe.client.tag_metadata import TagMetadata
from regframe.errors import TagApiUnusable

__all__ = ["GITLAB_PAGE_SIZE", "gitlab_listing"]

#: The API's ``n`` maximum.
GITLAB_PAGE_SIZE = 1000
_API = StrictApi("GitLab")


def gitlab_listing(ctx: ApiContext) -> ApiListing:
    """List every tag of a GitLab registry repository with its publish time.

    Parameters
    ----------
    ctx
        The pinged GitLab registry; its authenticator supplies the ``pull`` token (the
        same one manifest requests would use).

    Returns
    -------
    ApiListing
        ``source`` ``"gitlab"``; one request per 1,000 tags.

    Raises
    ------
    TagApiUnusable
        HTTP errors (``404`` when the registry runs without its metadata database), shapes
        or values that are not GitLab's, a tag listed twice, a link back to a page already
        read.

    Examples
    --------
    GitLab.com's registry runs with the metadata database; with ``ctx`` on
    ``registry.gitlab.com/gitlab-org/gitlab-runner``, sizes come with the listing:

    >>> gitlab_listing(ctx).rows["latest"].size is not None  # doctest: +SKIP
    True
    """
    headers = ctx.client.auth.headers_for(ctx.client.scope)
    url = (
        f"{ctx.base_url}/gitlab/v1/repositories/{ctx.reference.repository}/tags/list/"
        f"?n={GITLAB_PAGE_SIZE}"
    )
    listing = ApiListing("gitlab")
    return _API.follow_links(ctx, listing, url, headers=headers, read=_page_rows)


def _page_rows(doc: object) -> list[tuple[str, TagMetadata]]:
    return [_gitlab_row(_API.json_object(item, "a tag")) for item in _API.json_list(doc, "tags")]


def _gitlab_row(entry: Mapping[str, Any]) -> tuple[str, TagMetadata]:
    name = _API.tag(entry.get("name"))
    times = {
        key: _API.time(entry.get(key), f"{key} of tag {name}")
        for key in ("published_at", "updated_at", "created_at")
    }
    # published_at is the later of created_at and updated_at (GitLab 16.11+; older
    # registries send only those two): an answer where it is not disagrees with itself.
    latest = max((t for t in (times["created_at"], times["updated_at"]) if t), default=None)
    pushed = times["published_at"]
    if pushed is None:
        pushed = latest
    elif latest is not None and pushed != latest:
        raise TagApiUnusable(f"GitLab's published_at of tag {name} is neither its created_at "
                             "nor its updated_at")  # fmt: skip
    return name, api_row(
        source="gitlab",
        digest=_API.digest(entry.get("digest"), name),
        media_type=entry.get("media_type"),
        pushed_ns=pushed,
        size=positive_int(entry.get("size_bytes")),
    )
