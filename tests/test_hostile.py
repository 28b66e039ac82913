"""Hostile and broken registries, against a SCRIPTED registry.

The real CNCF registry on this machine validates what it stores and answers
consistently, so it cannot send a 5 MiB manifest, an endless body, a digest
that lies, a ``mediaType`` contradicting its ``Content-Type`` or a descriptor
digest like ``sha256:../../x``.  :class:`ScriptedRegistry` below serves
``/v2/``, ``tags/list``, manifests by tag and digest and blobs from plain dicts
(over ``tests/scripted.py``) and lets each test break exactly one answer.

The contract checked everywhere: a broken answer gives a typed
:class:`~regframe.errors.RegframeError` or a row ``error`` — never an
untyped exception, never a lost frame, never a hang — and no request path
ever contains ``..``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

import regframe as rf
from regframe.errors import MetadataWarning
from tests.scripted import Request, Response, ScriptedServer, json_response, registry_error

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REPO = "h/app"

Handler = Callable[[Request], Response]




def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()




class ScriptedRegistry:
    """A small in-memory registry for one repository on a :class:`ScriptedServer`.

    ``tags`` maps tag → digest, ``manifests`` digest → (body, Content-Type),
    ``blobs`` digest → bytes.  ``special[reference]`` (a tag or digest, for
    manifests and blobs alike) replaces the answer for that one reference.
    ``gate`` runs before every repository request and may answer instead
    (authentication).  ``tag_list`` replaces the tags/list answer.
    """

    def __init__(self, server: ScriptedServer, repo: str = REPO) -> None:
        self.server = server
        self.repo = repo
        self.tags: dict[str, str] = {}
        self.manifests: dict[str, tuple[bytes, str]] = {}
        self.blobs: dict[str, bytes] = {}
        self.special: dict[str, Handler] = {}
        self.gate: Callable[[Request], Response | None] = lambda req: None
        self.ping: Handler = lambda req: json_response({})
        self.tag_list: Handler | None = None
        base = f"/v2/{re.escape(repo)}"
        server.route("GET", r"/v2/", lambda req: self.ping(req))
        server.route("GET", rf"{base}/tags/list", self._tags)
        server.route("GET", rf"{base}/manifests/(?P<ref>.+)", self._manifest)
        server.route("GET", rf"{base}/blobs/(?P<ref>.+)", self._blob)

    @property
    def ref(self) -> str:
        return f"{self.server.host}/{self.repo}"

    # -- content -----------------------------------------------------------------------

    def blob(self, data: bytes) -> str:
        digest = sha256(data)
        self.blobs[digest] = data
        return digest

    def put(self, tags: list[str], body: bytes, content_type: str) -> str:
        digest = sha256(body)
        self.manifests[digest] = (body, content_type)
        for tag in tags:
            self.tags[tag] = digest
        return digest

    def image_doc(self, created: str | None, arch: str = "amd64", salt: str = "") -> dict[str, Any]:
        config: dict[str, Any] = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers"}}
        if created:
            config["created"] = created
        cfg = canonical(config)
        layer = f"layer-{arch}-{created}-{salt}".encode()
        return {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": self.blob(cfg), "size": len(cfg)},
            "layers": [{"mediaType": OCI_LAYER, "digest": self.blob(layer), "size": len(layer)}],
        }

    def image(
        self, tags: list[str], created: str | None, arch: str = "amd64", salt: str = ""
    ) -> str:
        return self.put(tags, canonical(self.image_doc(created, arch, salt)), OCI_MANIFEST)

    def index(self, tags: list[str], created: str) -> str:
        children = []
        for arch in ("amd64", "arm64"):
            body = canonical(self.image_doc(created, arch))
            digest = self.put([], body, OCI_MANIFEST)
            children.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": len(body),
                    "platform": {"os": "linux", "architecture": arch},
                }
            )
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
        return self.put(tags, canonical(doc), OCI_INDEX)

    # -- handlers ----------------------------------------------------------------------

    def _tags(self, req: Request) -> Response:
        answer = self.gate(req)
        if answer is not None:
            return answer
        if self.tag_list is not None:
            return self.tag_list(req)
        return json_response({"name": self.repo, "tags": list(self.tags)})

    def _manifest(self, req: Request) -> Response:
        answer = self.gate(req)
        if answer is not None:
            return answer
        assert req.match is not None
        ref = req.match["ref"]
        if ref in self.special:
            return self.special[ref](req)
        digest = self.tags.get(ref, ref)
        if digest not in self.manifests:
            return registry_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        body, content_type = self.manifests[digest]
        return Response(200, body, {"Content-Type": content_type, "Docker-Content-Digest": digest})

    def _blob(self, req: Request) -> Response:
        answer = self.gate(req)
        if answer is not None:
            return answer
        assert req.match is not None
        ref = req.match["ref"]
        if ref in self.special:
            return self.special[ref](req)
        if ref not in self.blobs:
            return registry_error(404, "BLOB_UNKNOWN", "blob unknown")
        return Response(200, self.blobs[ref], {"Content-Type": "application/octet-stream"})


@pytest.fixture
def reg() -> Iterator[ScriptedRegistry]:
    with ScriptedServer() as server:
        registry = ScriptedRegistry(server)
        yield registry
        # Whatever the test did: nothing ever walked out of the repository by path.
        for r in server.requests:
            assert ".." not in r.target, r.target
            assert r.path == "/v2/" or r.path.startswith(f"/v2/{REGISTRY_REPO_PREFIX}"), r.path


REGISTRY_REPO_PREFIX = REPO + "/"


def read(reg: ScriptedRegistry, **kwargs: Any) -> pd.DataFrame:
    kwargs.setdefault("dates", True)
    kwargs.setdefault("cache", False)
    return rf.read_tags(reg.ref, **kwargs)


def read_warned(reg: ScriptedRegistry, **kwargs: Any) -> pd.DataFrame:
    with pytest.warns(MetadataWarning):
        return read(reg, **kwargs)


def rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("tag")


GOOD = "2024-05-06T07:08:09Z"


def _good_rows(df: pd.DataFrame, tags: list[str]) -> None:
    r = rows(df)
    for tag in tags:
        assert pd.isna(r.loc[tag, "error"]), r.loc[tag, "error"]
        assert r.loc[tag, "created"] == pd.Timestamp(GOOD)


def test_scripted_registry_serves_a_clean_frame(reg):
    reg.image(["1.0", "1"], GOOD)
    reg.index(["2.0"], GOOD)
    df = read(reg)
    _good_rows(df, ["1", "1.0", "2.0"])
    assert rows(df).loc["2.0", "platforms"] == "linux/amd64,linux/arm64"


# -- tag lists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe{", "not JSON"),
        (b"null", "not an object"),
        (b'"1.0"', "not an object"),
        (b'{"tags": {"1.0": true}}', "not a list"),
        (b'{"tags": 1}', "not a list"),
        (b'{"tags": "1.0"}', "not a list"),
    ],
)
def test_broken_tag_lists_are_registry_errors(reg, body, match):
    reg.tag_list = lambda req: Response(200, body, {"Content-Type": "application/json"})
    with pytest.raises(rf.RegistryError, match=match):
        read(reg)


def test_null_empty_and_non_string_tags_are_skipped(reg):
    reg.image(["1.0"], GOOD)
    reg.tag_list = lambda req: json_response(
        {"name": REPO, "tags": [None, "", " ", 7, ["1.0"], {"x": 1}, "1.0"]}
    )
    df = read(reg)
    assert list(df.tag) == ["1.0"]
    _good_rows(df, ["1.0"])


def test_tags_null_is_an_empty_frame_with_every_column(reg):
    reg.tag_list = lambda req: json_response({"name": REPO, "tags": None})
    df = read(reg)
    assert df.empty
    assert "error" in df.columns and "created" in df.columns


def test_path_traversal_tags_never_leave_the_repository(reg):
    """A tag list naming ``../../x`` and friends: row errors, no request outside the repo."""
    reg.image(["1.0"], GOOD)
    hostile = ["../../x", "..", "a/../../b", "%2e%2e", "x?y=1", "1.0"]
    reg.tag_list = lambda req: json_response({"name": REPO, "tags": hostile})
    df = read_warned(reg)
    r = rows(df)
    _good_rows(df, ["1.0"])
    for tag in hostile[:-1]:
        assert "invalid tag" in r.loc[tag, "error"]
    manifest_paths = [q.path for q in reg.server.requests if "/manifests/" in q.path]
    assert manifest_paths == [f"/v2/{REPO}/manifests/1.0"]


# -- manifests ---------------------------------------------------------------------------


def _serve(body: bytes, content_type: str = OCI_MANIFEST, **headers: str) -> Handler:
    def handler(req: Request) -> Response:
        return Response(200, body, {"Content-Type": content_type, **headers})

    return handler


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>gateway error</html>", "not valid JSON"),
        (b"[1, 2, 3]", "JSON object"),
        (b'{"schemaVersion": "2", "mediaType": "%s"}' % OCI_MANIFEST.encode(), "schemaVersion"),
        (b'{"mediaType": "%s", "config": 5, "layers": []}' % OCI_MANIFEST.encode(), "descriptor"),
        (b'{"mediaType": "%s", "manifests": "x"}' % OCI_INDEX.encode(), "list"),
        (b'{"mediaType": "application/x-evil", "layers": []}', "unsupported"),
        (b'{"' + b"[" * 100_000 + b'"}', "JSON"),
        (b"[" * 100_000, "JSON"),
    ],
    ids=[
        "html",
        "array",
        "str-version",
        "config-int",
        "manifests-str",
        "evil-type",
        "deep1",
        "deep2",
    ],
)
def test_unusable_manifests_are_row_errors(reg, body, words):
    reg.image(["1.0"], GOOD)
    reg.tags["2.0"] = "x"
    # A generic Content-Type, so only the body itself can be at fault.
    reg.special["2.0"] = _serve(body, "application/json")
    df = read_warned(reg)
    _good_rows(df, ["1.0"])
    assert words.lower() in rows(df).loc["2.0", "error"].lower()


def test_manifest_over_4_mib_with_content_length_is_a_row_error(reg):
    reg.image(["1.0"], GOOD)
    reg.tags["big"] = "x"
    reg.special["big"] = _serve(b" " * (4 * 1024 * 1024 + 1) + b"{}")
    start = time.monotonic()
    df = read_warned(reg)
    assert time.monotonic() - start < 10
    _good_rows(df, ["1.0"])
    assert "too large" in rows(df).loc["big", "error"]


def test_endless_chunked_manifest_is_cut_off(reg):
    def endless(req: Request) -> Response:
        return Response(
            200, headers={"Content-Type": OCI_MANIFEST}, chunks=itertools.repeat(b"x" * 65536)
        )

    reg.image(["1.0"], GOOD)
    reg.tags["endless"] = "x"
    reg.special["endless"] = endless
    start = time.monotonic()
    df = read_warned(reg)
    assert time.monotonic() - start < 10
    _good_rows(df, ["1.0"])
    assert "too large" in rows(df).loc["endless", "error"]


@pytest.mark.timeout(30)
def test_slow_drip_body_hits_the_body_deadline(reg):
    """1 byte every 20 ms never trips the per-read timeout; the body deadline must."""

    def drip() -> Iterator[bytes]:
        while True:
            time.sleep(0.02)
            yield b" "

    reg.image(["1.0"], GOOD)
    reg.tags["drip"] = "x"
    reg.special["drip"] = lambda req: Response(
        200, headers={"Content-Type": OCI_MANIFEST}, chunks=drip()
    )
    timeout = 0.25
    start = time.monotonic()
    df = read_warned(reg, timeout=timeout)
    elapsed = time.monotonic() - start
    _good_rows(df, ["1.0"])
    assert "in time" in rows(df).loc["drip", "error"]
    # Three body attempts of at most 4 x timeout each, plus their short pauses.
    assert elapsed < 3 * 4 * timeout + 2


def test_oversized_config_blob_is_a_row_error(reg):
    reg.image(["1.0"], GOOD)
    doc = reg.image_doc(GOOD)
    big = b"{" + b" " * (4 * 1024 * 1024 + 10) + b"}"
    doc["config"] = {"mediaType": OCI_CONFIG, "digest": reg.blob(big), "size": len(big)}
    reg.put(["2.0"], canonical(doc), OCI_MANIFEST)
    df = read_warned(reg)
    _good_rows(df, ["1.0"])
    assert "too large" in rows(df).loc["2.0", "error"]


def test_digest_header_that_lies_is_a_row_error(reg):
    reg.image(["1.0"], GOOD)
    body = canonical(reg.image_doc("2020-01-01T00:00:00Z"))
    reg.tags["2.0"] = "x"
    reg.special["2.0"] = _serve(body, **{"Docker-Content-Digest": sha256(b"something else")})
    df = read_warned(reg)
    _good_rows(df, ["1.0"])
    assert "digest mismatch" in rows(df).loc["2.0", "error"]
    assert pd.isna(rows(df).loc["2.0", "created"])


def test_child_and_config_that_do_not_match_their_digest_are_row_errors(reg):
    reg.image(["1.0"], GOOD, salt="not-the-index-child")
    index = reg.index(["2.0"], GOOD)
    child = json.loads(reg.manifests[index][0])["manifests"][0]["digest"]
    reg.special[child] = _serve(canonical(reg.image_doc("1999-01-01T00:00:00Z")))
    doc = reg.image_doc("2021-01-01T00:00:00Z")
    reg.special[doc["config"]["digest"]] = lambda req: Response(
        200, b'{"created": "1999-01-01T00:00:00Z"}'
    )
    doc["layers"] = []  # a distinct manifest sharing that config
    reg.put(["3.0"], canonical(doc), OCI_MANIFEST)
    df = read_warned(reg)
    _good_rows(df, ["1.0"])
    assert "digest mismatch" in rows(df).loc["2.0", "error"]
    assert "digest mismatch" in rows(df).loc["3.0", "error"]


def test_manifest_with_both_manifests_and_layers_is_a_row_error(reg):
    reg.image(["1.0"], GOOD)
    doc = reg.image_doc(GOOD)
    doc.pop("mediaType")
    doc["manifests"] = []
    reg.put(["2.0"], canonical(doc), OCI_MANIFEST)
    df = read_warned(reg)
    _good_rows(df, ["1.0"])
    assert "ambiguous" in rows(df).loc["2.0", "error"]


def test_media_type_contradicting_content_type_is_a_row_error(reg):
    reg.image(["1.0"], GOOD)
    body = canonical(reg.image_doc(GOOD, salt="2.0"))  # mediaType: OCI image manifest
    reg.put(["2.0"], body, OCI_INDEX)  # ... served as an OCI index
    with pytest.warns(rf.MetadataWarning, match="1 of 2 tags"):
        df = read(reg)
    _good_rows(df, ["1.0"])
    assert "contradicts" in str(rows(df).loc["2.0", "error"])


@pytest.mark.parametrize(
    "bad",
    [
        "sha256:../../x",
        "sha256:../../../v2/other/blobs/" + "a" * 40,
        "sha256:" + "A" * 64,
        "sha256:" + "a" * 64 + "\n",
        "md5:" + "a" * 32,
        "sha256:" + "a" * 63 + "/",
    ],
)
def test_descriptor_digests_breaking_the_grammar_never_reach_a_url(reg, bad):
    reg.image(["1.0"], GOOD)
    doc = reg.image_doc(GOOD)
    doc["config"]["digest"] = bad
    reg.put(["cfg"], canonical(doc), OCI_MANIFEST)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": bad,
                "size": 10,
                "platform": {"os": "linux", "architecture": "amd64"},
            }
        ],
    }
    reg.put(["idx"], canonical(index), OCI_INDEX)
    body = canonical(reg.image_doc(GOOD, arch="s390x"))
    reg.tags["hdr"] = "x"
    # A header cannot carry a newline (the scripted server would break its own framing).
    reg.special["hdr"] = _serve(body, **{"Docker-Content-Digest": bad.strip()})
    df = read_warned(reg)
    _good_rows(df, ["1.0"])
    r = rows(df)
    for tag in ("cfg", "idx", "hdr"):
        error = r.loc[tag, "error"].lower()
        assert ("invalid" in error and "digest" in error) or "digest mismatch" in error, tag
    assert not any(
        bad.split(":", 1)[1][:8] in q.target
        for q in reg.server.requests
        if bad.startswith("sha256:")
    )


# -- HEAD and Docker-Content-Digest ------------------------------------------------------


@pytest.mark.parametrize("head", ["405", "no-digest"])
def test_head_fallback_to_get_on_a_warm_run(reg, head):
    """A warm run HEADs each tag; a registry answering 405 (or 200 without a digest) gets a GET."""
    reg.image(["1.0"], GOOD)
    reg.index(["2.0", "latest"], GOOD)
    cold = read(reg, cache=True)
    if head == "405":
        reg.server.route("HEAD", r"/v2/.+/manifests/.+", lambda req: Response(405, b""))
    else:
        reg.server.route(
            "HEAD",
            r"/v2/.+/manifests/.+",
            lambda req: Response(200, b"", {"Content-Type": OCI_MANIFEST}),
        )
    reg.server.requests.clear()
    warm = read(reg, cache=True)
    methods = {
        (q.method, q.path.rsplit("/", 1)[-1])
        for q in reg.server.requests
        if "/manifests/" in q.path
    }
    assert ("HEAD", "1.0") in methods and ("GET", "1.0") in methods
    for df in (cold, warm):
        df.attrs = {}
    pd.testing.assert_frame_equal(warm, cold)
    assert warm["error"].isna().all()


def test_missing_docker_content_digest_is_computed(reg):
    digest = reg.image(["1.0"], GOOD)
    body = reg.manifests[digest][0]
    reg.special["1.0"] = _serve(body)  # no Docker-Content-Digest
    df = read(reg)
    assert rows(df).loc["1.0", "digest"] == digest
    _good_rows(df, ["1.0"])


# -- token quirks (scripted: the real registry accepts expired tokens for 60 s) -----------


class ScriptedTokens:
    """A token server on 127.0.0.2 and a Bearer gate for a :class:`ScriptedRegistry`.

    Each token is good for ``uses`` requests; then the registry answers 401 —
    with its challenge (``error="invalid_token"``) or, with ``bare=True``, with
    no ``WWW-Authenticate`` at all (the challenge must be reused from the ping).
    """

    def __init__(
        self, reg: ScriptedRegistry, token_server: ScriptedServer, *, uses: int, bare: bool
    ) -> None:
        self.issued = 0
        self.left: dict[str, int] = {}
        self.lock = threading.Lock()
        self.uses = uses
        self.bare = bare
        self.deny: set[str] = set()
        self.realm = f"{token_server.url}/token"
        token_server.route("GET", r"/token", self._token)
        reg.ping = lambda req: self._challenge()
        reg.gate = self._gate

    def _challenge(self, error: str | None = None) -> Response:
        value = f'Bearer realm="{self.realm}",service="scripted",scope="repository:{REPO}:pull"'
        if error:
            value += f',error="{error}"'
        return registry_error(
            401, "UNAUTHORIZED", "authentication required", headers={"WWW-Authenticate": value}
        )

    def _token(self, req: Request) -> Response:
        with self.lock:
            self.issued += 1
            token = f"tok-{self.issued}"
            self.left[token] = self.uses
        return json_response({"token": token, "expires_in": 300})

    def _gate(self, req: Request) -> Response | None:
        token = req.headers.get("Authorization", "").removeprefix("Bearer ")
        assert req.match is not None
        ref = req.match.groupdict().get("ref")
        if ref in self.deny:
            return self._challenge("insufficient_scope")
        with self.lock:
            left = self.left.get(token, 0)
            if left > 0:
                self.left[token] = left - 1
                return None
        if self.bare:
            return registry_error(401, "UNAUTHORIZED", "token expired")
        return self._challenge("invalid_token")


@pytest.fixture
def token_host() -> Iterator[ScriptedServer]:
    with ScriptedServer(host="127.0.0.2") as server:
        yield server


@pytest.mark.parametrize("bare", [False, True], ids=["challenge", "no-challenge"])
def test_expired_token_mid_run_is_refreshed(reg, token_host, bare):
    """Tokens die after 5 uses; the registry says so with (or without) a challenge."""
    tokens = ScriptedTokens(reg, token_host, uses=5, bare=bare)
    # Ten releases, each built at its own time (one build time shared by ten releases
    # would be a placeholder, dropped from the frame).
    built = [f"2024-05-06T07:08:{i:02d}Z" for i in range(10)]
    for i in range(10):
        reg.image([f"1.{i}"], built[i], salt=str(i))
    # One worker: the refresh schedule is exact (with many, a token this short-lived can
    # die again between refresh and retry, which no real token server does).
    df = read(reg, max_workers=1)
    assert len(df) == 10
    assert rows(df)["error"].isna().all()
    assert rows(df).loc[[f"1.{i}" for i in range(10)], "created"].tolist() == [
        pd.Timestamp(b) for b in built
    ]
    # 1 tag list + 10 manifests + 10 configs = 21 uses of 5 each: exactly 5 tokens,
    # i.e. one refresh per 401 and no token fetched without need.
    assert tokens.issued == 5


def test_insufficient_scope_on_one_tag_is_a_row_error(reg, token_host):
    tokens = ScriptedTokens(reg, token_host, uses=1000, bare=False)
    tokens.deny.add("2.0")
    reg.image(["1.0", "2.0"], GOOD)
    df = read_warned(reg)
    _good_rows(df, ["1.0"])
    error = rows(df).loc["2.0", "error"]
    assert "not authorized" in error or "denied" in error or "credentials" in error
    # One re-authentication for the refused request, not a loop.
    assert tokens.issued <= 3
