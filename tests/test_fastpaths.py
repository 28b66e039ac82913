"""Registry fast paths (Docker Hub tags API, Quay tag API, GCR manifest map).

Docker Hub and Quay are NOT reachable from this machine, so their APIs are
played by SCRIPTED servers (``tests/scripted.py``) that speak the documented
JSON shapes and record every request.  Passing tests
prove regframe's behaviour against these scripts, not against the live
services.  ``$REGFRAME_DOCKERHUB_API`` / ``$REGFRAME_QUAY_API`` point the
client at the scripts.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import regframe as rf
import regframe.client.transport as transport_mod
from regframe.client.auth import Authenticator
from regframe.client.platforms import parse_platform
from regframe.client.registry import RegistryClient
from regframe.client.tag_apis import ApiListing, fetch_listing, gcr_index_pushes, gcr_rows
from regframe.client.tag_metadata import PUSHED_SOURCES
from regframe.client.transport import Transport
from regframe.errors import MetadataWarning
from regframe.frame.resolve import add_metadata
from regframe.parsing.reference import Reference, parse_reference
from tests.scripted import Request, Response, ScriptedServer, json_response

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
HUB_PATH = r"/v2/namespaces/(?P<ns>[^/]+)/repositories/(?P<repo>[^/]+)/tags"
QUAY_PATH = r"/api/v1/repository/(?P<ns>[^/]+)/(?P<repo>[^/]+)/tag/"
ROW_KEYS = {
    "digest", "media_type", "platforms", "created_ns", "created_source", "pushed_ns",
    "pushed_source", "size", "error",
}  # fmt: skip


def dg(n: int | str) -> str:
    """A well-formed sha256 digest, distinct per ``n``."""
    return "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def ns(s: str) -> int:
    """A date as the integer nanoseconds :class:`TagMetadata` carries."""
    return ts(s).value


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[Transport]:
    # regframe's own retry policy, minus the backoff sleeps, so the 5xx cases stay fast.
    monkeypatch.setattr(transport_mod, "pause", lambda seconds, cancelled: True)
    t = Transport(timeout=5, max_workers=4)
    yield t
    t.close()


@pytest.fixture
def hub(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    return server


@pytest.fixture
def quay(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("REGFRAME_QUAY_API", server.url)
    return server


# --------------------------------------------------------------------------- Docker Hub script


def hub_image(
    os_: str, arch: str, variant: str | None = None, *, n: Any, size: int | None = 1000,
    pushed: str | None = "2024-08-08T10:00:00.5Z",
) -> dict[str, Any]:  # fmt: skip
    return {
        "architecture": arch, "os": os_, "variant": variant, "digest": dg(n), "size": size,
        "last_pushed": pushed, "status": "active", "features": "", "os_features": "",
    }  # fmt: skip


def hub_tag(name: str, images: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    doc = {
        "name": name,
        "digest": dg(f"index-{name}"),
        "media_type": OCI_INDEX,
        "content_type": "image",
        "last_updated": "2024-08-09T00:00:00Z",
        "tag_last_pushed": "2024-08-08T23:00:00Z",
        "tag_status": "active",
        "images": images if images is not None else [hub_image("linux", "amd64", n=name)],
    }
    doc.update(extra)
    return doc


def serve_hub(server: ScriptedServer, results: list[Any], **opts: Any) -> None:
    """Docker Hub's paginated tags API: ``page``/``page_size``, absolute ``next``.

    ``next_host`` puts the next link on another host; ``loop_to`` makes the
    last page link back to that page number.
    """

    def handler(req: Request) -> Response:
        size = min(int(req.query.get("page_size", "10")), 100)
        page = int(req.query.get("page", "1"))
        chunk = results[(page - 1) * size : page * size]
        host = opts.get("next_host", server.url)
        nxt = None
        if page * size < len(results):
            nxt = f"{host}{req.path}?page={page + 1}&page_size={size}"
        elif "loop_to" in opts:
            nxt = f"{host}{req.path}?page={opts['loop_to']}&page_size={size}"
        return json_response(
            {"count": len(results), "next": nxt, "previous": None, "results": chunk}
        )

    server.route("GET", HUB_PATH, handler)


PYTHON = parse_reference("python")
#: A tag entry without the tag's own times (Hub sends null for tags pushed before ~2015).
NO_TAG_TIMES: dict[str, Any] = {"tag_last_pushed": None, "last_updated": None}
AMD64 = parse_platform("linux/amd64")


# --------------------------------------------------------------------------- Docker Hub tests


def test_hub_250_tags_in_three_requests(hub: ScriptedServer, transport: Transport) -> None:
    names = [f"3.{i // 10}.{i % 10}" for i in range(250)]
    serve_hub(hub, [hub_tag(n) for n in names])
    listing = fetch_listing(PYTHON, platform=AMD64, transport=transport)
    assert isinstance(listing, ApiListing)
    assert listing.source == "hub"
    assert listing.tags == names
    assert set(listing.rows) == set(names)
    # One request per 100 tags: ceil(250 / 100) == 3, and nothing else.
    assert len(hub.requests) == 3 == listing.requests
    # Page 1 first; pages 2 and 3 then go out together, in either order.
    assert hub.requests[0].query.get("page", "1") == "1"
    assert sorted(r.query.get("page", "1") for r in hub.requests) == ["1", "2", "3"]
    for req in hub.requests:
        assert req.path == "/v2/namespaces/library/repositories/python/tags"
        assert req.query["page_size"] == "100"
        assert req.headers["Accept"] == "application/json"
        assert "Authorization" not in req.headers  # the Hub API is asked anonymously
    row = listing.rows["3.12.1"]
    assert set(asdict(row)) >= ROW_KEYS
    assert row.digest == dg("index-3.12.1")
    # Hub's API knows push times only: the build time stays NA without the config.
    assert (row.pushed_source, row.pushed_ns) == ("hub", ns("2024-08-08T23:00:00Z"))
    assert (row.created_source, row.created_ns) == (None, None)
    assert row.error is None


MULTI = [
    hub_image("linux", "amd64", n="amd", size=111, pushed="2024-08-01T01:00:00Z"),
    hub_image("unknown", "unknown", n="att-amd", size=5, pushed="2024-08-01T01:00:01Z"),
    hub_image("linux", "arm64", "v8", n="arm", size=222, pushed="2024-08-02T02:00:00Z"),
    hub_image("unknown", "unknown", n="att-arm", size=6, pushed="2024-08-02T02:00:01Z"),
    hub_image("linux", "arm", "v7", n="arm7", size=333, pushed="2024-08-03T03:00:00Z"),
]


@pytest.mark.parametrize(
    ("platform", "size", "image_pushed"),
    [
        ("linux/amd64", 111, "2024-08-01T01:00:00Z"),
        ("linux/arm64", 222, "2024-08-02T02:00:00Z"),  # arm64 ≡ arm64/v8
        ("linux/arm64/v8", 222, "2024-08-02T02:00:00Z"),
        ("linux/arm/v7", 333, "2024-08-03T03:00:00Z"),
        ("linux/arm/v8", 333, "2024-08-03T03:00:00Z"),  # containerd: v8 runs v7
    ],
)
def test_hub_picks_the_platform_image(
    hub: ScriptedServer, transport: Transport, platform: str, size: int, image_pushed: str
) -> None:
    serve_hub(hub, [hub_tag("1.0", MULTI), hub_tag("old", MULTI, **NO_TAG_TIMES)])
    listing = fetch_listing(PYTHON, platform=parse_platform(platform), transport=transport)
    assert listing is not None
    row = listing.rows["1.0"]
    assert row.size == size
    # The tag's own push time, whichever platform: the image's is the digest's last push.
    assert row.pushed_ns == ns("2024-08-08T23:00:00Z")
    # Without the tag's times, the chosen platform image's push is the last resort.
    assert listing.rows["old"].pushed_ns == ns(image_pushed)
    assert row.created_ns is None
    assert row.digest == dg("index-1.0")  # the index digest, whatever the platform
    assert row.media_type == OCI_INDEX
    assert row.platforms == "linux/amd64,linux/arm64/v8,linux/arm/v7"
    assert row.error is None


def test_hub_platform_none_skips_leading_attestation(
    hub: ScriptedServer, transport: Transport
) -> None:
    images = [hub_image("unknown", "unknown", n="att", size=5), *MULTI[2:]]
    serve_hub(hub, [hub_tag("1.0", images)])
    listing = fetch_listing(PYTHON, platform=None, transport=transport)
    assert listing is not None
    assert listing.rows["1.0"].size == 222
    assert listing.rows["1.0"].platforms == "linux/arm64/v8,linux/arm/v7"


def test_hub_missing_platform_is_a_row_error(hub: ScriptedServer, transport: Transport) -> None:
    serve_hub(hub, [hub_tag("1.0", MULTI[:4]), hub_tag("2.0", [hub_image("linux", "s390x", n=2)])])
    listing = fetch_listing(PYTHON, platform=parse_platform("linux/s390x"), transport=transport)
    assert listing is not None
    row = listing.rows["1.0"]
    assert row.error == "no image for platform linux/s390x (has: linux/amd64,linux/arm64/v8)"
    assert row.created_ns is None and row.pushed_ns is None
    assert row.size is None
    assert row.created_source is None and row.pushed_source is None
    assert row.digest == dg("index-1.0")
    assert listing.rows["2.0"].error is None
    assert listing.rows["2.0"].size == 1000


def test_hub_pushed_and_digest_fallbacks(hub: ScriptedServer, transport: Transport) -> None:
    serve_hub(
        hub,
        [
            hub_tag("no-image-push", [hub_image("linux", "amd64", n=1, pushed=None)]),
            hub_tag(
                "only-updated",
                [hub_image("linux", "amd64", n=2, pushed=None)],
                tag_last_pushed=None,
            ),
            hub_tag("only-image", [hub_image("linux", "amd64", n=4)], **NO_TAG_TIMES),
            hub_tag("none", [hub_image("linux", "amd64", n=5, pushed=None)], **NO_TAG_TIMES),
            hub_tag("single", [hub_image("linux", "amd64", n=3)], digest=None, media_type=None),
            hub_tag("bad-digest", digest="sha256:../../etc", images=[]),
            hub_tag("no-images", images=[]),
            {"name": "", "digest": dg(9)},  # nameless entries are skipped
            "not-an-object",
        ],
    )
    listing = fetch_listing(PYTHON, platform=AMD64, transport=transport)
    assert listing is not None
    rows = listing.rows
    assert listing.tags == [
        "no-image-push", "only-updated", "only-image", "none", "single", "bad-digest",
        "no-images",
    ]  # fmt: skip
    assert rows["no-image-push"].pushed_ns == ns("2024-08-08T23:00:00Z")  # tag_last_pushed
    assert rows["only-updated"].pushed_ns == ns("2024-08-09T00:00:00Z")  # last_updated
    assert rows["only-image"].pushed_ns == ns("2024-08-08T10:00:00.5Z")  # the image's
    assert rows["none"].pushed_ns is None and rows["none"].pushed_source is None
    assert rows["single"].digest == dg(3)  # no tag digest: the image's
    assert rows["single"].media_type is None  # content_type "image" is not a media type
    assert rows["single"].pushed_ns == ns("2024-08-08T23:00:00Z")
    assert rows["bad-digest"].digest is None
    assert rows["no-images"].platforms is None
    assert rows["no-images"].error is None
    assert rows["no-images"].pushed_ns == ns("2024-08-08T23:00:00Z")
    assert all(r.created_ns is None and r.created_source is None for r in rows.values())


def test_hub_namespaced_repository(hub: ScriptedServer, transport: Transport) -> None:
    serve_hub(hub, [hub_tag("v1")])
    ref = parse_reference("docker.io/grafana/grafana:latest")
    listing = fetch_listing(ref, platform=AMD64, transport=transport)
    assert listing is not None
    assert listing.tags == ["v1"]
    assert hub.requests[0].path == "/v2/namespaces/grafana/repositories/grafana/tags"


def _status(code: int) -> Any:
    return lambda req: json_response({"message": "nope"}, status=code)


@pytest.mark.parametrize(
    ("name", "script", "min_requests"),
    [
        ("401", lambda s: s.route("GET", HUB_PATH, _status(401)), 1),
        ("403", lambda s: s.route("GET", HUB_PATH, _status(403)), 1),
        ("404", lambda s: s.route("GET", HUB_PATH, _status(404)), 1),
        # 500 is retried by the transport first (6 attempts with the default policy).
        ("500", lambda s: s.route("GET", HUB_PATH, _status(500)), 2),
        ("garbage", lambda s: s.route("GET", HUB_PATH, lambda r: Response(200, b"<html>")), 1),
        ("json-list", lambda s: s.route("GET", HUB_PATH, lambda r: json_response([1])), 1),
        (
            "results-not-list",
            lambda s: s.route("GET", HUB_PATH, lambda r: json_response({"results": {}})),
            1,
        ),
        (
            "next-not-string",
            lambda s: s.route("GET", HUB_PATH, lambda r: json_response({"results": [], "next": 7})),
            1,
        ),
    ],
)
def test_hub_failures_fall_back(
    hub: ScriptedServer,
    transport: Transport,
    caplog: pytest.LogCaptureFixture,
    name: str,
    script: Any,
    min_requests: int,
) -> None:
    script(hub)
    with caplog.at_level(logging.DEBUG, logger="regframe"):
        assert fetch_listing(PYTHON, platform=AMD64, transport=transport) is None
    assert len(hub.requests) >= min_requests
    assert any("fast path" in r.getMessage() for r in caplog.records)


def test_hub_cross_host_next_is_not_followed(hub: ScriptedServer, transport: Transport) -> None:
    serve_hub(hub, [hub_tag(str(i)) for i in range(150)], next_host=f"http://127.0.0.2:{hub.port}")
    assert fetch_listing(PYTHON, platform=AMD64, transport=transport) is None
    assert len(hub.requests) == 1


def test_hub_pagination_loop_stops(hub: ScriptedServer, transport: Transport) -> None:
    serve_hub(hub, [hub_tag(str(i)) for i in range(250)], loop_to=2)
    assert fetch_listing(PYTHON, platform=AMD64, transport=transport) is None
    # Pages 1, 2, 3 once each; the link back to page 2 is recognised, not fetched.
    assert len(hub.requests) == 3


def test_hub_recovers_from_one_server_error(hub: ScriptedServer, transport: Transport) -> None:
    serve_hub(hub, [hub_tag("1.0")])
    good = hub._routes[-1][2]
    calls = iter(range(100))
    hub.route("GET", HUB_PATH, lambda r: _status(503)(r) if next(calls) == 0 else good(r))
    listing = fetch_listing(PYTHON, platform=AMD64, transport=transport)
    assert listing is not None
    assert listing.tags == ["1.0"]
    assert len(hub.requests) == 2


def test_unreachable_api_falls_back(monkeypatch: pytest.MonkeyPatch, transport: Transport) -> None:
    with ScriptedServer() as gone:
        url = gone.url
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", url)
    assert fetch_listing(PYTHON, platform=AMD64, transport=transport) is None


@pytest.mark.parametrize(
    "ref",
    [
        parse_reference("ghcr.io/o/r"),
        parse_reference("localhost:5000/x"),
        Reference("quay.io", "a/b/c"),  # Quay's API addresses namespace/name only
    ],
)
def test_no_fast_path_sends_nothing(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, transport: Transport, ref: Reference
) -> None:
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    monkeypatch.setenv("REGFRAME_QUAY_API", server.url)
    assert fetch_listing(ref, platform=AMD64, transport=transport) is None
    assert server.requests == []


# --------------------------------------------------------------------------- Quay


def quay_tag(name: str, n: int, *, is_list: bool = False, **extra: Any) -> dict[str, Any]:
    doc = {
        "name": name,
        "reversion": False,
        "start_ts": 1_700_000_000 + n,
        "manifest_digest": dg(f"q{n}"),
        "is_manifest_list": is_list,
        "size": None if is_list else 10_000 + n,
        "last_modified": "Tue, 14 Nov 2023 22:13:20 -0000",
    }
    doc.update(extra)
    return doc


def serve_quay(server: ScriptedServer, tags: list[Any], *, ignore_page: bool = False) -> None:
    def handler(req: Request) -> Response:
        limit = min(int(req.query.get("limit", "50")), 100)
        page = 1 if ignore_page else int(req.query.get("page", "1"))
        chunk = tags[(page - 1) * limit : page * limit]
        more = page * limit < len(tags) or ignore_page
        return json_response({"tags": chunk, "page": page, "has_additional": more})

    server.route("GET", QUAY_PATH, handler)


PROM = parse_reference("quay.io/prometheus/prometheus")


def test_quay_pages_until_has_additional_is_false(
    quay: ScriptedServer, transport: Transport
) -> None:
    tags = [quay_tag(f"v2.{i}.0", i) for i in range(230)]
    tags[5] = quay_tag("latest", 5, is_list=True)
    serve_quay(quay, tags)
    listing = fetch_listing(PROM, platform=AMD64, transport=transport)
    assert listing is not None
    assert listing.source == "quay"
    assert listing.tags == [t["name"] for t in tags]
    assert len(quay.requests) == 3 == listing.requests
    # Pages 2 and 3 are fetched together (ahead of has_additional), in either order.
    by_page = sorted(quay.requests, key=lambda r: int(r.query.get("page", "0")))
    for page, req in enumerate(by_page, start=1):
        assert req.path == "/api/v1/repository/prometheus/prometheus/tag/"
        assert req.query == {"limit": "100", "page": str(page), "onlyActiveTags": "false"}
        assert "Authorization" not in req.headers
    row = listing.rows["v2.7.0"]
    assert set(asdict(row)) >= ROW_KEYS
    # start_ts is when the tag started pointing at its digest: a push time, not a build.
    assert row.pushed_ns == pd.Timestamp(1_700_000_007, unit="s", tz="UTC").value
    assert row.pushed_source == "quay"
    assert (row.created_ns, row.created_source) == (None, None)
    assert row.size == 10_007
    assert row.digest == dg("q7")
    assert row.platforms is None
    assert row.media_type is None
    assert row.error is None
    assert listing.rows["latest"].size is None  # manifest list: no single size


def test_quay_row_fallbacks(quay: ScriptedServer, transport: Transport) -> None:
    serve_quay(
        quay,
        [
            quay_tag("dated-by-last-modified", 1, start_ts=None),
            quay_tag("bad", 2, manifest_digest="md5:1234", size="big", start_ts=True),
            {"name": None},
            [],
        ],
    )
    listing = fetch_listing(PROM, platform=None, transport=transport)
    assert listing is not None
    assert listing.tags == ["dated-by-last-modified", "bad"]
    assert listing.rows["dated-by-last-modified"].pushed_ns == ns("2023-11-14T22:13:20Z")
    bad = listing.rows["bad"]
    assert bad.digest is None
    assert bad.size is None
    assert bad.pushed_ns == ns("2023-11-14T22:13:20Z")  # start_ts=True is no epoch
    assert bad.created_ns is None


def test_quay_repeated_page_falls_back(quay: ScriptedServer, transport: Transport) -> None:
    serve_quay(quay, [quay_tag(f"t{i}", i) for i in range(100)], ignore_page=True)
    assert fetch_listing(PROM, platform=AMD64, transport=transport) is None
    # Page 2 came back as page 1: stop at once (page 3 was already asked for with it).
    assert len(quay.requests) == 3


def test_quay_wrong_page_echo_and_empty_more_fall_back(
    quay: ScriptedServer, transport: Transport
) -> None:
    quay.route("GET", QUAY_PATH, lambda r: json_response({"tags": [], "has_additional": True}))
    assert fetch_listing(PROM, platform=AMD64, transport=transport) is None
    assert len(quay.requests) == 1
    quay.route("GET", QUAY_PATH, lambda r: json_response({"tags": [quay_tag("a", 1)], "page": 9}))
    assert fetch_listing(PROM, platform=AMD64, transport=transport) is None


@pytest.mark.parametrize("status", [401, 403, 404, 502])
def test_quay_http_errors_fall_back(
    quay: ScriptedServer, transport: Transport, status: int
) -> None:
    quay.route("GET", QUAY_PATH, _status(status))
    assert fetch_listing(PROM, platform=AMD64, transport=transport) is None


# --------------------------------------------------------------------------- GCR


def test_gcr_rows_from_manifest_map() -> None:
    manifest = {
        dg("ar"): {  # Artifact Registry: created is "0", so only the upload time is known
            "imageSizeBytes": "2803255",
            "layerId": "",
            "mediaType": OCI_MANIFEST,
            "tag": ["1.0", "1"],
            "timeCreatedMs": "0",
            "timeUploadedMs": "1723120496123",
        },
        dg("gcr"): {  # GCR: the build time is given
            "imageSizeBytes": "99",
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "tag": ["2.0"],
            "timeCreatedMs": "1600000000000",
            "timeUploadedMs": "1723120496123",
        },
        dg("index"): {  # a manifest list: left to the registry path
            "imageSizeBytes": "0",
            "mediaType": OCI_INDEX,
            "tag": ["3.0"],
            "timeCreatedMs": "0",
            "timeUploadedMs": "1723120496123",
        },
        dg("untagged"): {"imageSizeBytes": "5", "tag": [], "timeUploadedMs": "1"},
        "not-a-digest": {"imageSizeBytes": "0", "tag": ["odd", 5, None], "timeUploadedMs": 1e12},
        dg("wrong-tag-type"): {"tag": "4.0"},
        dg("wrong-entry"): ["x"],
    }
    rows = gcr_rows(manifest, platform=AMD64)
    assert set(rows) == {"1.0", "1", "2.0", "odd"}
    assert rows["1.0"] == rows["1"]
    assert rows["1.0"] is not rows["1"]
    assert set(asdict(rows["1.0"])) >= ROW_KEYS
    assert rows["1.0"].pushed_ns == ns("2024-08-08T12:34:56.123Z")
    assert rows["1.0"].pushed_source == "gcr"
    assert (rows["1.0"].created_ns, rows["1.0"].created_source) == (None, None)
    assert rows["1.0"].size == 2_803_255
    assert rows["1.0"].digest == dg("ar")
    assert rows["1.0"].media_type == OCI_MANIFEST
    # GCR proper: build time and upload time, each in its own field.
    assert rows["2.0"].created_ns == ns("2020-09-13T12:26:40Z")
    assert rows["2.0"].created_source == "gcr"
    assert rows["2.0"].pushed_ns == ns("2024-08-08T12:34:56.123Z")
    assert rows["odd"].digest is None
    assert rows["odd"].size is None
    assert rows["odd"].pushed_ns == ns("2001-09-09T01:46:40Z")
    assert rows["odd"].created_ns is None


def test_gcr_index_pushes_name_the_list_and_its_upload_time() -> None:
    """Tags on a manifest list: the list's digest and upload time, nothing for the rest."""
    manifest = {
        dg("list"): {  # the recorded shape of a list (kubernetes-sigs/promo-tools, see e2e)
            "imageSizeBytes": "0", "layerId": "", "tag": ["v0.0.8", "latest"],
            "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
            "timeCreatedMs": "0", "timeUploadedMs": "1583475321879",
        },
        dg("oci"): {"mediaType": OCI_INDEX, "tag": ["oci"], "timeUploadedMs": "1600000000000"},
        dg("child"): {"mediaType": OCI_MANIFEST, "tag": [], "timeUploadedMs": "1583475314214"},
        dg("single"): {"mediaType": OCI_MANIFEST, "tag": ["1.0"], "timeUploadedMs": "1"},
        dg("never"): {"mediaType": OCI_INDEX, "tag": ["never"], "timeUploadedMs": "0"},
        "sha256:../x": {"mediaType": OCI_INDEX, "tag": ["odd"], "timeUploadedMs": "1"},
        dg("wrong-tag-type"): {"mediaType": OCI_INDEX, "tag": "4.0"},
    }  # fmt: skip
    pushes = gcr_index_pushes(manifest)
    assert pushes == {
        "v0.0.8": (dg("list"), ns("2020-03-06T06:15:21.879Z")),
        "latest": (dg("list"), ns("2020-03-06T06:15:21.879Z")),
        "oci": (dg("oci"), ns("2020-09-13T12:26:40Z")),
    }
    # The two readers split the map: no tag is both described and left to the walk.
    assert not set(pushes) & set(gcr_rows(manifest))
    assert gcr_index_pushes([]) == {}  # type: ignore[arg-type]


