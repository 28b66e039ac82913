"""read_tags against the REAL CNCF registry (Debian docker-registry) started by the fixtures.

Covers the auth modes people meet in the wild: anonymous, Basic (htpasswd),
Bearer with the realm on another host (the docker.elastic.co shape), private
repositories whose credentials come from a docker config.json and from a
credential-helper executable, and blob redirects to a second host.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from tests.conftest import ALICE_PASSWORD

COLUMNS = [
    "tag",
    "release",
    "major",
    "minor",
    "patch",
    "prerelease",
    "variant",
    "scheme",
    "is_prerelease",
    "prefix",
    "build",
]




def write_docker_config(home: Path, doc: dict) -> Path:
    d = home / ".docker"
    d.mkdir(exist_ok=True)
    p = d / "config.json"
    p.write_text(json.dumps(doc))
    return p


def test_open_registry_lists_every_tag_in_version_order(registry_open, unique_repo):
    tags = ["1.9.0", "1.10.0", "1.10.0-alpine", "2.0.0rc1", "2.0.0", "latest", "v0.1"]
    registry_open.pusher.push_image(unique_repo, tags, created="2024-01-01T00:00:00Z")
    df = rf.read_tags(registry_open.ref(unique_repo) + ":ignored-tag")
    assert list(df.columns) == COLUMNS
    assert list(df.tag) == [
        "v0.1",
        "1.9.0",
        "1.10.0",
        "1.10.0-alpine",
        "2.0.0rc1",
        "2.0.0",
        "latest",
    ]
    assert df.attrs["repository"] == unique_repo
    assert df.attrs["registry"] == registry_open.host
    assert df.attrs["reference"].startswith(registry_open.host + "/" + unique_repo)
    assert isinstance(df.attrs["fetched_at"], pd.Timestamp)
    assert df.loc[df.tag == "2.0.0rc1", "prerelease"].item() == "rc1"
    assert str(df.major.dtype) == "Int64"


def test_missing_repository_is_not_found(registry_open):
    with pytest.raises(rf.NotFoundError) as info:
        rf.read_tags(registry_open.ref("no/such-repo"))
    assert "NAME_UNKNOWN" in info.value.codes


def test_htpasswd_without_credentials_says_how(registry_htpasswd, unique_repo):
    registry_htpasswd.pusher.push_image(unique_repo, ["1.0"], created=None)
    with pytest.raises(rf.AuthenticationError) as info:
        rf.read_tags(registry_htpasswd.ref(unique_repo))
    msg = str(info.value)
    assert registry_htpasswd.host in msg and "auth=" in msg and "docker login" in msg


def test_htpasswd_with_explicit_credentials(registry_htpasswd, unique_repo):
    registry_htpasswd.pusher.push_image(unique_repo, ["1.0", "1.1"], created=None)
    df = rf.read_tags(registry_htpasswd.ref(unique_repo), auth=("alice", ALICE_PASSWORD))
    assert list(df.tag) == ["1.0", "1.1"]


def test_htpasswd_wrong_password_never_leaks_it(registry_htpasswd, unique_repo):
    registry_htpasswd.pusher.push_image(unique_repo, ["1.0"], created=None)
    with pytest.raises(rf.AuthenticationError) as info:
        rf.read_tags(registry_htpasswd.ref(unique_repo), auth=("alice", "not-the-password-xyz"))
    assert "not-the-password-xyz" not in str(info.value)
    assert "not-the-password-xyz" not in repr(info.value)


def test_htpasswd_credentials_from_docker_config(
    registry_htpasswd, unique_repo, isolated_env
):
    registry_htpasswd.pusher.push_image(unique_repo, ["3.0"], created=None)
    token = base64.b64encode(f"alice:{ALICE_PASSWORD}".encode()).decode()
    write_docker_config(isolated_env, {"auths": {registry_htpasswd.host: {"auth": token}}})
    df = rf.read_tags(registry_htpasswd.ref(unique_repo))
    assert list(df.tag) == ["3.0"]


def test_token_realm_on_another_host_anonymous(registry_token, token_server, unique_repo):
    registry_token.pusher.push_image(
        unique_repo, ["8.15.0", "8.15.1", "8.16.0-SNAPSHOT"], created=None
    )
    df = rf.read_tags(registry_token.ref(unique_repo))
    assert sorted(df.tag) == ["8.15.0", "8.15.1", "8.16.0-SNAPSHOT"]
    assert len(token_server.requests) == 1
    req = token_server.requests[0]
    assert req.query["scope"] == f"repository:{unique_repo}:pull"
    assert req.query["service"]
    assert req.header("Authorization") is None  # nothing to send: anonymous


def test_token_access_token_field_only(registry_token, token_server, unique_repo):
    registry_token.pusher.push_image(unique_repo, ["1.0"], created=None)
    token_server.field = "access_token"
    assert list(rf.read_tags(registry_token.ref(unique_repo)).tag) == ["1.0"]


def test_private_repo_anonymously_is_not_found_or_unauthorized(registry_token, token_server):
    registry_token.pusher.push_image("private/secret", ["1.0"], created=None)
    with pytest.raises(rf.NotFoundOrUnauthorizedError) as info:
        rf.read_tags(registry_token.ref("private/secret"))
    assert isinstance(info.value, rf.NotFoundError)
    assert isinstance(info.value, rf.AuthenticationError)
    assert "not found or not authorized" in str(info.value)


def test_private_repo_with_config_json_sends_basic_only_to_realm(
    registry_token, token_server, isolated_env
):
    registry_token.pusher.push_image("private/cfg", ["2.0", "2.1"], created=None)
    token = base64.b64encode(f"alice:{ALICE_PASSWORD}".encode()).decode()
    write_docker_config(isolated_env, {"auths": {registry_token.host: {"auth": token}}})
    df = rf.read_tags(registry_token.ref("private/cfg"))
    assert list(df.tag) == ["2.0", "2.1"]
    sent = [r.header("Authorization") for r in token_server.requests]
    assert sent and all(s == f"Basic {token}" for s in sent)


def test_private_repo_with_credential_helper(
    registry_token, token_server, isolated_env, tmp_path, monkeypatch
):
    registry_token.pusher.push_image("private/helper", ["5.0"], created=None)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "helper.log"
    helper = bindir / "docker-credential-rftest"
    helper.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        host = sys.stdin.read().strip()
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps({{"argv": sys.argv[1:], "host": host}}) + "\\n")
        if host != {registry_token.host!r}:
            print("credentials not found in native keychain"); sys.exit(1)
        print(json.dumps({{"ServerURL": host, "Username": "alice", "Secret": {ALICE_PASSWORD!r}}}))
        """)
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    write_docker_config(isolated_env, {"credHelpers": {registry_token.host: "rftest"}})
    df = rf.read_tags(registry_token.ref("private/helper"))
    assert list(df.tag) == ["5.0"]
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [{"argv": ["get"], "host": registry_token.host}]
    assert (
        token_server.requests[-1]
        .header(
            "Authorization",
        )
        .startswith("Basic ")
    )


