"""dates=True against the REAL CNCF registry: every manifest kind, platforms, date fallbacks,
attestations, aliases, the digest cache, and a cross-check with skopeo (a real peer client)."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings

import pandas as pd
import pytest
import requests

import regframe as rf
import regframe.frame.resolve

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"




class CountingSession(requests.Session):
    """A session that records every request (method, path) — how tests count round trips."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, str]] = []

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        self.log.append((method, requests.utils.urlparse(url).path))
        return super().request(method, url, *args, **kwargs)

    def count(self, method: str, part: str, *, by_digest: bool | None = None) -> int:
        n = 0
        for m, path in self.log:
            if m != method or part not in path:
                continue
            if by_digest is not None and ("sha256:" in path) != by_digest:
                continue
            n += 1
        return n


def row(df: pd.DataFrame, tag: str) -> pd.Series:
    return df.set_index("tag").loc[tag]


@pytest.fixture(scope="module")
def kinds(registry_open):
    """One repository holding every manifest kind the registry can store."""
    p = registry_open.pusher
    repo = "dates/kinds"
    p.push_multiarch(repo, ["oci-index"], created="2024-01-01T00:00:00Z", media="oci")
    p.push_multiarch(repo, ["docker-list"], created="2024-02-01T00:00:00Z", media="docker",
                     platforms=("linux/amd64", "linux/arm/v7"), attestations=False)
    p.push_image(repo, ["docker-v2"], created="2024-03-01T00:00:00Z", media="docker")
    p.push_image(repo, ["oci-manifest"], created="2024-04-01T00:00:00Z", media="oci")
    p.push_image(repo, ["arm-only"], created="2024-05-01T00:00:00Z", architecture="arm64", variant="v8")
    return registry_open.ref(repo)


def test_every_manifest_kind(kinds):
    df = rf.read_tags(kinds, dates=True, cache=False)
    assert row(df, "oci-index").media_type == OCI_INDEX
    assert row(df, "docker-list").media_type == DOCKER_LIST
    assert row(df, "docker-v2").media_type == DOCKER_V2
    assert row(df, "oci-manifest").media_type == OCI_MANIFEST
    assert row(df, "oci-index").created == pd.Timestamp("2024-01-01", tz="UTC")
    assert row(df, "docker-list").created == pd.Timestamp("2024-02-01", tz="UTC")
    assert row(df, "docker-v2").created == pd.Timestamp("2024-03-01", tz="UTC")
    assert row(df, "oci-manifest").created == pd.Timestamp("2024-04-01", tz="UTC")
    assert set(df.created_source.dropna()) == {"config"}
    # Attestation entries never show up among the platforms.
    assert row(df, "oci-index").platforms == "linux/amd64,linux/arm64/v8"
    assert row(df, "docker-list").platforms == "linux/amd64,linux/arm/v7"
    assert row(df, "docker-v2").platforms == "linux/amd64"
    assert (df["size"].dropna() > 0).all()
    assert str(df["created"].dtype) == "datetime64[ns, UTC]"


def test_platform_choice(kinds):
    amd = rf.read_tags(kinds, dates=True, cache=False)
    with pytest.warns(rf.MetadataWarning, match="1 of 5"):  # docker-list has no arm64
        arm = rf.read_tags(kinds, dates=True, cache=False, platform="linux/arm64")  # ≡ arm64/v8
    assert row(amd, "oci-index").digest == row(arm, "oci-index").digest  # the index digest
    assert row(amd, "oci-index")["size"] != row(arm, "oci-index")["size"]  # but another child
    assert pd.isna(row(amd, "oci-index").error)
    # Single-platform images are what they are; an index without the platform is a row error.
    with pytest.warns(rf.MetadataWarning):
        v7 = rf.read_tags(kinds, dates=True, cache=False, platform="linux/arm/v7")
    assert pd.isna(row(v7, "docker-list").error)
    assert "no image for platform linux/arm/v7" in row(v7, "oci-index").error
    assert row(v7, "docker-v2").created == pd.Timestamp("2024-03-01", tz="UTC")
    first = rf.read_tags(kinds, dates=True, cache=False, platform=None)
    assert row(first, "oci-index")["size"] == row(amd, "oci-index")["size"]  # amd64 is first
    assert row(arm, "arm-only")["size"] == row(amd, "arm-only")["size"]


def test_bad_platform_fails_before_network(kinds):
    with pytest.raises(rf.InvalidReferenceError, match="platform"):
        rf.read_tags("127.0.0.1:1/never/contacted", dates=True, platform="linux//amd64")


