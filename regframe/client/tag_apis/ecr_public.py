"""Amazon ECR Public through its gallery's API: every tag with digest, size and times, 1,000 a page.

``POST https://api.us-east-1.gallery.ecr.aws/describeImageTags`` with
``{"registryAliasName", "repositoryName", "maxResults": 1000, "nextToken"}`` is what the
public gallery web page calls, anonymously.  It is undocumented; its answer has the shape
of the documented ``ecr-public:DescribeImageTags`` (``imageTagDetails[].{imageTag,
createdAt, imageDetail.{imageDigest, imageSizeInBytes, imagePushedAt,
imageManifestMediaType}}``, ``nextToken``), and times are accepted both as RFC 3339 text
and as epoch seconds.  Anything else falls back to the manifest walk.
``$REGFRAME_ECR_PUBLIC_API`` overrides the base URL.

``pushed`` is the later of the tag's ``createdAt`` and its image's ``imagePushedAt``: a
tag is never pushed before its image, and a re-tag onto an older image is dated by the tag.
ECR Public is recognised by its registry's challenge (service ``public.ecr.aws``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from regframe.client.tag_apis.shared import MAX_PAGES, ApiListing, positive_int
from regframe.client.tag_apis.strict import ApiContext, Cursors, StrictApi, api_row
from regframe.client.tag_metadata import TagMetadata
from regframe.errors import TagApiUnusable

__all__ = ["ECR_PUBLIC_API_ENV", "ECR_PUBLIC_PAGE_SIZE", "ecr_public_listing"]

#: Environment variable overriding the gallery API's base URL.
ECR_PUBLIC_API_ENV = "REGFRAME_ECR_PUBLIC_API"
#: ``maxResults`` maximum.
ECR_PUBLIC_PAGE_SIZE = 1000
_ECR_PUBLIC_API = "https://api.us-east-1.gallery.ecr.aws"
_API = StrictApi("ECR Public's gallery")


def ecr_public_listing(ctx: ApiContext) -> ApiListing:
    """List every tag of an ECR Public repository (``alias/name``) from the gallery API.

    Parameters
    ----------
    ctx
        The pinged ECR Public registry.

    Returns
    -------
    ApiListing
        ``source`` ``"ecr-public"``; one request per 1,000 tags, one after another
        (``nextToken`` cannot be guessed).

    Raises
    ------
    TagApiUnusable
        HTTP errors, shapes or values that are not the documented ones, a tag listed
        twice, a ``nextToken`` that comes back.

    Examples
    --------
    ``public.ecr.aws/docker/library/python`` is alias ``docker``, repository
    ``library/python``:

    >>> ecr_public_listing(ctx).source  # doctest: +SKIP
    'ecr-public'
    """
    alias, _, name = ctx.reference.repository.partition("/")
    if not name:
        raise TagApiUnusable(f"{ctx.reference.repository!r} names no gallery alias")
    url = os.environ.get(ECR_PUBLIC_API_ENV, _ECR_PUBLIC_API).rstrip("/") + "/describeImageTags"
    listing = ApiListing("ecr-public")
    cursors = Cursors(_API.name)
    request: dict[str, Any] = {
        "registryAliasName": alias,
        "repositoryName": name,
        "maxResults": ECR_PUBLIC_PAGE_SIZE,
    }
    for _page in range(MAX_PAGES):
        body = json.dumps(request).encode()
        doc, _reply = _API.fetch_json(ctx.transport, url, method="POST", body=body,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
        ctx.step(listing)
        page = _API.json_object(doc, "the answer")
        for item in _API.json_list(page.get("imageTagDetails", []), "imageTagDetails"):
            tag, row = _ecr_row(_API.json_object(item, "a tag"))
            _API.take_tag(listing, tag, row)
        token = page.get("nextToken")
        if token is None or token == "":
            return listing
        if not isinstance(token, str):
            raise TagApiUnusable(f"{_API.name} sent nextToken as {type(token).__name__}")
        cursors.check(token)
        request["nextToken"] = token
    raise TagApiUnusable(f"{_API.name} returned more than {MAX_PAGES} pages")


def _ecr_row(entry: Mapping[str, Any]) -> tuple[str, TagMetadata]:
    tag = _API.tag(entry.get("imageTag"))
    detail = _API.json_object(entry.get("imageDetail"), f"imageDetail of tag {tag}")
    created = _API.time(entry.get("createdAt"), f"createdAt of tag {tag}", epoch=True)
    pushed_image = _API.time(detail.get("imagePushedAt"), f"imagePushedAt of tag {tag}", epoch=True)
    times = [t for t in (created, pushed_image) if t is not None]
    return tag, api_row(
        source="ecr-public",
        digest=_API.digest(detail.get("imageDigest"), tag),
        media_type=detail.get("imageManifestMediaType"),
        pushed_ns=max(times) if times else None,
        size=positive_int(detail.get("imageSizeInBytes")),
    )
