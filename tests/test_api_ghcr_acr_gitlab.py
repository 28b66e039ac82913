"""GitHub's packages API (GHCR), ACR's ``/acr/v1`` and GitLab's ``/gitlab/v1`` against SCRIPTED servers.

None of these services is reachable here: ``tests/scripted_apis.py`` plays them from their
documented shapes and recorded answers (GHCR: the version list in
shaneapowell/ghaction-package-admin's README; ACR: Azure/azure-sdk-for-js's recorded
``_tags`` traffic and the azure-rest-api-specs example; GitLab: only the example of
``docs/spec/gitlab/api.md`` — no recorded answer was found).  Credential routing is checked
on recording servers: a token for one API reaches that API's host and nothing else.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import regframe as rf
from regframe.client.credentials import Credentials
from tests.scripted import Response, ScriptedServer
from tests.scripted_apis import (
    GHCR_CHALLENGE,
    acr_tags,
    ghcr_versions,
    gitlab_tags,
    listing_of,
    load,
    ns,
    serve_acr,
    serve_ghcr_api,
    serve_gitlab,
    serve_ping,
)

TOKEN = "ghp_" + "T0kenForTests" * 3
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """GitHub's API on its own host; ``$GITHUB_TOKEN``/``$GH_TOKEN`` unset by default."""
    with ScriptedServer("127.0.0.4") as s:
        monkeypatch.setenv("REGFRAME_GITHUB_API", s.url)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GH_TOKEN", raising=False)
        yield s


def ghcr(server: ScriptedServer, repo: str) -> None:
    serve_ping(server, GHCR_CHALLENGE.replace("{repo}", repo), r"/token")


# -------------------------------------------------------------------------------------- GHCR


def test_ghcr_recorded_versions(
    server: ScriptedServer, github: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    ghcr(server, "airstriptech/pysim")
    versions = load("ghcr_versions_airstriptech_pysim.json")
    serve_ghcr_api(github, "airstriptech", "pysim", versions, token=TOKEN)
    listing = listing_of(server, "airstriptech/pysim")
    assert listing is not None and listing.source == "ghcr"
    # 30 versions, 9 tagged, 10 tags: the untagged ones are older digests.
    assert len(listing.tags) == 10 and "DEVELOP-latest" in listing.tags
    latest, tip = listing.rows["DEVELOP-latest"], listing.rows["DEVELOP-182"]
    assert latest.digest == tip.digest == versions[0]["name"]
    # created_at is the digest's first push, GitHub's only date.
    assert (latest.pushed_source, latest.pushed_ns) == ("ghcr", ns("2024-03-24T01:36:20Z"))
    assert listing.rows["DEVELOP-174"].pushed_ns == ns("2024-03-22T23:08:02Z")
    (ask,) = github.requests
    assert ask.path == "/orgs/airstriptech/packages/container/pysim/versions"
    assert ask.query["per_page"] == "100"
    assert ask.headers["Accept"] == "application/vnd.github+json"


def test_ghcr_token_goes_to_the_github_api_only(
    server: ScriptedServer, github: ScriptedServer, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, tmp_path: Path,
) -> None:  # fmt: skip
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    ghcr(server, "o/app")
    serve_ghcr_api(github, "o", "app", ghcr_versions(3), token=TOKEN)
    history = tmp_path / "history.sqlite"
    with caplog.at_level(logging.DEBUG):
        df = rf.read_tags(f"{server.host}/o/app", dates=True, history=history, cache=False)
    assert list(df.pushed_source.astype(str)) == ["ghcr"] * 3
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in github.requests)
    # The registry side (ping, realm) never sees it; no log, frame or store holds it.
    assert all(TOKEN not in str(r.headers) + r.target for r in server.requests)
    assert TOKEN not in caplog.text
    assert TOKEN not in df.to_csv()
    assert TOKEN.encode() not in history.read_bytes()


