"""list_repositories: the REAL registry's /v2/_catalog (open and token auth), and SCRIPTED
stand-ins only where no real server exists here (Docker Hub's namespace API, a registry
without a catalog, hostile pagination)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

import regframe as rf
from regframe.client.catalog import catalog_repositories, hub_repositories
from regframe.client.transport import Transport
from regframe.parsing.reference import parse_reference
from tests.backends import refuse_network
from tests.conftest import ALICE_PASSWORD
from tests.scripted import ScriptedServer, hub_namespace, json_response, registry_error


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


@pytest.fixture
def namespace(registry_open, unique_repo):
    ns = unique_repo.replace("/", "-")
    for name in ("web", "api", "tools/lint"):
        registry_open.pusher.push_image(f"{ns}/{name}", ["1.0"], created="2024-01-01T00:00:00Z")
    registry_open.pusher.push_image(f"{ns}x/other", ["1.0"], created=None)
    return ns


def test_catalog_of_a_namespace_on_the_real_registry(registry_open, namespace):
    df = rf.list_repositories(f"{registry_open.host}/{namespace}")
    assert list(df.repository) == [f"{namespace}/api", f"{namespace}/tools/lint", f"{namespace}/web"]
    assert list(df.image) == [f"{registry_open.host}/{r}" for r in df.repository]
    assert str(df.image.dtype) == "string"
    assert df.attrs["namespace"] == namespace
    tags = rf.read_tags(df.image.tolist())
    assert list(tags.image.unique()) == df.image.tolist()


def test_whole_registry_lists_every_namespace(registry_open, namespace):
    df = rf.list_repositories(registry_open.host)
    assert {f"{namespace}/web", f"{namespace}x/other"} <= set(df.repository)


def test_real_catalog_pagination_is_followed(registry_open, namespace):
    urls = []
    original = Transport._send_once

    def recording(self, request, *a, **k):
        urls.append(request.url)
        return original(self, request, *a, **k)

    transport = Transport()
    transport._send_once = lambda *a, **k: recording(transport, *a, **k)
    try:
        names = catalog_repositories(
            parse_reference(registry_open.ref("x")), transport, namespace=namespace, page_size=2
        )
    finally:
        transport.close()
    assert sorted(names) == [f"{namespace}/api", f"{namespace}/tools/lint", f"{namespace}/web"]
    pages = [u for u in urls if "/_catalog" in u]
    assert len(pages) >= 3 and any("last=" in u for u in pages)


def test_token_registry_keeps_the_catalog_for_accounts(registry_token, unique_repo):
    registry_token.pusher.push_image(unique_repo, ["1.0"], created=None)
    with pytest.raises(rf.CatalogUnavailableError, match="list its repositories") as info:
        rf.list_repositories(registry_token.host)
    assert info.value.status_code == 401
    df = rf.list_repositories(registry_token.host, auth=("alice", ALICE_PASSWORD))
    assert unique_repo in set(df.repository)


def test_registry_without_catalog_is_a_typed_error(server):
    server.route("GET", r"/v2/", lambda r: json_response({}))
    server.route("GET", r"/v2/_catalog", lambda r: registry_error(404, "UNSUPPORTED", "no"))
    with pytest.raises(rf.CatalogUnavailableError, match="does not offer"):
        rf.list_repositories(server.host)


@pytest.mark.parametrize("style", ["loop", "crosshost"])
def test_hostile_catalog_pagination_is_refused(server, style):
    def catalog(request):
        link = "</v2/_catalog?n=2&last=a>" if style == "loop" else (
            f"<http://127.0.0.2:{server.port}/v2/_catalog?last=b>"
        )
        return json_response({"repositories": ["a", "b"]}, {"Link": f'{link}; rel="next"'})

    server.route("GET", r"/v2/", lambda r: json_response({}))
    server.route("GET", r"/v2/_catalog", catalog)
    with pytest.raises(rf.RegistryError, match=r"loops|another host"):
        rf.list_repositories(server.host)
    assert len([r for r in server.requests if r.path == "/v2/_catalog"]) <= 2


def test_docker_hub_namespace_api_scripted(server, monkeypatch):
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    names = [f"app{i:03d}" for i in range(250)]
    hub_namespace(server, "bitnami", names)
    df = rf.list_repositories("docker.io/bitnami")
    assert len(df) == 250
    assert df.repository.iloc[0] == "bitnami/app000"
    assert df.image.iloc[-1] == "docker.io/bitnami/app249"
    pages = [r for r in server.requests if r.path.endswith("/repositories")]
    assert len(pages) == 3
    assert all("Authorization" not in r.headers for r in server.requests)
    with pytest.raises(rf.NotFoundError, match="nosuch"):
        rf.list_repositories("nosuch")


@pytest.mark.parametrize(
    ("where", "error", "words"),
    [
        ("", rf.InvalidArgumentError, "empty"),
        (42, rf.InvalidArgumentTypeError, "int"),
        ("docker.io", rf.InvalidArgumentError, "namespace"),
        ("https://ghcr.io", rf.InvalidArgumentError, "scheme"),
        ("ghcr.io/org:1.0", rf.InvalidArgumentError, "tag or digest"),
        ("quay.io/Prom", rf.InvalidReferenceError, "lowercase"),
        ("docker.io/a/b", rf.InvalidArgumentError, "one level"),
    ],
)
def test_bad_where_fails_before_any_request(monkeypatch, where, error, words):
    refuse_network(monkeypatch)  # every backend's send
    with pytest.raises(error, match=re.escape(words)):
        rf.list_repositories(where)


def test_catalog_listings_stop_at_max_pages(server, monkeypatch):
    """Both catalog paths (the registry's, SCRIPTED here, and Docker Hub's API) share the cap."""
    seen = []

    def endless(request):
        seen.append(request.query.get("last"))
        last = f"r{len(seen):04d}"
        return json_response(
            {"repositories": [last]}, {"Link": f'</v2/_catalog?n=1&last={last}>; rel="next"'}
        )

    server.route("GET", r"/v2/", lambda r: json_response({}))
    server.route("GET", r"/v2/_catalog", endless)
    transport = Transport()
    try:
        ref = parse_reference(f"{server.host}/x")
        with pytest.raises(rf.RegistryError, match="more than 4 pages of repositories"):
            catalog_repositories(ref, transport, page_size=1, max_pages=4)
        assert len(seen) == 4
        monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
        hub_namespace(server, "bitnami", [f"app{i}" for i in range(30)], page_size=10)
        with pytest.raises(rf.RegistryError, match="more than 2 pages of repositories"):
            hub_repositories("bitnami", transport, max_pages=2)
        assert len(hub_repositories("bitnami", transport, max_pages=3)) == 30
    finally:
        transport.close()