def test_wrong_credentials_at_realm(registry_token, token_server, unique_repo):
    registry_token.pusher.push_image(unique_repo, ["1.0"], created=None)
    with pytest.raises(rf.AuthenticationError, match="rejected") as info:
        rf.read_tags(registry_token.ref(unique_repo), auth=("alice", "wrong-pw-123"))
    assert "wrong-pw-123" not in str(info.value)


def test_credentials_not_requested_from_helpers_for_open_registry(
    registry_open, unique_repo, isolated_env
):
    registry_open.pusher.push_image(unique_repo, ["1.0"], created=None)
    # A helper that does not exist would fail loudly if it were ever run.
    write_docker_config(isolated_env, {"credsStore": "does-not-exist-anywhere"})
    assert list(rf.read_tags(registry_open.ref(unique_repo)).tag) == ["1.0"]


def test_blob_redirect_carries_no_authorization(registry_redirect, unique_repo):
    registry_redirect.pusher.push_multiarch(
        unique_repo, ["1.0.0", "1.0"], created="2024-03-04T05:06:07Z"
    )
    registry_redirect.cdn.requests.clear()
    df = rf.read_tags(registry_redirect.ref(unique_repo), dates=True, cache=False)
    assert df.error.isna().all()
    assert (df.created == pd.Timestamp("2024-03-04T05:06:07Z")).all()
    assert len(registry_redirect.cdn.requests) >= 1  # the config blob really came from 127.0.0.3
    assert all(r.header("Authorization") is None for r in registry_redirect.cdn.requests)


def test_bad_reference_fails_before_any_request(registry_token, token_server):
    for bad in ["", "UPPER/case", "a//b", f"{registry_token.host}/-x", "x@sha256:abc"]:
        with pytest.raises(rf.InvalidReferenceError):
            rf.read_tags(bad)
    assert token_server.requests == []


def test_tag_list_matches_skopeo(registry_token, unique_repo):
    """skopeo (a real peer client, Debian package) sees exactly the tags regframe lists."""
    import shutil
    import subprocess

    assert shutil.which("skopeo"), "skopeo is installed by scripts/setup.sh"
    tags = [f"{m}.{n}.0" for m in range(3) for n in range(4)] + ["latest", "edge", "2.3.0-alpine"]
    registry_token.pusher.push_image(unique_repo, tags, created=None)
    out = subprocess.run(
        ["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry_token.ref(unique_repo)}"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert sorted(rf.read_tags(registry_token.ref(unique_repo)).tag) == sorted(json.loads(out.stdout)["Tags"])