def test_ghcr_token_never_follows_a_link_to_another_host(
    server: ScriptedServer, github: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    ghcr(server, "o/app")
    # Page 1 names pages 2 and 3 on the registry's host instead of the API's.
    serve_ghcr_api(github, "o", "app", ghcr_versions(250), token=TOKEN, link_host=server.url)
    assert listing_of(server, "o/app") is None
    assert len(github.requests) == 1
    assert [r.path for r in server.requests] == ["/v2/"]


def test_ghcr_without_a_token_asks_nothing(server: ScriptedServer, github: ScriptedServer) -> None:
    ghcr(server, "o/app")
    serve_ghcr_api(github, "o", "app", ghcr_versions(3), token=TOKEN)
    assert listing_of(server, "o/app") is None
    assert github.requests == []
    # A registry password that is not a GitHub token is not sent to GitHub either.
    assert listing_of(server, "o/app", auth=Credentials("me", "hunter2-registry")) is None
    assert github.requests == []


def test_ghcr_explicit_auth_token_and_user_owner(
    server: ScriptedServer, github: ScriptedServer
) -> None:
    ghcr(server, "someone/app")
    serve_ghcr_api(github, "someone", "app", ghcr_versions(250, untagged=150), token=TOKEN,
                   kind="users")  # fmt: skip
    listing = listing_of(server, "someone/app", auth=Credentials("someone", TOKEN))
    assert listing is not None and len(listing.tags) == 250
    # orgs/ answers 404 (a user), then 4 pages of 100 versions; pages 2-4 from rel="last".
    kinds = [r.path.split("/")[1] for r in github.requests]
    assert kinds[0] == "orgs" and kinds[1:] == ["users"] * 4
    assert sorted(r.query.get("page", "1") for r in github.requests[1:]) == ["1", "2", "3", "4"]
    assert listing.requests == 5


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("loop", "pagination loops"), ("duplicate", "listed tag DEVELOP-0 twice"),
     ("digest", "a digest that is not a digest"), ("time", "in an unexpected form: 'yesterday'"),
     ("unauthorized", "HTTP 401")],
)  # fmt: skip
def test_ghcr_answers_that_disagree_fall_back(
    server: ScriptedServer, github: ScriptedServer, monkeypatch: pytest.MonkeyPatch, kind: str,
    reason: str, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    versions = ghcr_versions(250 if kind == "loop" else 3)
    if kind == "duplicate":
        versions[2]["metadata"]["container"]["tags"] = ["DEVELOP-0"]
    elif kind == "digest":
        versions[1]["name"] = "96199792ccf207fe"
    elif kind == "time":
        versions[1]["created_at"] = "yesterday"
    ghcr(server, "o/app")
    serve_ghcr_api(github, "o", "app", versions, link_loop=kind == "loop",
                   token="another-token" if kind == "unauthorized" else TOKEN)  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="regframe.client.tag_apis"):
        assert listing_of(server, "o/app") is None
    assert "GHCR tag API for" in caplog.text and reason in caplog.text
    assert TOKEN not in caplog.text


# --------------------------------------------------------------------------------------- ACR


def test_acr_recorded_pages(server: ScriptedServer) -> None:
    recorded = load("acr_tags_hello_world.json")
    tags = [t for page in recorded["pages"] for t in page["body"]["tags"]]
    serve_acr(server, "library/hello-world", tags, max_n=1)  # the recording asked n=1
    listing = listing_of(server, "library/hello-world")
    assert listing is not None and listing.source == "acr"
    assert listing.tags == ["latest", "test-delete"]
    row = listing.rows["latest"]
    assert row.digest == "sha256:5122f6204b6a3596e048758cabba3c46b1c937a46b5be6225b835d091b90e46c"
    assert (row.pushed_source, row.pushed_ns) == ("acr", ns("2021-06-01T17:44:40.8107647Z"))
    # ping, the metadata_read token, then two pages following the relative Link.
    assert [r.path for r in server.requests] == [
        "/v2/", "/oauth2/token", "/acr/v1/library%2Fhello-world/_tags",
        "/acr/v1/library%2Fhello-world/_tags"]  # fmt: skip
    assert server.requests[1].query["scope"] == "repository:library/hello-world:metadata_read"
    assert server.requests[3].target.endswith("/_tags?last=latest&n=1&orderby=")


def test_acr_pushed_is_the_last_update(server: ScriptedServer) -> None:
    example = load("acr_tags_hello_world.json")["spec_example"]
    serve_acr(server, "nanoserver", example["tags"])
    listing = listing_of(server, "nanoserver")
    assert listing is not None
    row = listing.rows["4.7.2-20180906-nanoserver-1803"]
    # createdTime 2018-09-06T16:30 is when the name appeared; it last moved a day later.
    assert row.pushed_ns == ns("2018-09-07T16:30:46.7022734Z")


