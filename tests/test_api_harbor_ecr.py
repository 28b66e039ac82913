"""Harbor's artifact API and ECR Public's gallery API against SCRIPTED servers.

Neither service is reachable here: ``tests/scripted_apis.py`` plays them from their
documented shapes and from real answers recorded in public repositories (Harbor: the artifact
body in goharbor/harbor ``src/controller/artifact/model_test.go``; ECR Public: the tag
details in NASA-IMPACT/veda-jh-environments ``docs/2i2c_singleuser_image.md``).  The same
paths run beside a real registry in ``tests/test_api_shims.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.scripted import ScriptedServer
from tests.scripted_apis import (
    ECR_CHALLENGE,
    dg,
    ecr_details,
    harbor_artifacts,
    listing_of,
    load,
    ns,
    serve_ecr_gallery,
    serve_harbor,
    serve_ping,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


@pytest.fixture
def api() -> Iterator[ScriptedServer]:
    """A second host for APIs that live elsewhere than the registry (the ECR gallery)."""
    with ScriptedServer("127.0.0.4") as s:
        yield s


# ------------------------------------------------------------------------------------ Harbor


def test_harbor_recorded_artifact(server: ScriptedServer) -> None:
    serve_harbor(server, "library/redis", load("harbor_artifacts_redis.json"))
    listing = listing_of(server, "library/redis")
    assert listing is not None and listing.source == "harbor"
    row = listing.rows["latest"]
    # Values of the recorded answer: the tag's push_time, the config's created.
    assert row.digest == "sha256:e4b315ad03a1d1d9ff0c111e648a1a91066c09ead8352d3d6a48fa971a82922c"
    assert (row.pushed_source, row.pushed_ns) == ("harbor", ns("2022-01-20T09:18:50.303Z"))
    assert (row.created_source, row.created_ns) == ("harbor", ns("2020-01-03T01:29:15.570681619Z"))
    assert (row.media_type, row.platforms, row.size) == (DOCKER_V2, "linux/amd64", 35804754)
    assert row.attested is False
    # The ping and one page: Harbor's API is asked anonymously, no token request.
    paths = [r.path for r in server.requests]
    assert paths == ["/v2/", "/api/v2.0/projects/library/repositories/redis/artifacts"]
    page = server.requests[1]
    assert "Authorization" not in page.headers
    assert page.query == {"with_tag": "true", "q": "tags=*", "sort": "id", "page_size": "100",
                          "page": "1"}  # fmt: skip


def test_harbor_pages_fetched_at_once_from_the_count(server: ScriptedServer) -> None:
    # 250 artifacts with 2 tags each: 500 tags in ceil(250/100) = 3 pages + the ping.
    serve_harbor(server, "team/sub/app", harbor_artifacts(250, tags_per=2))
    listing = listing_of(server, "team/sub/app")
    assert listing is not None and len(listing.tags) == 500 and listing.requests == 3
    assert len(server.requests) == 4 <= -(-500 // 100) + 3
    pages = sorted(r.query["page"] for r in server.requests[1:])
    assert pages == ["1", "2", "3"]
    # A nested repository name is encoded twice in the path (Harbor decodes once itself).
    assert server.requests[1].path.endswith("/repositories/sub%252Fapp/artifacts")
    assert listing.rows["1.249.1"].pushed_ns == ns("2022-01-26T09:18:01.303Z")


def _index_artifact() -> dict[str, object]:
    art = harbor_artifacts(1)[0]
    art.update(manifest_media_type=OCI_INDEX, extra_attrs={}, size=12345, references=[
        {"child_digest": dg("amd"), "platform": {"os": "linux", "architecture": "amd64"}},
        {"child_digest": dg("arm"), "platform": {"os": "linux", "architecture": "arm64",
                                                 "variant": "v8"}},
        {"child_digest": dg("att"), "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                         "vnd.docker.reference.digest": dg("arm")}},
    ])  # fmt: skip
    return art


@pytest.mark.parametrize(
    ("platform", "attested", "error"),
    [("linux/arm64", True, None), ("linux/amd64", False, None),
     ("linux/s390x", None, "no image for platform linux/s390x (has: linux/amd64,linux/arm64/v8)")],
)  # fmt: skip
def test_harbor_index_platforms_from_references(
    server: ScriptedServer, platform: str, attested: bool | None, error: str | None
) -> None:
    serve_harbor(server, "library/app", [_index_artifact()])
    listing = listing_of(server, "library/app", platform)
    assert listing is not None
    row = listing.rows["1.0.0"]
    assert (row.media_type, row.platforms) == (OCI_INDEX, "linux/amd64,linux/arm64/v8")
    # An index has no build time of its own and no single size.
    assert (row.created_ns, row.size, row.attested, row.error) == (None, None, attested, error)
    assert row.pushed_source == "harbor"


def _spoil_harbor(kind: str) -> tuple[list[dict[str, object]], int | None]:
    arts = harbor_artifacts(3)
    total = None
    if kind == "duplicate":
        arts[2]["tags"] = [dict(arts[2]["tags"][0], name="1.0.0")]  # type: ignore[index]
    elif kind == "digest":
        arts[1]["digest"] = "sha256:../../etc"
    elif kind == "time":
        arts[1]["tags"][0]["push_time"] = "20 Jan 2022"  # type: ignore[index]
    elif kind == "count":
        total = 4
    elif kind == "untagged":
        arts[0]["tags"] = []
    return arts, total


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("duplicate", "listed tag 1.0.0 twice"), ("digest", "a digest that is not a digest"),
     ("time", "push_time of tag 1.1.0 in an unexpected form"),
     ("count", "counts 4 artifacts but its pages hold 3"), ("untagged", "untagged artifact")],
)  # fmt: skip
def test_harbor_answers_that_disagree_fall_back(
    server: ScriptedServer, kind: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    arts, total = _spoil_harbor(kind)
    serve_harbor(server, "library/app", arts, total=total)
    with caplog.at_level(logging.DEBUG, logger="regframe.client.tag_apis"):
        assert listing_of(server, "library/app") is None
    assert "Harbor tag API for" in caplog.text and "walking manifests" in caplog.text
    assert reason in caplog.text


def test_harbor_needs_harbors_challenge(server: ScriptedServer) -> None:
    # The same API on a registry whose challenge is not Harbor's is never asked.
    serve_harbor(server, "library/app", harbor_artifacts(2))
    serve_ping(server, 'Bearer realm="{url}/service/token",service="registry.example"',
               r"/service/token")  # fmt: skip
    assert listing_of(server, "library/app") is None
    assert [r.path for r in server.requests] == ["/v2/"]


# -------------------------------------------------------------------------------- ECR Public


@pytest.fixture
def gallery(api: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("REGFRAME_ECR_PUBLIC_API", api.url)
    return api


def test_ecr_public_recorded_tags(server: ScriptedServer, gallery: ScriptedServer) -> None:
    serve_ping(server, ECR_CHALLENGE, r"/token/")
    recorded = load("ecr_public_nasa_veda_singleuser.json")["imageTagDetails"]
    serve_ecr_gallery(gallery, "nasa/nasa-veda-singleuser", recorded)
    listing = listing_of(server, "nasa/nasa-veda-singleuser")
    assert listing is not None and listing.source == "ecr-public"
    assert sorted(listing.tags) == ["0.0.1", "2023-08-14", "b807c7efa97c8df9ca38779f7e59d09f889fde"
                                    "9299b0d19de80389cf6b064f90", "latest"]  # fmt: skip
    row = listing.rows["latest"]
    assert row.digest == "sha256:d93e572d19ffa270ccbab1fa315d45e73249527d4410091688709b16408b70ad"
    # The tag was created 1.5 s after its image was pushed: the later one is the tag's push.
    assert (row.pushed_source, row.pushed_ns) == ("ecr-public", ns("2023-08-14T09:44:24.211-07:00"))
    assert (row.size, row.media_type, row.created_ns) == (2668455672, DOCKER_V2, None)
    # One ping to the registry, one POST to the gallery host, both anonymous.
    assert [r.path for r in server.requests] == ["/v2/"]
    (post,) = gallery.requests
    assert (post.method, post.path, post.headers["Content-Type"]) == (
        "POST", "/describeImageTags", "application/json")  # fmt: skip
    assert post.json() == {"registryAliasName": "nasa", "repositoryName": "nasa-veda-singleuser",
                           "maxResults": 1000}  # fmt: skip
    assert "Authorization" not in post.headers


def test_ecr_public_pages_follow_next_token(
    server: ScriptedServer, gallery: ScriptedServer
) -> None:
    serve_ping(server, ECR_CHALLENGE, r"/token/")
    serve_ecr_gallery(gallery, "docker/library/python", ecr_details(2500))
    listing = listing_of(server, "docker/library/python")
    assert listing is not None and len(listing.tags) == 2500
    assert listing.requests == len(gallery.requests) == 3 == -(-2500 // 1000)
    tokens = [r.json().get("nextToken") for r in gallery.requests]
    assert tokens[0] is None and len(set(tokens)) == 3
    assert gallery.requests[0].json()["repositoryName"] == "library/python"


def test_ecr_public_takes_epoch_times(server: ScriptedServer, gallery: ScriptedServer) -> None:
    # The AWS JSON protocol sends times as epoch seconds; the gallery is undocumented.
    details = ecr_details(1)
    details[0]["createdAt"] = 1692031463.264
    details[0]["imageDetail"]["imagePushedAt"] = 1692031462.678
    serve_ping(server, ECR_CHALLENGE, r"/token/")
    serve_ecr_gallery(gallery, "nasa/app", details)
    listing = listing_of(server, "nasa/app")
    assert listing is not None
    assert listing.rows[details[0]["imageTag"]].pushed_ns == 1692031463264000000


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("repeat", "repeated a pagination cursor"), ("duplicate", "twice"),
     ("digest", "a digest that is not a digest"), ("time", "createdAt of tag 2023.0.1 in an"),
     ("milliseconds", "imagePushedAt of tag 2023.0.1 in an unexpected form")],
)  # fmt: skip
def test_ecr_public_answers_that_disagree_fall_back(
    server: ScriptedServer, gallery: ScriptedServer, kind: str, reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    details = ecr_details(2500 if kind == "repeat" else 3)
    if kind == "duplicate":
        details[2]["imageTag"] = details[0]["imageTag"]
    elif kind == "digest":
        details[1]["imageDetail"]["imageDigest"] = "d93e572d19ffa270"
    elif kind == "time":
        details[1]["createdAt"] = "Aug 14, 2023"
    elif kind == "milliseconds":
        details[1]["imageDetail"]["imagePushedAt"] = 1692031462678
    serve_ping(server, ECR_CHALLENGE, r"/token/")
    serve_ecr_gallery(gallery, "nasa/app", details, token_repeats=kind == "repeat")
    with caplog.at_level(logging.DEBUG, logger="regframe.client.tag_apis"):
        assert listing_of(server, "nasa/app") is None
    assert "ECR Public tag API for" in caplog.text and reason in caplog.text
    if kind == "repeat":
        assert len(gallery.requests) == 2  # page 2 hands back page 1's cursor: stop there


def test_ecr_public_needs_its_challenge_not_its_name(
    server: ScriptedServer, gallery: ScriptedServer
) -> None:
    serve_ping(server, 'Bearer realm="{url}/token/",service="registry.example"', r"/token/")
    serve_ecr_gallery(gallery, "nasa/app", ecr_details(3))
    assert listing_of(server, "nasa/app") is None
    assert gallery.requests == []