def test_date_fallbacks(registry_open, unique_repo):
    p = registry_open.pusher
    ann = {"org.opencontainers.image.created": "2023-06-01T10:00:00Z"}
    p.push_image(unique_repo, ["cfg"], created="2024-01-01T00:00:00.123456789+02:00")
    p.push_image(unique_repo, ["manifest-annotation"], created=None, annotations=ann)
    p.push_multiarch(unique_repo, ["index-annotation"], created=None, index_annotations=ann,
                     attestations=False)
    p.push_image(unique_repo, ["oci-label"], created=None,
                 labels={"org.opencontainers.image.created": "2022-02-02T02:02:02Z"})
    p.push_image(unique_repo, ["schema-label"], created=None,
                 labels={"org.label-schema.build-date": "2021-01-01T00:00:00Z"})
    p.push_image(unique_repo, ["epoch-then-annotation"], created="1970-01-01T00:00:00Z", annotations=ann)
    p.push_image(unique_repo, ["zero"], created="0001-01-01T00:00:00Z")
    p.push_image(unique_repo, ["none"], created=None)
    df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    expect = {
        "cfg": ("2023-12-31T22:00:00.123456789Z", "config"),
        "manifest-annotation": ("2023-06-01T10:00:00Z", "annotation"),
        "index-annotation": ("2023-06-01T10:00:00Z", "annotation"),
        "oci-label": ("2022-02-02T02:02:02Z", "label"),
        "schema-label": ("2021-01-01T00:00:00Z", "label"),
        "epoch-then-annotation": ("2023-06-01T10:00:00Z", "annotation"),
    }
    for tag, (when, source) in expect.items():
        r = row(df, tag)
        assert r.created == pd.Timestamp(when), tag
        assert r.created_source == source, tag
    for tag in ("zero", "none"):
        assert pd.isna(row(df, tag).created) and pd.isna(row(df, tag).created_source)
        assert pd.isna(row(df, tag).error)  # no date is not an error
    assert row(df, "cfg").created.nanosecond == 789


def test_aliases_resolve_to_most_specific(registry_open, unique_repo):
    p = registry_open.pusher
    p.push_multiarch(unique_repo, ["3.12.1", "3.12", "3", "latest", "3.12.1-bookworm"], created="2024-08-01T00:00:00Z")
    p.push_multiarch(unique_repo, ["3.12.1-slim", "3.12-slim", "slim"], created="2024-08-01T00:05:00Z")
    p.push_image(unique_repo, ["3.11.9", "3.11"], created="2024-04-01T00:00:00Z")
    p.push_image(unique_repo, ["bookworm"], created="2024-04-02T00:00:00Z")
    df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    got = dict(zip(df.tag, df.resolves_to.astype(object), strict=True))
    assert got["latest"] == got["3"] == got["3.12"] == got["3.12.1-bookworm"] == "3.12.1"
    assert got["slim"] == got["3.12-slim"] == "3.12.1-slim"
    assert got["3.11"] == "3.11.9"
    assert pd.isna(got["bookworm"])
    assert df.groupby("resolves_to").tag.apply(list)["3.11.9"] == ["3.11", "3.11.9"]


def test_cache_makes_a_warm_run_free_of_digest_requests(registry_open, unique_repo, tmp_path):
    p = registry_open.pusher
    for i in range(6):
        p.push_multiarch(unique_repo, [f"1.{i}.0", f"1.{i}"], created=f"2024-0{i + 1}-01T00:00:00Z")
    cold_s, warm_s = CountingSession(), CountingSession()
    cache = tmp_path / "rfcache"
    cold = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=cache, session=cold_s)
    # Cold: one request per tag (12) and, per unique index (6), one child and one config.
    assert cold_s.count("GET", "/manifests/", by_digest=False) == 12
    assert cold_s.count("GET", "/manifests/", by_digest=True) == 6
    assert cold_s.count("GET", "/blobs/") == 6
    warm = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=cache, session=warm_s)
    assert warm_s.count("GET", "/manifests/") == 0
    assert warm_s.count("GET", "/blobs/") == 0
    assert warm_s.count("HEAD", "/manifests/") == 12
    pd.testing.assert_frame_equal(cold.drop(columns=[]), warm)
    # A tag that moves is noticed: only tag -> digest is ever asked again.
    p.push_multiarch(unique_repo, ["1.5"], created="2024-12-01T00:00:00Z")
    moved_s = CountingSession()
    moved = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=cache, session=moved_s)
    assert row(moved, "1.5").created == pd.Timestamp("2024-12-01", tz="UTC")
    assert row(moved, "1.5.0").created == pd.Timestamp("2024-06-01", tz="UTC")
    assert moved_s.count("GET", "/blobs/") == 1