def test_acr_2500_tags_and_credentials_go_to_the_realm_only(server: ScriptedServer) -> None:
    serve_acr(server, "team/app", acr_tags(2500))
    alice = Credentials("alice", "s3cret-acr", source="test")
    listing = listing_of(server, "team/app", auth=alice)
    assert listing is not None and len(listing.tags) == 2500
    assert len(server.requests) == 1 + 1 + 3 == -(-2500 // 1000) + 2
    basic = "Basic " + base64.b64encode(b"alice:s3cret-acr").decode()
    for r in server.requests:
        expected = basic if r.path == "/oauth2/token" else None
        assert r.headers.get("Authorization", "").startswith("Basic") == (expected is not None)
        if expected:
            assert r.headers["Authorization"] == expected


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("loop", "pagination loops"), ("duplicate", "listed tag v00000 twice"),
     ("digest", "a digest that is not a digest"), ("time", "in an unexpected form"),
     ("backwards", "updated before it was created"), ("other", "answered about 'other/repo'")],
)  # fmt: skip
def test_acr_answers_that_disagree_fall_back(
    server: ScriptedServer, kind: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    tags = acr_tags(2500 if kind == "loop" else 3)
    if kind == "duplicate":
        tags.append(dict(tags[0]))
    elif kind == "digest":
        tags[1]["digest"] = "sha256:5122"
    elif kind == "time":
        tags[1]["lastUpdateTime"] = "2021-06-01 5:44 PM"
    elif kind == "backwards":
        tags[1]["lastUpdateTime"] = "2020-01-01T00:00:00Z"
    serve_acr(server, "team/app", tags, link_loop=kind == "loop",
              image_name="other/repo" if kind == "other" else None)  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="regframe.client.tag_apis"):
        assert listing_of(server, "team/app") is None
    assert "ACR tag API for" in caplog.text and reason in caplog.text


# ------------------------------------------------------------------------------------ GitLab


def test_gitlab_spec_example(server: ScriptedServer) -> None:
    serve_gitlab(server, "gitlab-org/build/cng/gitlab-container-registry",
                 load("gitlab_tags_spec_example.json"))  # fmt: skip
    listing = listing_of(server, "gitlab-org/build/cng/gitlab-container-registry")
    assert listing is not None and listing.source == "gitlab"
    # No published_at in the (older) example: the later of created_at and updated_at.
    assert listing.rows["0.1.0"].pushed_ns == ns("2022-06-07T12:10:12.412Z")
    assert listing.rows["latest"].pushed_ns == ns("2022-06-07T14:37:49.251Z")
    assert (listing.rows["latest"].size, listing.rows["latest"].media_type) == (
        286734237, OCI_MANIFEST)  # fmt: skip
    # ping, the ordinary pull token (the one manifest requests would use), one page.
    assert [r.path for r in server.requests][:2] == ["/v2/", "/jwt/auth"]
    assert server.requests[1].query["scope"] == (
        "repository:gitlab-org/build/cng/gitlab-container-registry:pull")  # fmt: skip
    assert server.requests[2].query == {"n": "1000"}


def test_gitlab_2500_tags_in_three_pages(server: ScriptedServer) -> None:
    serve_gitlab(server, "group/project", gitlab_tags(2500))
    listing = listing_of(server, "group/project")
    assert listing is not None and len(listing.tags) == 2500
    assert len(server.requests) == 2 + 3 == -(-2500 // 1000) + 2
    assert server.requests[3].query == {"n": "1000", "last": "v00999"}


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("loop", "pagination loops"), ("duplicate", "listed tag v00001 twice"),
     ("digest", "a digest that is not a digest"), ("time", "in an unexpected form"),
     ("published", "neither its created_at nor its updated_at"), ("nodb", "HTTP 404")],
)  # fmt: skip
def test_gitlab_answers_that_disagree_fall_back(
    server: ScriptedServer, kind: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    tags = gitlab_tags(2500 if kind == "loop" else 3)
    if kind == "duplicate":
        tags.append(dict(tags[1]))
    elif kind == "digest":
        tags[1]["digest"] = "sha256:6c3c624b"
    elif kind == "time":
        tags[1]["published_at"] = "2022-07-02T14:37"
    elif kind == "published":
        tags[1]["published_at"] = "2021-01-01T00:00:00.000Z"
    serve_gitlab(server, "group/project", tags, link_loop=kind == "loop")
    if kind == "nodb":  # a GitLab registry without its metadata database answers 404
        server.route(
            "GET",
            r"/gitlab/v1/.*",
            lambda r: Response(404, b"", {"Gitlab-Container-Registry-Version": "4.5.0-gitlab"}),
        )
    with caplog.at_level(logging.DEBUG, logger="regframe.client.tag_apis"):
        assert listing_of(server, "group/project") is None
    assert "GitLab tag API for" in caplog.text and reason in caplog.text
