"""End-to-end ``read_tags(dates=True)`` through the fast paths.

Hub, Quay and the GCR-like registry are SCRIPTED stand-ins (``tests/scripted.py``)
speaking the documented shapes: the real services are not reachable here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import regframe as rf
from tests.scripted import Request, Response, ScriptedServer, json_response
from tests.test_fastpaths import MULTI, hub_tag, quay_tag, serve_hub, serve_quay


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


@pytest.fixture
def hub(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    return server


@pytest.fixture
def quay(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("REGFRAME_QUAY_API", server.url)
    return server


def test_read_tags_hub_fast_path(hub: ScriptedServer) -> None:
    names = [f"3.{i // 10}.{i % 10}" for i in range(250)]
    serve_hub(
        hub,
        [hub_tag(n, MULTI) for n in names]
        + [hub_tag("latest", MULTI, digest=hub_tag("3.24.9")["digest"])],
    )
    df = rf.read_tags("python", dates=True, platform="linux/arm64", cache=False)
    assert len(df) == 251
    assert len(hub.requests) == 3
    # Hub's API gives push times only: pushed is set, the build time stays NA.
    assert set(df["pushed_source"].dropna()) == {"hub"} and df["pushed"].notna().all()
    assert df["created"].isna().all() and df["created_source"].isna().all()
    assert str(df["created"].dtype) == str(df["pushed"].dtype) == "datetime64[ns, UTC]"
    assert (df["size"] == 222).all()
    assert df.set_index("tag").loc["latest", "resolves_to"] == "3.24.9"
    assert df["error"].isna().all()
    assert df.attrs["repository"] == "library/python"


def test_read_tags_quay_fast_path(quay: ScriptedServer) -> None:
    serve_quay(quay, [quay_tag(f"v2.{i}.0", i) for i in range(120)])
    df = rf.read_tags("quay.io/prometheus/prometheus", dates=True, cache=False)
    assert len(df) == 120
    # Page 1, then pages 2 and 3 together (fetched ahead; 3 is past the end and ignored).
    assert sorted(r.query["page"] for r in quay.requests) == ["1", "2", "3"]
    assert set(df["pushed_source"].dropna()) == {"quay"} and df["pushed"].notna().all()
    assert df["created"].isna().all()
    assert df.set_index("tag").loc["v2.7.0", "pushed"] == pd.Timestamp(
        1_700_000_007, unit="s", tz="UTC"
    )


def _d(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def test_read_tags_gcr_manifest_map(server: ScriptedServer) -> None:
    config = json.dumps(
        {"created": "2024-01-02T03:04:05Z", "os": "linux", "architecture": "amd64"}
    ).encode()
    child = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _d(config),
                "size": len(config),
            },
            "layers": [],
        }
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": _d(child),
                    "size": len(child),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    blobs = {_d(config): config}
    manifests = {"multi": index, _d(index): index, _d(child): child}
    mmap: dict[str, Any] = {
        "sha256:" + "a" * 64: {
            "imageSizeBytes": "100",
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "tag": ["1.0"],
            "timeCreatedMs": "0",
            "timeUploadedMs": "1723120496123",
        },
        "sha256:" + "b" * 64: {
            "imageSizeBytes": "200",
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "tag": ["2.0"],
            "timeCreatedMs": "1600000000000",
            "timeUploadedMs": "1723120496123",
        },
        _d(index): {
            "imageSizeBytes": "0",
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "tag": ["multi"],
            "timeCreatedMs": "0",
            "timeUploadedMs": "1723120496123",
        },
    }

    def tags(req: Request) -> Response:
        if "last" not in req.query:
            return json_response(
                {
                    "name": "p/app",
                    "tags": ["1.0"],
                    "manifest": {k: v for k, v in mmap.items() if "1.0" in v["tag"]},
                },
                {"Link": '</v2/p/app/tags/list?n=1000&last=1.0>; rel="next"'},
            )
        return json_response(
            {
                "name": "p/app",
                "tags": ["2.0", "multi"],
                "manifest": {k: v for k, v in mmap.items() if "1.0" not in v["tag"]},
            }
        )

    def manifest(req: Request) -> Response:
        assert req.match is not None
        body = manifests[req.match["ref"]]
        return Response(
            200,
            body,
            {"Content-Type": json.loads(body)["mediaType"], "Docker-Content-Digest": _d(body)},
        )

    server.route("GET", r"/v2/", lambda r: json_response({}))
    server.route("GET", r"/v2/p/app/tags/list", tags)
    server.route("GET", r"/v2/p/app/manifests/(?P<ref>.+)", manifest)
    server.route(
        "GET",
        r"/v2/p/app/blobs/(?P<d>.+)",
        lambda r: Response(200, blobs[r.path.rsplit("/", 1)[1]]),
    )
    df = rf.read_tags(f"{server.host}/p/app", dates=True, cache=False).set_index("tag")
    # Artifact Registry's shape (timeCreatedMs "0"): an upload time and no build time.
    assert df.loc["1.0", "pushed"] == pd.Timestamp("2024-08-08T12:34:56.123Z")
    assert df.loc["1.0", "pushed_source"] == "gcr"
    assert pd.isna(df.loc["1.0", "created"]) and pd.isna(df.loc["1.0", "created_source"])
    # GCR's shape: both, each where it belongs.
    assert df.loc["2.0", "created"] == pd.Timestamp("2020-09-13T12:26:40Z")
    assert df.loc["2.0", "created_source"] == "gcr"
    assert df.loc["2.0", "pushed"] == pd.Timestamp("2024-08-08T12:34:56.123Z")
    # An index goes the registry path: the platform image's config build time.
    assert df.loc["multi", "created_source"] == "config"
    assert df.loc["multi", "created"] == pd.Timestamp("2024-01-02T03:04:05Z")
    paths = [r.path for r in server.requests]
    assert not any("/manifests/1.0" in p or "/manifests/2.0" in p for p in paths)
    assert any("/manifests/multi" in p for p in paths)


# -------------------------------------------------------- GCR: tags on a manifest list
#
# The shape is a real GCR answer: ``tags/list`` of gcr.io/k8s-staging-kas-network-proxy/
# proxy-agent, recorded in kubernetes-sigs/promo-tools (lib/audit/auditor_test.go).  Its one
# tag, ``v0.0.8``, is on a Docker manifest list (``imageSizeBytes`` and ``timeCreatedMs``
# "0", ``timeUploadedMs`` 1583475321879); the five platform images are untagged entries with
# their own build (``timeCreatedMs``) and upload times.  The digests here are those of the
# bodies this script serves (the recorded bodies are reformatted, so theirs cannot verify);
# the times, sizes and media types are the recorded ones.

LIST_TYPE = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
#: (architecture, imageSizeBytes, timeCreatedMs, timeUploadedMs) of the recorded children.
PROXY_AGENT_CHILDREN = [
    ("amd64", "7367874", 1583451717939, "1583475314214"),
    ("arm", "6888983", 1583451758583, "1583475316361"),
    ("arm64", "6888230", 1583451799250, "1583475318193"),
    ("ppc64le", "6843680", 1583451840426, "1583475320110"),
    ("s390x", "7396163", 1583451882087, "1583475321761"),
]
LIST_UPLOADED_MS = "1583475321879"


def _ms(ms: int | str) -> pd.Timestamp:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC")


def _image(config_doc: dict[str, Any], blobs: dict[str, bytes]) -> bytes:
    """An image manifest of ``config_doc``; the config and the manifest go into ``blobs``."""
    config = json.dumps(config_doc).encode()
    blobs[_d(config)] = config
    body = json.dumps({
        "schemaVersion": 2, "mediaType": IMAGE_TYPE, "layers": [],
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": _d(config)},
    }).encode()  # fmt: skip
    blobs[_d(body)] = body
    return body


def _manifest_list(version: str, blobs: dict[str, bytes]) -> tuple[bytes, dict[str, Any]]:
    """A manifest list of the five recorded platforms (into ``blobs``), and the map of all.

    ``version`` goes into each config so that two lists differ in every digest.  The map
    holds the recorded untagged children and the list's own entry, tagged ``v0.0.8``.
    """
    entries, mmap = [], {}
    for arch, size, created_ms, uploaded_ms in PROXY_AGENT_CHILDREN:
        child = _image({
            "architecture": arch, "os": "linux", "config": {"Labels": {"v": version}},
            "created": _ms(created_ms).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }, blobs)  # fmt: skip
        entries.append({"mediaType": IMAGE_TYPE, "size": len(child), "digest": _d(child),
                        "platform": {"architecture": arch, "os": "linux"}})  # fmt: skip
        mmap[_d(child)] = {"imageSizeBytes": size, "layerId": "", "mediaType": IMAGE_TYPE,
                           "tag": [], "timeCreatedMs": str(created_ms),
                           "timeUploadedMs": uploaded_ms}  # fmt: skip
    body = json.dumps({"schemaVersion": 2, "mediaType": LIST_TYPE, "manifests": entries}).encode()
    mmap[_d(body)] = {"imageSizeBytes": "0", "layerId": "", "mediaType": LIST_TYPE,
                      "tag": ["v0.0.8"], "timeCreatedMs": "0",
                      "timeUploadedMs": LIST_UPLOADED_MS}  # fmt: skip
    return body, mmap


def _serve_gcr(
    server: ScriptedServer, mmap: dict[str, Any], tags: dict[str, bytes], blobs: dict[str, bytes]
) -> None:
    """A GCR-like registry: ``tags/list`` with ``mmap``; ``tags`` and ``blobs`` (by digest)
    answer ``manifests/<ref>``; configs answer ``blobs/<digest>``."""
    by_ref = {**tags, **{d: b for d, b in blobs.items() if b'"schemaVersion"' in b}}

    def manifest(req: Request) -> Response:
        assert req.match is not None
        body = by_ref[req.match["ref"]]
        headers = {"Content-Type": json.loads(body)["mediaType"], "Docker-Content-Digest": _d(body)}
        return Response(200, b"" if req.method == "HEAD" else body, headers)

    server.route("GET", r"/v2/", lambda r: json_response({}))
    server.route("GET", r"/v2/p/app/tags/list", lambda r: json_response(
        {"child": [], "manifest": mmap, "name": "p/app", "tags": sorted(tags)}
    ))  # fmt: skip
    server.route("GET", r"/v2/p/app/manifests/(?P<ref>.+)", manifest)
    server.route("GET", r"/v2/p/app/blobs/(?P<d>.+)",
                 lambda r: Response(200, blobs[r.path.rsplit("/", 1)[1]]))  # fmt: skip


def _gcr_image(tag: str, blobs: dict[str, bytes]) -> tuple[bytes, dict[str, Any]]:
    """A single-image manifest with its config, and its map entry (GCR's recorded shape)."""
    body = _image({"architecture": "amd64", "os": "linux", "config": {},
                   "created": "2020-03-05T23:40:00Z"}, blobs)  # fmt: skip
    entry = {"imageSizeBytes": "6888983", "layerId": "", "mediaType": IMAGE_TYPE,
             "tag": [tag], "timeCreatedMs": "1583451600000",
             "timeUploadedMs": "1583475300000"}  # fmt: skip
    return body, entry


def test_gcr_manifest_list_tag_takes_the_lists_upload_time(
    server: ScriptedServer, tmp_path: Any
) -> None:
    blobs: dict[str, bytes] = {}
    listed, mmap = _manifest_list("v0.0.8", blobs)
    single, entry = _gcr_image("v0.0.7", blobs)
    mmap[_d(single)] = entry
    _serve_gcr(server, mmap, {"v0.0.8": listed, "v0.0.7": single}, blobs)

    def read(cache: Any) -> pd.DataFrame:
        server.requests.clear()
        return rf.read_tags(f"{server.host}/p/app", dates=True, platform="linux/arm64",
                            cache=cache).set_index("tag")  # fmt: skip

    df = read(cache=tmp_path)
    cold = [(r.method, r.path) for r in server.requests]
    # The tag on the list: build time from the arm64 image's config, push time from the
    # list's own map entry (not from the arm64 child's entry, 1583475318193).
    assert df.loc["v0.0.8", "pushed"] == _ms(LIST_UPLOADED_MS)
    assert df.loc["v0.0.8", "pushed_source"] == "gcr"
    assert df.loc["v0.0.8", "created"] == _ms(1583451799250)
    assert df.loc["v0.0.8", "created_source"] == "config"
    assert df.loc["v0.0.8", "digest"] == _d(listed)
    assert df.loc["v0.0.8", "platforms"] == (
        "linux/amd64,linux/arm,linux/arm64,linux/ppc64le,linux/s390x"
    )
    assert pd.isna(df.loc["v0.0.8", "date_note"]) and pd.isna(df.loc["v0.0.8", "error"])
    # The single image is described by the map alone, as before: no manifest request.
    assert df.loc["v0.0.7", "pushed"] == _ms(1583475300000)
    assert df.loc["v0.0.7", "created"] == _ms(1583451600000)
    assert df.loc["v0.0.7", "created_source"] == "gcr"
    assert ("GET", "/v2/p/app/manifests/v0.0.7") not in cold
    # The push time costs no request: ping, tag list, the list, its arm64 image, that config.
    arm64 = json.loads(listed)["manifests"][2]["digest"]
    config = json.loads(blobs[arm64])["config"]["digest"]
    assert sorted(p for _, p in cold) == sorted([
        "/v2/", "/v2/p/app/tags/list", "/v2/p/app/manifests/v0.0.8",
        f"/v2/p/app/manifests/{arm64}", f"/v2/p/app/blobs/{config}",
    ])  # fmt: skip
    # A warm run confirms the digest with a HEAD and takes the facts from the cache; the
    # push time still comes from this run's listing.
    warm = read(cache=tmp_path)
    assert [(r.method, r.path) for r in server.requests if "/manifests/" in r.path] == [
        ("HEAD", "/v2/p/app/manifests/v0.0.8")
    ]
    assert warm.loc["v0.0.8", "pushed"] == _ms(LIST_UPLOADED_MS)
    assert warm.loc["v0.0.8", "created"] == df.loc["v0.0.8", "created"]


def test_gcr_tag_moved_after_listing_gets_no_push_time(server: ScriptedServer) -> None:
    """The map says ``v0.0.8`` is on the recorded list; by the time the walk asks, it is on
    another one.  The walk describes what the tag points at now, and the listed upload
    time (of the list it no longer points at) is not put beside it."""
    blobs: dict[str, bytes] = {}
    listed, mmap = _manifest_list("v0.0.8", blobs)
    moved, _ = _manifest_list("v0.0.8-rebuilt", blobs)
    _serve_gcr(server, mmap, {"v0.0.8": moved}, blobs)
    row = rf.read_tags(f"{server.host}/p/app", dates=True, cache=False).set_index("tag").loc[
        "v0.0.8"
    ]
    assert row["digest"] == _d(moved) != _d(listed)
    assert pd.isna(row["pushed"]) and pd.isna(row["pushed_source"])
    assert row["created_source"] == "config"  # the build time of what it points at now
    assert pd.isna(row["error"])
