"""Tag-list pagination, against a SCRIPTED server.

The real CNCF registry on this machine ignores ``n``/``last`` and never sends
``Link`` headers, so pagination can only be exercised against the
small spec-following server in ``tests/scripted.py``.
"""

from __future__ import annotations

import pytest

import regframe as rf
from regframe.client.paging import Pager
from regframe.client.registry import RegistryClient
from regframe.client.transport import Transport
from regframe.parsing.reference import parse_reference
from tests.scripted import ScriptedServer, json_response, paginated_tags, registry_error

TAGS = [f"1.{minor}.{patch}" for minor in range(12) for patch in range(10)] + ["latest", "edge"]


@pytest.fixture
def server():
    with ScriptedServer() as s:
        yield s


def _tag_requests(server: ScriptedServer) -> list:
    return [r for r in server.requests if r.path.endswith("/tags/list")]


@pytest.mark.parametrize("style", ["relative", "absolute", "cursor"])
def test_follows_links_to_every_tag(server, style):
    paginated_tags(server, "team/app", TAGS, page_size=25, link_style=style)
    df = rf.read_tags(f"{server.host}/team/app")
    assert sorted(df.tag) == sorted(TAGS)
    assert len(_tag_requests(server)) == -(-len(TAGS) // 25)
    # The page-size hint goes out on the first request and is echoed back by the links.
    assert _tag_requests(server)[0].query["n"] == "1000"


def test_registry_ignoring_n_still_lists_everything(server):
    paginated_tags(server, "team/app", TAGS, page_size=7, ignore_n=True)
    df = rf.read_tags(f"{server.host}/team/app")
    assert len(df) == len(TAGS)
    assert len(_tag_requests(server)) == -(-len(TAGS) // 7)


def test_link_loop_raises_instead_of_spinning(server):
    paginated_tags(server, "team/app", TAGS, page_size=30, link_style="loop")
    with pytest.raises(rf.RegistryError, match="loops"):
        rf.read_tags(f"{server.host}/team/app")
    # It noticed on the first repeat: every page once, plus nothing more.
    assert len(_tag_requests(server)) == -(-len(TAGS) // 30)


def test_cross_host_link_is_refused(server):
    paginated_tags(server, "team/app", TAGS, page_size=30, link_style="crosshost")
    with pytest.raises(rf.RegistryError, match="another host"):
        rf.read_tags(f"{server.host}/team/app")
    assert all(r.path.startswith("/v2/") for r in server.requests)
    assert len(_tag_requests(server)) == 1


def test_repeated_cursor_is_a_loop(server):
    server.route("GET", r"/v2/", lambda req: json_response({}))
    calls = []

    def pages(req):
        calls.append(req.query)
        # The URL changes every time (n grows) but the cursor does not.
        n = int(req.query.get("n", "1")) + 1
        return json_response(
            {"name": "x/y", "tags": ["a"]},
            {"Link": f'</v2/x/y/tags/list?n={n}&last=a>; rel="next"'},
        )

    server.route("GET", r"/v2/x/y/tags/list", pages)
    with pytest.raises(rf.RegistryError, match="loops"):
        rf.read_tags(f"{server.host}/x/y")
    assert len(calls) == 2


def test_null_and_empty_tags_are_skipped_and_empty_repo_has_all_columns(server):
    server.route("GET", r"/v2/", lambda req: json_response({}))
    server.route(
        "GET",
        r"/v2/a/b/tags/list",
        lambda req: json_response(
            {"name": "a/b", "tags": ["1.0", None, "", "  ", 7, "1.0", "2.0"]}
        ),
    )
    server.route(
        "GET",
        r"/v2/a/empty/tags/list",
        lambda req: json_response({"name": "a/empty", "tags": None}),
    )
    df = rf.read_tags(f"{server.host}/a/b")
    assert list(df.tag) == ["1.0", "2.0"]
    empty = rf.read_tags(f"{server.host}/a/empty")
    assert empty.empty
    assert list(empty.columns) == list(df.columns)
    assert empty.dtypes.equals(df.dtypes)
    assert empty.attrs["repository"] == "a/empty"


def test_unknown_repository_is_not_found(server):
    server.route("GET", r"/v2/", lambda req: json_response({}))
    server.route(
        "GET",
        r"/v2/no/such/tags/list",
        lambda req: registry_error(404, "NAME_UNKNOWN", "repository name not known"),
    )
    with pytest.raises(rf.NotFoundError) as info:
        rf.read_tags(f"{server.host}/no/such")
    assert info.value.status_code == 404
    assert info.value.codes == ["NAME_UNKNOWN"]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>oops</html>", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"tags": "1.0"}', "not a list"),
    ],
)
def test_malformed_tag_lists_are_typed_errors(server, body, match):
    from tests.scripted import Response

    server.route("GET", r"/v2/", lambda req: json_response({}))
    server.route(
        "GET",
        r"/v2/a/b/tags/list",
        lambda req: Response(200, body, {"Content-Type": "application/json"}),
    )
    with pytest.raises(rf.RegistryError, match=match):
        rf.read_tags(f"{server.host}/a/b")


def test_a_listing_past_max_pages_stops_with_an_error(server):
    """A registry whose every page links to a new one (no loop) is cut off at ``max_pages``."""
    paginated_tags(server, "team/app", TAGS, page_size=10)
    transport = Transport()
    try:
        client = RegistryClient.open(parse_reference(f"{server.host}/team/app"), transport)
        with pytest.raises(rf.RegistryError, match="more than 3 pages of tags"):
            client.list_tags(page_size=10, max_pages=3)
        assert len(_tag_requests(server)) == 3
        # exactly as many pages as allowed is not an error
        fits = client.list_tags(page_size=10, max_pages=-(-len(TAGS) // 10))
        assert sorted(fits.tags) == sorted(TAGS)
    finally:
        transport.close()


def test_pager_counts_the_pages_it_was_shown():
    pager = Pager("r.example", "repositories", max_pages=2)
    first = "https://r.example/v2/_catalog?n=1"
    second = pager.follow(first, "/v2/_catalog?n=1&last=a")
    assert second == "https://r.example/v2/_catalog?n=1&last=a"
    assert pager.follow(second, None) is None  # the last page: no next link, no error
    with pytest.raises(rf.RegistryError, match="more than 2 pages of repositories"):
        pager.follow(second, "/v2/_catalog?n=1&last=b")
