"""The tag APIs of Harbor, ACR, GitLab, GitHub and ECR Public, answered from a real registry.

Each function turns what a CNCF distribution registry really stores
(:class:`~regframe.testing.stored.StoredRepository`) into one page of a product's API, in
the shapes those products document and send (Harbor's ``swagger.yaml``, ACR's REST spec and
recorded SDK traffic, GitLab's ``docs/spec/gitlab/api.md``, GitHub's packages API, ECR
Public's ``DescribeImageTags``), with their paging (page numbers with ``X-Total-Count``,
``last`` cursors in ``Link`` headers, ``nextToken``) and their time formats.  A
:class:`Fault` makes an answer disagree with itself the way the readers must notice.

Test infrastructure only: :mod:`regframe.testing.api_shim` serves these beside the sandbox.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode

from regframe.testing.stored import StoredRepository, StoredTag

__all__ = [
    "Fault",
    "Page",
    "acr_page",
    "ecr_page",
    "github_page",
    "gitlab_page",
    "harbor_page",
]

#: How an answer may be made to disagree with itself.
Fault = Literal["duplicate", "bad-digest", "bad-time", "repeat-cursor", "count"]


@dataclass
class Page:
    """One API answer: status, headers and a JSON body."""

    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


def _iso(ns: int, digits: int = 3) -> str:
    """``2022-01-20T09:18:50.303Z`` with ``digits`` fraction digits (0: none)."""
    stamp = dt.datetime.fromtimestamp(ns // 1_000_000_000, dt.timezone.utc)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{ns % 1_000_000_000:09d}"[:digits]
    return text + "Z"


def _spoil(
    entries: list[dict[str, Any]], fault: Fault | None, digest_key: str | None, time_key: str
) -> None:
    """Make ``entries`` disagree with themselves (a repeated entry, a bad digest or time)."""
    if not entries:
        return
    if fault == "duplicate":
        entries.append(dict(entries[0]))
    elif fault == "bad-digest" and digest_key is not None:
        entries[0][digest_key] = "sha256:not-a-digest"
    elif fault == "bad-time":
        entries[0][time_key] = "last Tuesday"


def harbor_page(repo: StoredRepository, page: int, size: int, fault: Fault | None = None) -> Page:
    """``GET /api/v2.0/projects/{p}/repositories/{r}/artifacts?with_tag=true&q=tags=*``.

    Artifacts are the tagged digests in order of first push (Harbor's ``sort=id``); each
    carries its tags with ``push_time``; an image has ``extra_attrs`` (from its config) and
    a size of manifest + config + layers; an index has ``references``.
    """
    by_digest = repo.derived("harbor-artifacts", lambda: _by_digest(repo))
    digests = list(by_digest)
    chunk = digests[(page - 1) * size : page * size]
    artifacts = [_harbor_artifact(repo, n, d, by_digest[d]) for n, d in enumerate(chunk, 1)]
    if artifacts:
        _spoil(artifacts[0]["tags"], fault, None, "push_time")
        if fault == "bad-digest":
            artifacts[0]["digest"] = "sha256:not-a-digest"
    count = len(digests) + (1 if fault == "count" else 0)
    return Page(artifacts, {"X-Total-Count": str(count)})


def _by_digest(repo: StoredRepository) -> dict[str, list[StoredTag]]:
    """Tagged digests in order of first push (Harbor's artifact ids), with their tags."""
    by_digest: dict[str, list[StoredTag]] = {}
    for tag in sorted(repo.tags(), key=lambda t: (t.digest_first_ns, t.name)):
        by_digest.setdefault(tag.digest, []).append(tag)
    return by_digest


def _harbor_artifact(
    repo: StoredRepository, number: int, digest: str, tags: list[StoredTag]
) -> dict[str, Any]:
    facts = repo.facts(digest)
    artifact: dict[str, Any] = {
        "id": number,
        "type": "IMAGE",
        "digest": digest,
        "manifest_media_type": facts.media_type,
        "media_type": "application/vnd.oci.image.config.v1+json",
        "push_time": _iso(min(t.digest_first_ns for t in tags)),
        "pull_time": "0001-01-01T00:00:00.000Z",
        "references": None,
        "extra_attrs": None,
        "tags": [
            {"id": number * 1000 + i, "name": t.name, "push_time": _iso(t.pushed_ns),
             "pull_time": "0001-01-01T00:00:00.000Z", "immutable": False}
            for i, t in enumerate(tags)
        ],
    }  # fmt: skip
    if facts.is_index:
        artifact["size"] = facts.manifest_size + sum(
            repo.facts(c["digest"]).manifest_size + repo.facts(c["digest"]).size
            for c in facts.children
        )
        artifact["references"] = [
            {
                "child_digest": c["digest"],
                "platform": c["platform"],
                "annotations": c["annotations"],
            }
            for c in facts.children
        ]
    else:
        artifact["size"] = facts.manifest_size + facts.size
        artifact["extra_attrs"] = {
            "architecture": facts.architecture, "os": facts.os, "author": "",
            "created": facts.created or "0001-01-01T00:00:00Z",
        }  # fmt: skip
    return artifact


def _after(tags: list[StoredTag], last: str | None, n: int) -> tuple[list[StoredTag], bool]:
    """Tags sorted by name after ``last`` (exclusive), at most ``n``, and whether more follow."""
    ordered = sorted(tags, key=lambda t: t.name)
    rest = [t for t in ordered if last is None or t.name > last]
    return rest[:n], len(rest) > n


def acr_page(repo: StoredRepository, last: str | None, n: int, fault: Fault | None = None) -> Page:
    """``GET /acr/v1/{repo}/_tags?n=&last=``: tags by name, ``Link`` to the next page.

    ``createdTime`` is when the tag name first appeared, ``lastUpdateTime`` when it was last
    pushed, both with ACR's seven fraction digits; ``n`` above 1,000 is treated as 1,000.
    """
    chunk, more = _after(repo.tags(), last, min(n, 1000))
    tags = [
        {"name": t.name, "digest": t.digest, "createdTime": _iso(t.created_ns, 7),
         "lastUpdateTime": _iso(t.pushed_ns, 7), "signed": False,
         "changeableAttributes": {"deleteEnabled": True, "writeEnabled": True,
                                  "readEnabled": True, "listEnabled": True}}
        for t in chunk
    ]  # fmt: skip
    _spoil(tags, fault, "digest", "lastUpdateTime")
    headers = {}
    if more:
        cursor = last if fault == "repeat-cursor" and last else chunk[-1].name
        query = urlencode({"last": cursor, "n": min(n, 1000), "orderby": ""})
        headers["Link"] = f'</acr/v1/{quote(repo.name, safe="")}/_tags?{query}>; rel="next"'
    return Page({"registry": "", "imageName": repo.name, "tags": tags}, headers)


def gitlab_page(
    repo: StoredRepository, base: str, last: str | None, n: int, fault: Fault | None = None
) -> Page:
    """``GET /gitlab/v1/repositories/{path}/tags/list/?n=&last=``: an array, ``Link`` next.

    ``created_at`` is the tag's first appearance, ``updated_at`` (only when it moved) and
    ``published_at`` its last push, in GitLab's millisecond format.
    """
    if not 1 <= n <= 1000:
        return Page({"errors": [{"code": "INVALID_QUERY_PARAMETER_VALUE"}]}, status=400)
    chunk, more = _after(repo.tags(), last, n)
    tags = []
    for t in chunk:
        facts = repo.facts(t.digest)
        entry = {"name": t.name, "digest": t.digest, "media_type": facts.media_type,
                 "size_bytes": facts.size, "created_at": _iso(t.created_ns),
                 "published_at": _iso(max(t.created_ns, t.pushed_ns))}  # fmt: skip
        if t.pushed_ns > t.created_ns:
            entry["updated_at"] = _iso(t.pushed_ns)
        tags.append(entry)
    _spoil(tags, fault, "digest", "published_at")
    headers = {}
    if more:
        cursor = last if fault == "repeat-cursor" and last else chunk[-1].name
        url = f"{base}/gitlab/v1/repositories/{repo.name}/tags/list/?" + urlencode(
            {"n": n, "last": cursor}
        )
        headers["Link"] = f'<{url}>; rel="next"'
    return Page(tags, headers)


def github_page(
    repo: StoredRepository, url: str, page: int, per_page: int, fault: Fault | None = None
) -> Page:
    """``GET /{orgs|users}/{owner}/packages/container/{name}/versions``: versions, Link pages.

    One version per digest — the tagged ones and, like GHCR, the untagged children of
    multi-arch images — newest first, ``created_at`` when the digest was first pushed
    (GitHub's whole seconds).  ``Link`` names ``next`` and ``last`` page numbers.
    """
    versions = repo.derived("github-versions", lambda: _github_versions(repo))
    per_page = min(max(per_page, 1), 100)
    last = max(1, -(-len(versions) // per_page))
    chunk = versions[(page - 1) * per_page : page * per_page]
    body = [dict(v, metadata={"package_type": "container", "container": {"tags": v["tags"]}})
            for v in chunk]  # fmt: skip
    for entry in body:
        del entry["tags"]
    # Spoil a tagged version: an untagged one listed twice would contradict nothing.
    tagged = [v for v in body if v["metadata"]["container"]["tags"]]
    _spoil(tagged or body, fault, "name", "created_at")
    if fault == "duplicate" and tagged:
        body.append(tagged[-1])
    links = []
    if page < last:
        following = page if fault == "repeat-cursor" and page > 1 else page + 1
        links.append(f'<{url}?per_page={per_page}&page={following}>; rel="next"')
        links.append(f'<{url}?per_page={per_page}&page={last}>; rel="last"')
    return Page(body, {"Link": ", ".join(links)} if links else {})


def _github_versions(repo: StoredRepository) -> list[dict[str, Any]]:
    first: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    for t in repo.tags():
        first[t.digest] = min(first.get(t.digest, t.digest_first_ns), t.digest_first_ns)
        names.setdefault(t.digest, []).append(t.name)
    for digest in list(names):
        for child in repo.facts(digest).children:
            first.setdefault(child["digest"], first[digest])
            names.setdefault(child["digest"], [])
    ordered = sorted(first, key=lambda d: (-first[d], d))
    return [
        {"id": 1000 + i, "name": d, "created_at": _iso(first[d], 0),
         "updated_at": _iso(first[d], 0), "tags": names[d]}
        for i, d in enumerate(ordered)
    ]  # fmt: skip


def ecr_page(
    repo: StoredRepository, request: Mapping[str, Any], fault: Fault | None = None
) -> Page:
    """``POST /describeImageTags``: ``imageTagDetails`` and a ``nextToken``.

    Times are epoch seconds, as the AWS JSON protocol sends them: ``createdAt`` when the tag
    was last pushed, ``imagePushedAt`` when its digest was first pushed.
    """
    size = int(request.get("maxResults") or 100)
    if not 1 <= size <= 1000:
        return Page({"__type": "InvalidParameterException"}, status=400)
    token = request.get("nextToken")
    start = int(base64.b64decode(token)) if isinstance(token, str) and token else 0
    tags = sorted(repo.tags(), key=lambda t: t.name)
    details: list[dict[str, Any]] = []
    for t in tags[start : start + size]:
        facts = repo.facts(t.digest)
        details.append({
            "imageTag": t.name,
            "createdAt": t.pushed_ns / 1e9,
            "imageDetail": {"imageDigest": t.digest, "imageSizeInBytes": facts.size,
                            "imagePushedAt": t.digest_first_ns / 1e9,
                            "imageManifestMediaType": facts.media_type},
        })  # fmt: skip
    _spoil(details, fault, None, "createdAt")
    if details and fault == "bad-digest":
        details[0]["imageDetail"]["imageDigest"] = "sha256:not-a-digest"
    body: dict[str, Any] = {"imageTagDetails": details}
    if start + size < len(tags):
        following = start if fault == "repeat-cursor" and start else start + size
        body["nextToken"] = base64.b64encode(str(following).encode()).decode()
    return Page(body)
