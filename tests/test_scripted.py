"""The scripted stand-in server and its ``paginated_tags`` speak the shapes tests rely on."""

from __future__ import annotations

import http.client
import itertools
import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from scripted import (
    Request,
    Response,
    ScriptedServer,
    json_response,
    paginated_tags,
    registry_error,
)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


def walk(start_url: str, max_pages: int = 100) -> tuple[list[str], list[str], str | None]:
    """Follow rel="next" like a careful client: same host only, stop on a repeated URL.

    Returns (tags, page URLs fetched, the refused or repeated next URL if any).
    """
    url, tags, fetched = start_url, [], []
    origin = urlsplit(start_url).netloc
    for _ in range(max_pages):
        fetched.append(url)
        response = requests.get(url, timeout=5)
        assert response.status_code == 200, response.text
        body = response.json()
        tags += body["tags"]
        nxt = response.links.get("next", {}).get("url")
        if nxt is None:
            return tags, fetched, None
        url = urljoin(url, nxt)
        if url in fetched or urlsplit(url).netloc != origin:
            return tags, fetched, url
    raise AssertionError("pagination did not end")


def test_route_json_and_recording(server: ScriptedServer) -> None:
    def handler(req: Request) -> Response:
        assert req.match is not None
        return json_response({"name": req.match["name"], "q": req.query, "len": len(req.body)})

    server.route("POST", r"/v2/(?P<name>.+)/things", handler)
    response = requests.post(
        f"{server.url}/v2/a/b/things?n=5&last=x", data=b"abc", headers={"X-Test": "1"}, timeout=5
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"name": "a/b", "q": {"n": "5", "last": "x"}, "len": 3}
    [recorded] = server.requests
    assert (recorded.method, recorded.path, recorded.query) == (
        "POST",
        "/v2/a/b/things",
        {"n": "5", "last": "x"},
    )
    assert recorded.headers["x-test"] == "1"  # case-insensitive
    assert recorded.body == b"abc"
    assert server.host == f"127.0.0.1:{server.port}"
    assert server.url == f"http://{server.host}"


def test_unmatched_is_registry_404(server: ScriptedServer) -> None:
    response = requests.get(f"{server.url}/v2/nope/tags/list", timeout=5)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_registry_error_shape(server: ScriptedServer) -> None:
    server.route(
        "GET", "/denied", lambda r: registry_error(403, "DENIED", "no", headers={"X-A": "b"})
    )
    response = requests.get(f"{server.url}/denied", timeout=5)
    assert response.status_code == 403
    assert response.headers["X-A"] == "b"
    assert response.json() == {"errors": [{"code": "DENIED", "message": "no", "detail": None}]}