def test_shared_digests_are_fetched_once(registry_open, unique_repo):
    p = registry_open.pusher
    p.push_multiarch(unique_repo, [f"alias-{i}" for i in range(20)], created="2024-01-01T00:00:00Z")
    s = CountingSession()
    df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False, session=s)
    assert df.digest.nunique() == 1
    assert s.count("GET", "/manifests/", by_digest=True) == 1  # the amd64 child
    assert s.count("GET", "/blobs/") == 1                      # its config


def test_one_broken_tag_does_not_lose_the_frame(registry_open, unique_repo):
    p = registry_open.pusher
    p.push_image(unique_repo, ["good-1", "good-2"], created="2024-01-01T00:00:00Z")
    digest = p.push_image(unique_repo, ["broken"], created="2020-01-01T00:00:00Z")
    # Lose the broken image's config blob from the registry's storage: its chain breaks.
    body, _ = p.get_manifest(unique_repo, digest)
    config = json.loads(body)["config"]["digest"].split(":")[1]
    blob = registry_open.storage_root / "docker/registry/v2/blobs/sha256" / config[:2] / config / "data"
    blob.unlink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    assert len(df) == 3
    assert df.set_index("tag").error.isna().to_dict() == {"broken": False, "good-1": True, "good-2": True}
    assert row(df, "good-1").created == pd.Timestamp("2024-01-01", tz="UTC")
    assert pd.isna(row(df, "broken").created)
    assert row(df, "broken").digest == digest  # what is known is kept
    assert any("1 of 3 tags" in str(w.message) for w in caught)


def test_created_matches_skopeo(registry_open, unique_repo):
    assert shutil.which("skopeo"), "skopeo is installed by scripts/setup.sh"
    p = registry_open.pusher
    p.push_multiarch(unique_repo, ["1.0.0"], created="2024-02-03T04:05:06Z")
    p.push_image(unique_repo, ["1.1.0"], created="2024-03-04T05:06:07.5Z", media="docker")
    p.push_image(unique_repo, ["1.2.0"], created="2024-04-05T06:07:08+03:00")
    df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    for tag in ("1.0.0", "1.1.0", "1.2.0"):
        out = subprocess.run(
            ["skopeo", "inspect", "--tls-verify=false", "--override-arch", "amd64", "--override-os", "linux",
             f"docker://{registry_open.ref(unique_repo)}:{tag}"],
            capture_output=True, text=True, timeout=60, check=True,
        )
        theirs = pd.Timestamp(json.loads(out.stdout)["Created"]).tz_convert("UTC")
        assert row(df, tag).created == theirs, tag


def test_progress_bar_on_request_and_silent_by_default(registry_open, unique_repo, capsys):
    registry_open.pusher.push_image(unique_repo, ["1.0", "1.1", "1.2"], created="2024-01-01T00:00:00Z")
    rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False)
    assert capsys.readouterr().err == ""  # few tags, no terminal: no bar
    rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False, progress=True)
    err = capsys.readouterr().err
    # The tag list, three tags, their one manifest and its config: six steps.
    assert "requests" in err and "6/6" in err


@pytest.mark.parametrize("signed", [True, False])
def test_schema1_through_read_tags(signed, tmp_path):
    """Legacy schema 1 manifests, from a SCRIPTED registry: distribution 2.8 refuses to store
    them (schema1 is disabled by default), so no real server here can serve one."""
    import hashlib

    from test_manifests import signed_schema1

    from tests.scripted import Response, ScriptedServer, json_response

    body, payload = signed_schema1()
    served = body if signed else payload
    digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    media = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    with ScriptedServer() as server:
        server.route("GET", r"/v2/", lambda req: json_response({}))
        server.route("GET", r"/v2/old/busybox/tags/list",
                     lambda req: json_response({"name": "old/busybox", "tags": ["1.24"]}))
        server.route("GET", r"/v2/old/busybox/manifests/1\.24",
                     lambda req: Response(200, served, {"Content-Type": media, "Docker-Content-Digest": digest}))
        for cache in (False, tmp_path / "c", tmp_path / "c"):
            df = rf.read_tags(f"{server.host}/old/busybox", dates=True, cache=cache)
            r = row(df, "1.24")
            assert pd.isna(r.error), r.error
            assert r.digest == digest
            assert r.created == pd.Timestamp("2016-03-01T17:32:05.171534223Z")
            assert r.created_source == "config"
            assert r.platforms == "linux/amd64"
