"""Harbor's artifact API: every tagged artifact with its tags' push times, 100 artifacts a page.

``GET /api/v2.0/projects/{project}/repositories/{repo}/artifacts?with_tag=true&q=tags=*``
(``repo`` URL-encoded twice when it holds a ``/``; Harbor's router decodes once itself)
lists the tagged artifacts of a repository, ``X-Total-Count`` says how many, so every page
after the first is fetched at once.  Per tag ``push_time`` is when the tag last moved to its
artifact (``pushed``); a single image's ``extra_attrs.created`` is the ``created`` Harbor
copied from its config (``created_source`` ``"harbor"``); an index's ``references`` name
its children's platforms.  Public projects answer anonymously; anything else (a private
project, another product at that path) falls back to the manifest walk.

Harbor is recognised by its registry's token challenge — realm ``…/service/token`` and
service ``harbor-registry`` — never by its host name, so a Harbor on loopback qualifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from regframe.client.jobs import JobRunner
from regframe.client.manifests import INDEX_MEDIA_TYPES, Descriptor, Index
from regframe.client.platforms import Platform, has_attestation, index_platforms, select_child
from regframe.client.tag_apis.shared import MAX_PAGES, ApiListing, get_pages, positive_int
from regframe.client.tag_apis.strict import ApiContext, StrictApi, api_row
from regframe.client.tag_metadata import TagMetadata
from regframe.client.transport import Reply
from regframe.errors import RegframeError, TagApiUnusable

__all__ = ["HARBOR_PAGE_SIZE", "harbor_listing"]

#: Harbor's ``page_size`` maximum.
HARBOR_PAGE_SIZE = 100
_API = StrictApi("Harbor")


def harbor_listing(ctx: ApiContext) -> ApiListing:
    """List every tag of a Harbor repository from its artifacts, pages fetched concurrently.

    Parameters
    ----------
    ctx
        The pinged Harbor registry and the platform to describe.

    Returns
    -------
    ApiListing
        ``source`` ``"harbor"``; one request per 100 tagged artifacts.

    Raises
    ------
    TagApiUnusable
        An HTTP error, a shape or value that is not Harbor's, a tag listed twice, or pages
        that disagree with ``X-Total-Count`` (the repository changed while it was read).

    Examples
    --------
    On ``harbor.example/library/app``, public project ``library``:

    >>> harbor_listing(ctx).tags  # doctest: +SKIP
    ['1.0', 'latest']
    """
    project, _, repo = ctx.reference.repository.partition("/")
    if not repo:
        raise TagApiUnusable(f"{ctx.reference.repository!r} names no Harbor project")
    # Harbor's own clients encode a repository name twice: its router unescapes once
    # before matching, so a single %2F would split the path.
    prefix = (
        f"{ctx.base_url}/api/v2.0/projects/{quote(project, safe='')}/repositories/"
        f"{quote(quote(repo, safe=''), safe='')}/artifacts?with_tag=true&q=tags%3D%2A"
        f"&sort=id&page_size={HARBOR_PAGE_SIZE}&page="
    )
    listing = ApiListing("harbor")
    artifacts, count = _read_page(ctx, prefix + "1")
    ctx.step(listing)
    last = max(1, -(-count // HARBOR_PAGE_SIZE))
    if last > MAX_PAGES:
        raise TagApiUnusable(f"Harbor counts {count} artifacts: more than {MAX_PAGES} pages")
    urls = [prefix + str(n) for n in range(2, last + 1)]
    runner = JobRunner(ctx.transport.max_workers, progress=ctx.progress,
                       cancel=ctx.transport.cancelled)  # fmt: skip
    pages = get_pages(urls, ctx.transport, runner, lambda url: _read_page(ctx, url))
    listing.requests += len(urls)
    for page in pages:
        if isinstance(page, RegframeError):
            raise page
        more, page_count = page
        if page_count != count:
            raise TagApiUnusable(f"Harbor's count moved from {count} to {page_count} mid-listing")
        artifacts += more
    if len(artifacts) != count:
        raise TagApiUnusable(f"Harbor counts {count} artifacts but its pages hold {len(artifacts)}")
    for artifact in artifacts:
        for name, row in _artifact_rows(artifact, ctx.want):
            _API.take_tag(listing, name, row)
    return listing


def _read_page(ctx: ApiContext, url: str) -> tuple[list[Any], int]:
    """One page's artifacts and the ``X-Total-Count`` it announces."""
    doc, reply = _API.fetch_json(ctx.transport, url)
    artifacts = _API.json_list(doc, "the artifact list")
    count = _total_count(reply)
    if len(artifacts) > HARBOR_PAGE_SIZE:
        raise TagApiUnusable(f"Harbor sent {len(artifacts)} artifacts on a page of 100")
    return artifacts, count


