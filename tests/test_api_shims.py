"""The five registry-hosted fast paths beside a REAL registry (Debian ``docker-registry``).

:class:`regframe.testing.api_shim.ApiShim` gives the token-auth sandbox registry the face of
Harbor, ACR, GitLab, GHCR or ECR Public: their challenge and realm, and their tag API
answered from what the registry really stores (tag links and their modification times).
Manifests, blobs and tokens are the real registry's.  So these tests check, on real pushes,
that each fast path lists the same tags and digests the manifest walk finds, dates them
within the moments they were pushed, stays within ⌈tags/page⌉ + 3 requests, walks the
manifests again when the API contradicts itself, and sends credentials only where asked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest

import regframe as rf
from regframe.testing.api_shim import ApiShim
from regframe.testing.sandbox import Sandbox
from tests.conftest import ALICE_PASSWORD

GITHUB_TOKEN = "ghp_" + "ShimTokenForTests" * 2
PAGE = {"harbor": 100, "acr": 1000, "gitlab": 1000, "ghcr": 100, "ecr-public": 1000}
PRODUCTS = list(PAGE)


@dataclass
class Pushed:
    """What a test pushed: per tag, the digest and the window its push happened in."""

    repo: str
    windows: dict[str, tuple[int, int]]


def _push(sb: Sandbox, repo: str) -> Pushed:
    windows: dict[str, tuple[int, int]] = {}

    def timed(tag: str, push: object) -> None:
        before = time.time_ns()
        push()  # type: ignore[operator]
        windows[tag] = (before, time.time_ns())

    timed("1.0", lambda: sb.pusher.push_image(repo, ["1.0"], created="2024-01-02T03:04:05Z"))
    timed("1.1", lambda: sb.pusher.push_multiarch(repo, ["1.1"], created="2024-02-03T04:05:06Z"))
    time.sleep(0.02)
    timed("latest", lambda: sb.pusher.tag(repo, "1.0", ["latest"]))  # moved later, same digest
    return Pushed(repo, windows)


@pytest.fixture
def shim(request: pytest.FixtureRequest, registry_token: Sandbox,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiShim]:  # fmt: skip
    product = request.param
    with ApiShim(registry_token, product, github_token=GITHUB_TOKEN) as s:
        monkeypatch.setenv("REGFRAME_GITHUB_API", s.api_url)
        monkeypatch.setenv("REGFRAME_ECR_PUBLIC_API", s.api_url)
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
        yield s


def _repo(shim: ApiShim, unique_repo: str) -> str:
    # ECR Public and GHCR name repositories alias/name and owner/name.
    return unique_repo.replace("/", "-").replace("t-", f"{shim.product.replace('-', '')}/", 1)


def _walk(sb: Sandbox, repo: str, **kwargs: object) -> pd.DataFrame:
    return rf.read_tags(sb.ref(repo), dates=True, history=False, cache=False, **kwargs)  # type: ignore[arg-type]


def _fast(shim: ApiShim, repo: str, **kwargs: object) -> pd.DataFrame:
    shim.requests.clear()
    shim.api_requests.clear()
    return rf.read_tags(f"{shim.host}/{repo}", dates=True, history=False, cache=False, **kwargs)  # type: ignore[arg-type]


def _floor(ns: int, product: str) -> int:
    unit = {"ghcr": 10**9, "harbor": 10**6, "gitlab": 10**6}.get(product, 1)
    return ns - ns % unit


@pytest.mark.parametrize("shim", PRODUCTS, indirect=True)
def test_fast_path_matches_the_walk_and_the_push_times(
    shim: ApiShim, registry_token: Sandbox, unique_repo: str
) -> None:
    pushed = _push(registry_token, _repo(shim, unique_repo))
    walk = _walk(registry_token, pushed.repo)
    fast = _fast(shim, pushed.repo)
    assert list(fast.tag) == list(walk.tag) == ["1.0", "1.1", "latest"]
    assert list(fast.digest) == list(walk.digest)
    assert set(fast.pushed_source.astype(str)) == {shim.product}
    for tag in pushed.windows:
        # GHCR dates a digest's first push: "latest" carries 1.0's moment.
        source = "1.0" if shim.product == "ghcr" and tag == "latest" else tag
        lo, hi = pushed.windows[source]
        value = int(fast.set_index("tag").pushed[tag].value)
        assert _floor(lo, shim.product) <= value <= hi, (tag, value, lo, hi)
    # The walk reads manifests and configs; the fast path sends none of that.
    assert not any("/manifests/" in r.path or "/blobs/" in r.path for r in shim.requests)
    total = len(shim.requests) + len(shim.api_requests)
    assert total <= -(-len(fast) // PAGE[shim.product]) + 3
    if shim.product == "harbor":  # the one API here that reports a real build time
        singles = fast[fast.tag != "1.1"]
        assert list(singles.created) == list(walk[walk.tag != "1.1"].created)
        assert set(singles.created_source.astype(str)) == {"harbor"}
        assert fast.set_index("tag").platforms["1.1"] == walk.set_index("tag").platforms["1.1"]


FAULTS = {"harbor": "count", "acr": "repeat-cursor", "gitlab": "bad-time",
          "ghcr": "duplicate", "ecr-public": "bad-digest"}  # fmt: skip


@pytest.mark.parametrize("shim", PRODUCTS, indirect=True)
def test_an_api_that_contradicts_itself_leaves_the_walk(
    shim: ApiShim, registry_token: Sandbox, unique_repo: str
) -> None:
    pushed = _push(registry_token, _repo(shim, unique_repo))
    # Enough tags that paged APIs page (cursor faults need a second page).
    registry_token.pusher.tag(pushed.repo, "1.0", [f"0.{i}" for i in range(3)])
    shim.fault = FAULTS[shim.product]  # type: ignore[assignment]
    shim.max_page = 2  # a cursor that repeats needs a second page
    walk = _walk(registry_token, pushed.repo)
    fast = _fast(shim, pushed.repo)
    cols = ["tag", "digest", "media_type", "platforms", "created", "created_source", "size"]
    pd.testing.assert_frame_equal(fast[cols], walk[cols])
    assert fast.pushed.isna().all()
    assert any("/manifests/" in r.path for r in shim.requests)


@pytest.mark.parametrize("shim", ["gitlab"], indirect=True)
def test_labels_still_read_configs_behind_a_fast_path(
    shim: ApiShim, registry_token: Sandbox, unique_repo: str
) -> None:
    pushed = _push(registry_token, _repo(shim, unique_repo))
    fast = _fast(shim, pushed.repo, labels=True)
    assert set(fast.pushed_source.astype(str)) == {"gitlab"}
    # Configs were read (the build time comes with them), tags still from the API.
    assert any("/blobs/" in r.path for r in shim.requests)
    assert fast.created.notna().all()
    assert any(r.path.startswith("/gitlab/v1/") for r in shim.requests)


@pytest.mark.parametrize("shim", ["harbor", "acr"], indirect=True)
def test_private_repository_credentials(
    shim: ApiShim, registry_token: Sandbox, unique_repo: str
) -> None:
    repo = "private/" + unique_repo.replace("/", "-")
    _push(registry_token, repo)
    fast = _fast(shim, repo, auth=("alice", ALICE_PASSWORD))
    assert list(fast.tag) == ["1.0", "1.1", "latest"]
    for r in shim.requests:
        header = r.header("Authorization") or ""
        if header.startswith("Basic"):
            # Basic credentials go to the product's realm only, never to its API.
            assert r.path in ("/service/token", "/oauth2/token")
    if shim.product == "harbor":
        # Harbor's API is asked anonymously: a private project falls back to the walk.
        assert fast.pushed.isna().all()
        assert any(r.path.startswith("/api/v2.0/") and r.header("Authorization") is None
                   for r in shim.requests)  # fmt: skip
    else:
        # ACR's metadata_read token comes from the realm with alice's credentials.
        assert set(fast.pushed_source.astype(str)) == {"acr"}
