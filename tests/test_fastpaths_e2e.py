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