def _total_count(reply: Reply) -> int:
    value = (reply.headers.get("X-Total-Count") or "").strip()
    if not (value.isascii() and value.isdigit()):
        raise TagApiUnusable(f"Harbor sent no usable X-Total-Count ({value[:20]!r})")
    return int(value)


def _artifact_rows(item: object, want: Platform | None) -> list[tuple[str, TagMetadata]]:
    """``(tag, row)`` for every tag of one artifact."""
    artifact = _API.json_object(item, "an artifact")
    tags = _API.json_list(artifact.get("tags"), "an artifact's tags")
    if not tags:
        raise TagApiUnusable("Harbor listed an untagged artifact although asked for tags=*")
    names = [_API.tag(_API.json_object(t, "a tag").get("name")) for t in tags]
    digest = _API.digest(artifact.get("digest"), names[0])
    kind = artifact.get("manifest_media_type")
    references = artifact.get("references")
    if kind in INDEX_MEDIA_TYPES or references:
        described = _index_facts(_API.json_list(references, "references"), digest, want)
    else:
        described = _image_facts(artifact)
    rows = []
    for name, tag in zip(names, tags, strict=True):
        pushed = _API.time(tag.get("push_time"), f"push_time of tag {name}")
        rows.append((name, api_row(source="harbor", digest=digest, media_type=kind,
                                   pushed_ns=pushed, **described)))  # fmt: skip
    return rows


def _image_facts(artifact: Mapping[str, Any]) -> dict[str, Any]:
    """A single image: its platform, Harbor's size, and the config's build time."""
    extra = artifact.get("extra_attrs")
    extra = _API.json_object(extra, "extra_attrs") if extra is not None else {}
    os_, arch = extra.get("os"), extra.get("architecture")
    platform = (
        f"{os_}/{arch}" if isinstance(os_, str) and os_ and isinstance(arch, str) and arch else None
    )
    return {
        "platforms": platform,
        "size": positive_int(artifact.get("size")),
        "created_ns": _API.time(extra.get("created"), "extra_attrs.created"),
        "attested": False,
    }


def _index_facts(references: list[Any], digest: str, want: Platform | None) -> dict[str, Any]:
    """An index: its platforms and attestation from ``references``; no size or build time."""
    children = []
    for item in references:
        ref = _API.json_object(item, "a reference")
        child = _API.digest(ref.get("child_digest"), f"child of {digest[:19]}")
        p = ref.get("platform")
        p = _API.json_object(p, "a platform") if p is not None else {}
        annotations = ref.get("annotations")
        annotations = annotations if isinstance(annotations, dict) else {}
        platform = (
            Platform(p["os"], p["architecture"], p.get("variant") or None)
            if isinstance(p.get("os"), str) and isinstance(p.get("architecture"), str)
            else None
        )
        children.append(Descriptor("", child, 0, platform, annotations))
    index = Index("", tuple(children))
    chosen = select_child(index, want)
    platforms = index_platforms(index) or None
    if chosen is None:
        error = f"no image for platform {want or 'any'} (has: {platforms or 'none'})"
        return {"platforms": platforms, "error": error}
    return {"platforms": platforms, "attested": has_attestation(index, chosen)}
