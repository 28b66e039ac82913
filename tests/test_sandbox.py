"""The loopback sandbox registry really behaves like the registries regframe must read.

Checked with plain ``requests`` and with ``skopeo`` as an independent client,
never with regframe's own client code.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from regframe.testing.documents import (
    DOCKER_CONFIG,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    platform_json,
    sha256_digest,
)
from regframe.testing.pusher import Pusher
from regframe.testing.sandbox import Sandbox, SandboxUnavailable, find_registry_binary
from regframe.testing.token import TokenServer, is_private, parse_scope

ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])
CREATED = "2024-03-04T05:06:07Z"

needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = ["skopeo", args[0], "--tls-verify=false", *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def bearer(sb: Sandbox, scope: str, auth: tuple[str, str] | None = None) -> str:
    resp = requests.get(
        sb.token_server.realm,
        params={"service": "regframe-sandbox-registry", "scope": scope},
        auth=auth,
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["token"]
    return token


def alice(sb: Sandbox) -> tuple[str, str]:
    return "alice", sb.users["alice"]


def jwt_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# -- pure helpers ---------------------------------------------------------------------------


def test_scope_and_private_helpers() -> None:
    assert parse_scope("repository:a/b:pull,push") == ("repository", "a/b", ["pull", "push"])
    assert parse_scope("repository(plugin):x:pull") == ("repository(plugin)", "x", ["pull"])
    assert parse_scope("registry:catalog:*") == ("registry", "catalog", ["*"])
    assert parse_scope("bad") is None
    assert is_private("private/app", ["private/"])
    assert is_private("exact", ["exact"])
    assert not is_private("exactly", ["exact"])
    assert not is_private("privateer/app", ["private/"])
    assert platform_json("linux/arm64/v8") == {"os": "linux", "architecture": "arm64",
                                               "variant": "v8"}
    # The library's parser decides what a platform is, for the sandbox too.
    assert platform_json("linux/aarch64") == {"os": "linux", "architecture": "arm64"}
    with pytest.raises(ValueError, match="architecture"):
        platform_json("linux")


def test_missing_binary_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REGFRAME_REGISTRY_BIN", str(tmp_path / "nope"))
    with pytest.raises(SandboxUnavailable, match="apt-get install docker-registry"):
        find_registry_binary()
    with pytest.raises(SandboxUnavailable, match="apt-get install docker-registry"):
        Sandbox().start()


def test_bad_auth_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="auth"):
        Sandbox(auth="kerberos")  # type: ignore[arg-type]


# -- open registry --------------------------------------------------------------------------


def test_open_push_and_list(registry_open: Sandbox, unique_repo: str) -> None:
    sb = registry_open
    assert sb.host.startswith("127.0.0.1:")
    assert sb.url == f"http://{sb.host}"
    assert sb.ref(unique_repo) == f"{sb.host}/{unique_repo}"
    digest = sb.push_image(unique_repo, ["1.0.0", "latest"], created=CREATED,
                           labels={"org.opencontainers.image.version": "1.0.0"})
    resp = requests.get(f"{sb.url}/v2/{unique_repo}/tags/list", timeout=10)
    assert resp.status_code == 200
    assert sorted(resp.json()["tags"]) == ["1.0.0", "latest"]
    head = requests.head(f"{sb.url}/v2/{unique_repo}/manifests/latest",
                         headers={"Accept": ACCEPT}, timeout=10)
    assert head.headers["Docker-Content-Digest"] == digest
    manifest = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/{digest}",
                            headers={"Accept": ACCEPT}, timeout=10)
    assert sha256_digest(manifest.content) == digest
    config_digest = manifest.json()["config"]["digest"]
    config = requests.get(f"{sb.url}/v2/{unique_repo}/blobs/{config_digest}", timeout=10)
    assert sha256_digest(config.content) == config_digest
    body = config.json()
    assert body["created"] == CREATED
    assert body["architecture"] == "amd64"
    assert body["os"] == "linux"
    assert body["config"]["Labels"] == {"org.opencontainers.image.version": "1.0.0"}
    assert body["rootfs"]["type"] == "layers"
    assert len(body["rootfs"]["diff_ids"]) == 1


@needs_skopeo
def test_open_skopeo_sees_pushed_image(registry_open: Sandbox, unique_repo: str) -> None:
    sb = registry_open
    digest = sb.push_image(unique_repo, ["2.1.0"], created=CREATED, architecture="arm64",
                           variant="v8")
    listed = skopeo("list-tags", f"docker://{sb.ref(unique_repo)}")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["Tags"] == ["2.1.0"]
    inspected = skopeo("inspect", "--override-arch", "arm64",
                       f"docker://{sb.ref(unique_repo)}:2.1.0")
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    assert info["Digest"] == digest
    assert info["Created"] == CREATED
    assert info["Architecture"] == "arm64"


def test_pusher_is_deterministic(registry_open: Sandbox, unique_repo: str) -> None:
    sb = registry_open
    when = dt.datetime(2023, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    first = sb.push_image(unique_repo, "a", created=when)
    again = sb.push_image(unique_repo, "b", created="2023-01-02T03:04:05Z")
    other = sb.push_image(unique_repo, "c", created="2023-01-02T03:04:06Z")
    undated = sb.push_image(unique_repo, "d", created=None)
    assert first == again
    assert len({first, other, undated}) == 3
    raw, _ = sb.pusher.get_manifest(unique_repo, undated)
    config = requests.get(f"{sb.url}/v2/{unique_repo}/blobs/{json.loads(raw)['config']['digest']}",
                          timeout=10).json()
    assert "created" not in config


def test_docker_media_and_retag(registry_open: Sandbox, unique_repo: str) -> None:
    sb = registry_open
    digest = sb.push_image(unique_repo, "1.2.3", created=CREATED, media="docker",
                           annotations={"ignored": "docker v2 has no annotations"})
    resp = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/1.2.3",
                        headers={"Accept": ACCEPT}, timeout=10)
    assert resp.headers["Content-Type"] == DOCKER_MANIFEST
    assert resp.json()["config"]["mediaType"] == DOCKER_CONFIG
    assert "annotations" not in resp.json()
    assert sb.tag(unique_repo, "1.2.3", ["1.2", "1"]) == digest
    for tag in ("1.2", "1"):
        head = requests.head(f"{sb.url}/v2/{unique_repo}/manifests/{tag}",
                             headers={"Accept": ACCEPT}, timeout=10)
        assert head.headers["Docker-Content-Digest"] == digest
    tags = requests.get(f"{sb.url}/v2/{unique_repo}/tags/list", timeout=10).json()["tags"]
    assert sorted(tags) == ["1", "1.2", "1.2.3"]


def test_push_blob_roundtrip_and_manifest(registry_open: Sandbox, unique_repo: str) -> None:
    sb = registry_open
    data = b"some bytes \x00\xff"
    digest = sb.push_blob(unique_repo, data)
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert requests.get(f"{sb.url}/v2/{unique_repo}/blobs/{digest}", timeout=10).content == data
    config = b'{"architecture":"amd64","os":"linux"}'
    body = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sb.push_blob(unique_repo, config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest, "size": len(data)}],
    }).encode()
    assert sb.push_manifest(unique_repo, "raw", body, OCI_MANIFEST) == sha256_digest(body)
    got = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/raw",
                       headers={"Accept": ACCEPT}, timeout=10)
    assert got.content == body


def test_concurrent_push(registry_open: Sandbox, unique_repo: str) -> None:
    sb = registry_open
    calls = [
        (lambda i=i: sb.push_multiarch(unique_repo, [f"1.{i}.0"], created=f"2024-01-{i + 1:02d}"))
        for i in range(12)
    ]
    digests = sb.pusher.run_parallel(calls, workers=6)
    assert len(set(digests)) == 12
    tags = requests.get(f"{sb.url}/v2/{unique_repo}/tags/list", timeout=10).json()["tags"]
    assert sorted(tags) == sorted(f"1.{i}.0" for i in range(12))


# -- multi-arch -----------------------------------------------------------------------------


@pytest.mark.parametrize("media", ["oci", "docker"])
def test_multiarch_index_with_attestations(
    registry_open: Sandbox, unique_repo: str, media: str
) -> None:
    sb = registry_open
    digest = sb.push_multiarch(unique_repo, ["3.0.0", "3"], created=CREATED, media=media,
                               index_annotations={"org.opencontainers.image.created": CREATED})
    resp = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/3", headers={"Accept": ACCEPT},
                        timeout=10)
    assert sha256_digest(resp.content) == digest
    index = resp.json()
    assert resp.headers["Content-Type"] == (OCI_INDEX if media == "oci" else DOCKER_LIST)
    assert ("annotations" in index) == (media == "oci")
    entries = index["manifests"]
    platforms = [(e["platform"]["os"], e["platform"]["architecture"], e["platform"].get("variant"))
                 for e in entries]
    assert platforms == [("linux", "amd64", None), ("linux", "arm64", "v8"),
                         ("unknown", "unknown", None), ("unknown", "unknown", None)]
    images, attestations = entries[:2], entries[2:]
    for image, att in zip(images, attestations, strict=True):
        assert att["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
        assert att["annotations"]["vnd.docker.reference.digest"] == image["digest"]
    for entry in entries:
        child = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/{entry['digest']}",
                             headers={"Accept": ACCEPT}, timeout=10)
        assert child.status_code == 200
        assert sha256_digest(child.content) == entry["digest"]
        assert len(child.content) == entry["size"]
        assert child.headers["Content-Type"] == entry["mediaType"]
    arm = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/{images[1]['digest']}",
                       headers={"Accept": ACCEPT}, timeout=10).json()
    config = requests.get(f"{sb.url}/v2/{unique_repo}/blobs/{arm['config']['digest']}",
                          timeout=10).json()
    assert (config["architecture"], config["variant"], config["created"]) == ("arm64", "v8",
                                                                               CREATED)


def test_index_without_attestations_from_explicit_children(
    registry_open: Sandbox, unique_repo: str
) -> None:
    sb = registry_open
    amd = sb.push_image(unique_repo, [], created=CREATED)
    s390 = sb.push_image(unique_repo, [], created=CREATED, architecture="s390x")
    children = [
        (amd, {"os": "linux", "architecture": "amd64"}, sb.pusher.manifests[amd][1]),
        (s390, {"os": "linux", "architecture": "s390x"}, sb.pusher.manifests[s390][1]),
    ]
    digest = sb.push_index(unique_repo, "multi", children, attestations=False)
    index = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/{digest}",
                         headers={"Accept": ACCEPT}, timeout=10).json()
    assert [e["digest"] for e in index["manifests"]] == [amd, s390]


@needs_skopeo
def test_skopeo_reads_multiarch(registry_open: Sandbox, unique_repo: str) -> None:
    sb = registry_open
    digest = sb.push_multiarch(unique_repo, "4.0", created=CREATED)
    raw = skopeo("inspect", "--raw", f"docker://{sb.ref(unique_repo)}:4.0")
    assert raw.returncode == 0, raw.stderr
    assert sha256_digest(raw.stdout.encode()) == digest
    info = skopeo("inspect", "--override-arch", "arm64", "--override-variant", "v8",
                  f"docker://{sb.ref(unique_repo)}:4.0")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["Architecture"] == "arm64"
    assert json.loads(info.stdout)["Created"] == CREATED


# -- htpasswd -------------------------------------------------------------------------------


def test_htpasswd_requires_basic(registry_htpasswd: Sandbox, unique_repo: str) -> None:
    sb = registry_htpasswd
    assert set(sb.users) == {"alice"}
    sb.push_image(unique_repo, "1", created=CREATED)
    url = f"{sb.url}/v2/{unique_repo}/tags/list"
    anon = requests.get(url, timeout=10)
    assert anon.status_code == 401
    assert anon.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert requests.get(url, auth=("alice", "wrong"), timeout=10).status_code == 401
    ok = requests.get(url, auth=alice(sb), timeout=10)
    assert ok.status_code == 200
    assert ok.json()["tags"] == ["1"]


@needs_skopeo
def test_htpasswd_with_skopeo(registry_htpasswd: Sandbox, unique_repo: str) -> None:
    sb = registry_htpasswd
    sb.push_image(unique_repo, "1", created=CREATED)
    target = f"docker://{sb.ref(unique_repo)}"
    assert skopeo("list-tags", target).returncode != 0
    ok = skopeo("list-tags", "--creds", ":".join(alice(sb)), target)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Tags"] == ["1"]


# -- token ----------------------------------------------------------------------------------


def test_token_challenge_points_at_other_host(registry_token: Sandbox, unique_repo: str) -> None:
    sb = registry_token
    sb.push_image(unique_repo, "1", created=CREATED)
    resp = requests.get(f"{sb.url}/v2/{unique_repo}/tags/list", timeout=10)
    assert resp.status_code == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="http://127.0.0.2:{sb.token_server.port}/token"')
    assert 'service="regframe-sandbox-registry"' in challenge
    assert f'scope="repository:{unique_repo}:pull"' in challenge


def test_token_anonymous_pull_on_public(token_server: TokenServer, registry_token: Sandbox,
                                        unique_repo: str) -> None:
    sb = registry_token
    sb.push_image(unique_repo, ["1", "2"], created=CREATED)
    assert token_server.requests == []  # pushing never talks to the token server
    token = bearer(sb, f"repository:{unique_repo}:pull,push")
    claims = jwt_claims(token)
    assert claims["access"] == [{"type": "repository", "name": unique_repo, "actions": ["pull"]}]
    resp = requests.get(f"{sb.url}/v2/{unique_repo}/tags/list",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 200
    assert sorted(resp.json()["tags"]) == ["1", "2"]
    assert len(token_server.requests) == 1
    assert token_server.requests[0].header("Authorization") is None


def test_token_is_a_valid_es256_jwt(token_server: TokenServer, registry_token: Sandbox) -> None:
    token = bearer(registry_token, "repository:x/y:pull")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    claims = jwt.decode(token, key, algorithms=["ES256"],
                        audience="regframe-sandbox-registry", issuer=token_server.issuer)
    assert {"iss", "aud", "exp", "nbf", "iat", "jti", "access"} <= set(claims)


def test_token_private_repo_needs_basic_at_realm(token_server: TokenServer,
                                                 registry_token: Sandbox) -> None:
    sb = registry_token
    repo = "private/app"
    sb.push_image(repo, "1", created=CREATED)
    url = f"{sb.url}/v2/{repo}/tags/list"
    anon = bearer(sb, f"repository:{repo}:pull")
    assert jwt_claims(anon)["access"] == []
    denied = requests.get(url, headers={"Authorization": f"Bearer {anon}"}, timeout=10)
    assert denied.status_code == 401
    assert 'error="insufficient_scope"' in denied.headers["WWW-Authenticate"]
    wrong = requests.get(token_server.realm, params={"scope": f"repository:{repo}:pull"},
                         auth=("alice", "nope"), timeout=10)
    assert wrong.status_code == 401
    good = bearer(sb, f"repository:{repo}:pull", auth=alice(sb))
    ok = requests.get(url, headers={"Authorization": f"Bearer {good}"}, timeout=10)
    assert ok.status_code == 200
    assert ok.json()["tags"] == ["1"]
    with_basic = [r for r in token_server.requests if r.header("Authorization")]
    assert len(with_basic) == 2
    assert all(str(r.header("Authorization")).startswith("Basic ") for r in with_basic)


def test_pusher_token_bypasses_token_server(token_server: TokenServer,
                                            registry_token: Sandbox) -> None:
    registry_token.push_multiarch("private/multi", "1", created=CREATED)
    registry_token.tag("private/multi", "1", "stable")
    assert token_server.requests == []


@needs_skopeo
def test_token_with_skopeo(token_server: TokenServer, registry_token: Sandbox,
                           unique_repo: str) -> None:
    sb = registry_token
    sb.push_image(unique_repo, "1", created=CREATED)
    sb.push_image("private/skopeo", "1", created=CREATED)
    public = skopeo("list-tags", f"docker://{sb.ref(unique_repo)}")
    assert public.returncode == 0, public.stderr
    assert json.loads(public.stdout)["Tags"] == ["1"]
    assert skopeo("list-tags", f"docker://{sb.ref('private/skopeo')}").returncode != 0
    private = skopeo("inspect", "--creds", ":".join(alice(sb)),
                     f"docker://{sb.ref('private/skopeo')}:1")
    assert private.returncode == 0, private.stderr
    assert json.loads(private.stdout)["Created"] == CREATED
    assert any(r.header("Authorization") for r in token_server.requests)


# -- token knobs ----------------------------------------------------------------------------


def _token_answer(server: TokenServer) -> requests.Response:
    return requests.get(server.realm, params={"service": server.service,
                                              "scope": "repository:k/n:pull"}, timeout=10)


@pytest.mark.parametrize(("field", "members"), [
    ("token", {"token"}), ("access_token", {"access_token"}), ("both", {"token", "access_token"}),
])
def test_knob_field(token_server: TokenServer, field: str, members: set[str]) -> None:
    token_server.field = field  # type: ignore[assignment]
    body = _token_answer(token_server).json()
    assert {"token", "access_token"} & set(body) == members


@pytest.mark.parametrize("expires_in", [None, 75, 3600])
def test_knob_expires_in(token_server: TokenServer, expires_in: int | None) -> None:
    token_server.expires_in = expires_in
    body = _token_answer(token_server).json()
    claims = jwt_claims(body["token"])
    if expires_in is None:
        assert "expires_in" not in body
        assert claims["exp"] - claims["iat"] == 60
    else:
        assert body["expires_in"] == expires_in
        assert claims["exp"] - claims["iat"] == expires_in


def test_knob_issued_at(token_server: TokenServer) -> None:
    body = _token_answer(token_server).json()
    stamp = dt.datetime.fromisoformat(body["issued_at"].replace("Z", "+00:00"))
    assert abs(stamp.timestamp() - jwt_claims(body["token"])["iat"]) <= 1
    token_server.issued_at = False
    assert "issued_at" not in _token_answer(token_server).json()


def test_knob_faults(token_server: TokenServer) -> None:
    token_server.fault = "500"
    assert _token_answer(token_server).status_code == 500
    token_server.fault = "garbage"
    garbage = _token_answer(token_server)
    with pytest.raises(UnicodeDecodeError):
        json.loads(garbage.content)
    token_server.fault = "html"
    html = _token_answer(token_server)
    assert html.headers["Content-Type"].startswith("text/html")
    token_server.fault = "oversized"
    big = _token_answer(token_server)
    assert big.status_code == 200
    assert len(big.content) > 1024 * 1024
    token_server.fault = None
    assert "token" in _token_answer(token_server).json()
    assert len(token_server.requests) == 5


# -- redirect -------------------------------------------------------------------------------


def test_redirect_blob_get_goes_to_cdn_without_authorization(registry_redirect: Sandbox,
                                                             unique_repo: str) -> None:
    sb = registry_redirect
    layer = b"\x1f\x8b not really gzip but bytes all the same"
    digest = sb.push_image(unique_repo, "1", created=CREATED, layers=[layer])
    token = bearer(sb, f"repository:{unique_repo}:pull")
    auth = {"Authorization": f"Bearer {token}"}
    manifest = requests.get(f"{sb.url}/v2/{unique_repo}/manifests/{digest}",
                            headers={**auth, "Accept": ACCEPT}, timeout=10).json()
    layer_digest = manifest["layers"][0]["digest"]
    blob_url = f"{sb.url}/v2/{unique_repo}/blobs/{layer_digest}"
    first = requests.get(blob_url, headers=auth, allow_redirects=False, timeout=10)
    assert first.status_code == 307
    location = first.headers["Location"]
    assert location.startswith(sb.cdn.base_url)
    sb.cdn.requests.clear()
    followed = requests.get(blob_url, headers=auth, timeout=10)  # requests drops auth cross-host
    assert followed.status_code == 200
    assert followed.content == layer
    assert [r.path for r in sb.cdn.requests] == [location.removeprefix(sb.cdn.base_url[:-1])]
    assert all(r.header("Authorization") is None for r in sb.cdn.requests)
    leaked = requests.get(location, headers=auth, timeout=10)  # a leaky client is visible
    assert leaked.content == layer
    assert sb.cdn.requests[-1].header("Authorization") == f"Bearer {token}"
    missing = requests.get(sb.cdn.base_url + "../../etc/passwd", timeout=10)
    assert missing.status_code == 404


# -- TLS and lifecycle ----------------------------------------------------------------------


def test_tls_registry_uses_its_ca(registry_tls: Sandbox, unique_repo: str) -> None:
    sb = registry_tls
    assert sb.url.startswith("https://127.0.0.1:")
    assert sb.ca_path is not None
    sb.push_image(unique_repo, "1", created=CREATED)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{sb.url}/v2/", timeout=10)
    resp = requests.get(f"{sb.url}/v2/{unique_repo}/tags/list", verify=sb.ca_path, timeout=10)
    assert resp.status_code == 401
    assert 'realm="http://127.0.0.2:' in resp.headers["WWW-Authenticate"]


def test_stop_cleans_up(tmp_path: Path) -> None:
    sb = Sandbox(workdir=tmp_path)
    with sb:
        url = sb.url
        assert sb.running
        assert any(tmp_path.iterdir())
        assert requests.get(f"{url}/v2/", timeout=10).status_code == 200
        assert isinstance(sb.pusher, Pusher)
    assert not sb.running
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/v2/", timeout=2)
    sb.stop()  # idempotent