def test_gcr_rows_tolerates_garbage() -> None:
    assert gcr_rows([], platform=None) == {}  # type: ignore[arg-type]
    rows = gcr_rows({dg(1): {"tag": ["a"], "timeCreatedMs": "x", "timeUploadedMs": "0"}})
    assert rows["a"].created_ns is None
    assert rows["a"].created_source is None
    assert rows["a"].pushed_ns is None
    assert rows["a"].pushed_source is None


# --------------------------------------------------------------------------- into the frame


def test_listing_rows_feed_add_metadata_without_registry_requests(
    hub: ScriptedServer, transport: Transport
) -> None:
    """The rows are what ``add_metadata(prefetched=...)`` needs: typed columns, no request."""
    serve_hub(
        hub,
        [
            hub_tag("3.12.1", MULTI),
            hub_tag("3.12", MULTI, digest=dg("index-3.12.1")),
            hub_tag("latest", MULTI, digest=dg("index-3.12.1")),
            hub_tag("windows", [hub_image("windows", "amd64", n="w")]),
        ],
    )
    listing = fetch_listing(PYTHON, platform=parse_platform("linux/arm64"), transport=transport)
    assert listing is not None
    with ScriptedServer() as registry:
        base = registry.url
        client = RegistryClient(
            PYTHON, transport, Authenticator(transport, base, display="docker.io"), base
        )
        frame = rf.parse_tags(pd.Series(listing.tags, dtype="string"))
        with pytest.warns(MetadataWarning):  # the windows-only tag has no arm64 image
            df = add_metadata(
                frame, client, platform="linux/arm64", cache=False, prefetched=listing.rows
            )
        assert registry.requests == []
    by_tag = df.set_index("tag")
    assert str(df["created"].dtype) == "datetime64[ns, UTC]"
    assert df["size"].dtype == "Int64"
    assert by_tag.loc["3.12", "resolves_to"] == "3.12.1"
    assert by_tag.loc["latest", "size"] == 222
    assert str(df["pushed"].dtype) == "datetime64[ns, UTC]"
    assert by_tag.loc["3.12.1", "pushed_source"] == "hub"
    assert by_tag.loc["3.12.1", "pushed"] == ts("2024-08-08T23:00:00Z")
    assert df["created"].isna().all() and df["created_source"].isna().all()
    assert list(df["pushed_source"].cat.categories) == list(PUSHED_SOURCES)
    assert str(by_tag.loc["windows", "error"]).startswith("no image for platform linux/arm64")
    assert len(hub.requests) == 1