def test_later_route_wins_and_handler_errors_are_500(server: ScriptedServer) -> None:
    server.route("GET", "/x", lambda r: Response(200, "first"))
    server.route("GET", "/x", lambda r: Response(200, "second"))
    server.route("GET", "/boom", lambda r: Response(200, str(1 // 0)))
    assert requests.get(f"{server.url}/x", timeout=5).text == "second"
    boom = requests.get(f"{server.url}/boom", timeout=5)
    assert boom.status_code == 500
    assert "ZeroDivisionError" in boom.json()["errors"][0]["message"]


def test_head_falls_back_to_get_without_body(server: ScriptedServer) -> None:
    server.route(
        "GET", "/m", lambda r: Response(200, b"x" * 123, {"Docker-Content-Digest": "sha256:ab"})
    )
    with requests.Session() as session:
        head = session.head(f"{server.url}/m", timeout=5)
        assert head.status_code == 200
        assert head.headers["Content-Length"] == "123"
        assert head.headers["Docker-Content-Digest"] == "sha256:ab"
        assert head.content == b""
        # The connection is still in sync: a GET on it gets the full body.
        assert session.get(f"{server.url}/m", timeout=5).content == b"x" * 123
    assert [r.method for r in server.requests] == ["HEAD", "GET"]
    assert server.connections == 1


def test_keep_alive_reuses_one_connection(server: ScriptedServer) -> None:
    server.route("GET", "/k", lambda r: Response(200, "k"))
    with requests.Session() as session:
        for _ in range(5):
            assert session.get(f"{server.url}/k", timeout=5).text == "k"
    assert server.connections == 1


def test_chunked_endless_body_and_delay(server: ScriptedServer) -> None:
    server.route("GET", "/endless", lambda r: Response(200, chunks=itertools.repeat(b"z" * 1000)))
    server.route("GET", "/slow", lambda r: Response(200, "late", delay=0.3))
    with requests.get(f"{server.url}/endless", stream=True, timeout=5) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        got = b"".join(itertools.islice(response.iter_content(1000), 50))
    assert got == b"z" * 50_000
    started = time.monotonic()
    assert requests.get(f"{server.url}/slow", timeout=5).text == "late"
    assert time.monotonic() - started >= 0.3


def test_repeated_headers_and_forced_wrong_length(server: ScriptedServer) -> None:
    challenges = [
        ("WWW-Authenticate", 'Bearer realm="http://a/token"'),
        ("WWW-Authenticate", "Basic realm=x"),
    ]
    server.route("GET", "/v2/", lambda r: Response(401, "", challenges))
    server.route(
        "GET", "/liar", lambda r: Response(200, b"short", {"Content-Length": "100"}, close=True)
    )
    conn = http.client.HTTPConnection(server.ip, server.port, timeout=5)
    conn.request("GET", "/v2/")
    response = conn.getresponse()
    response.read()
    assert response.status == 401
    assert [v for k, v in response.getheaders() if k == "WWW-Authenticate"] == [
        v for _, v in challenges
    ]
    conn.request("GET", "/liar")
    liar = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        liar.read()
    conn.close()


def test_chunked_request_body_is_read(server: ScriptedServer) -> None:
    server.route("PATCH", "/up", lambda r: Response(202, r.body))
    response = requests.patch(f"{server.url}/up", data=iter([b"ab", b"cd"]), timeout=5)
    assert response.status_code == 202
    assert response.content == b"abcd"


TAGS = [f"1.{i}.0" for i in range(23)]


@pytest.mark.parametrize("style", ["relative", "absolute", "cursor"])
def test_paginated_tags_follows_spec(server: ScriptedServer, style: str) -> None:
    paginated_tags(server, "lib/app", TAGS, 5, link_style=style)  # type: ignore[arg-type]
    assert requests.get(f"{server.url}/v2/", timeout=5).status_code == 200
    tags, pages, stopped = walk(f"{server.url}/v2/lib/app/tags/list?n=5")
    assert tags == TAGS
    assert len(pages) == 5
    assert stopped is None
    link_urls = [r.target for r in server.requests[1:]]
    if style == "cursor":
        assert all("last=" not in u for u in link_urls)
        assert "next_page=" in link_urls[1]
    else:
        assert f"last={TAGS[4]}" in link_urls[1]
    first = requests.get(f"{server.url}/v2/lib/app/tags/list?n=5", timeout=5)
    link = first.links["next"]["url"]
    assert link.startswith(server.url) == (style == "absolute")


def test_paginated_tags_n_caps_and_ignore_n(server: ScriptedServer) -> None:
    paginated_tags(server, "a", TAGS, 10)
    paginated_tags(server, "b", TAGS, 10, ignore_n=True)
    # A smaller n is honoured, a bigger one is capped at the server's page size.
    assert len(requests.get(f"{server.url}/v2/a/tags/list?n=3", timeout=5).json()["tags"]) == 3
    assert len(requests.get(f"{server.url}/v2/a/tags/list?n=1000", timeout=5).json()["tags"]) == 10
    assert len(requests.get(f"{server.url}/v2/b/tags/list?n=3", timeout=5).json()["tags"]) == 10
    tags, pages, _ = walk(f"{server.url}/v2/b/tags/list?n=3")
    assert tags == TAGS
    assert len(pages) == 3
    bad = requests.get(f"{server.url}/v2/a/tags/list?n=-1", timeout=5)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"
    unknown_last = requests.get(f"{server.url}/v2/a/tags/list?n=3&last=1.10.5", timeout=5).json()
    assert unknown_last["tags"] == [t for t in TAGS if t > "1.10.5"][:3]


def test_paginated_tags_loop_and_crosshost(server: ScriptedServer) -> None:
    paginated_tags(server, "loop", TAGS, 5, link_style="loop")
    paginated_tags(server, "cross", TAGS, 5, link_style="crosshost")
    tags, pages, repeated = walk(f"{server.url}/v2/loop/tags/list")
    assert tags == TAGS
    assert len(pages) == 5
    assert repeated == pages[1]  # the last page points back at page 2
    tags, pages, refused = walk(f"{server.url}/v2/cross/tags/list")
    assert tags == TAGS[:5]
    assert len(pages) == 1
    assert refused is not None
    assert urlsplit(refused).hostname == "127.0.0.2"


_shared: dict[str, ScriptedServer] = {}
_repo_ids = itertools.count()


@settings(max_examples=30, deadline=None)
@given(
    tags=st.lists(st.text("abc123.-_", min_size=1, max_size=8), unique=True, max_size=40),
    page_size=st.integers(1, 12),
    n=st.none() | st.integers(1, 15),
    style=st.sampled_from(["relative", "absolute", "cursor"]),
)
def test_walking_pages_yields_every_tag_once(
    tags: list[str], page_size: int, n: int | None, style: str
) -> None:
    if "srv" not in _shared:
        _shared["srv"] = ScriptedServer().start()
    srv = _shared["srv"]
    repo = f"r{next(_repo_ids)}"
    paginated_tags(srv, repo, tags, page_size, link_style=style)  # type: ignore[arg-type]
    query = "" if n is None else f"?n={n}"
    got, pages, _ = walk(f"{srv.url}/v2/{repo}/tags/list{query}")
    assert got == tags
    per_page = page_size if n is None else min(n, page_size)
    assert len(pages) == max(1, -(-len(tags) // per_page))


def teardown_module() -> None:
    if "srv" in _shared:
        _shared.pop("srv").close()