def test_hub_real_answer_tag_push_not_image_push(hub: ScriptedServer, transport: Transport) -> None:
    """A real Docker Hub page (tests/data/README.md): each tag gets its own push time.

    ``1.2.1`` and ``latest`` share one image; the image's ``last_pushed`` is ``latest``'s
    push, a second after ``1.2.1`` was pushed.  Taking the image's time would date
    ``1.2.1`` by another tag's push.
    """
    page = json.loads((Path(__file__).parent / "data" / "dockerhub_tags_page.json").read_text())
    serve_hub(hub, page["results"])
    listing = fetch_listing(parse_reference("marqaaron/app"), platform=AMD64, transport=transport)
    assert listing is not None
    rows = listing.rows
    assert listing.tags == ["latest", "1.2.1", "1.2.0", "1.1.0", "1.0.1", "1.0.0"]
    assert rows["1.2.1"].pushed_ns == ns("2021-01-04T19:55:17.37199Z")
    assert rows["latest"].pushed_ns == ns("2021-01-04T19:55:18.440537Z")
    image_pushed = page["results"][1]["images"][0]["last_pushed"]
    assert rows["1.2.1"].pushed_ns < ns(image_pushed)
    # Release order is push order, and no tag claims a build time it was not given.
    versions = ["1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.2.1"]
    pushes = [rows[v].pushed_ns for v in versions]
    assert pushes == sorted(pushes)
    assert all(r.pushed_source == "hub" and r.created_ns is None for r in rows.values())
    assert rows["1.2.1"].size == 27_442_245
