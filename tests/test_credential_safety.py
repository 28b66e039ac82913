"""Where credentials and tokens may go — and where they must never appear.

Real registries (``registry_tls``, ``registry_token``) where they can show the
behaviour; SCRIPTED hosts on 127.0.0.1/.2/.3 where a real registry cannot: a
realm with userinfo, multi-hop cross-host redirects, and a redirect target
that challenges on its own.  Every scripted host records every request, so
"nothing was sent" is checked on the receiving side.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from test_hostile import GOOD, ScriptedRegistry

import regframe as rf
import regframe.client.auth as auth_mod
from regframe.client.credentials import Credentials
from regframe.errors import MetadataWarning
from regframe.testing.fault_proxy import FaultProxy
from regframe.testing.sandbox import Sandbox
from tests.conftest import ALICE_PASSWORD
from tests.scripted import Response, ScriptedServer, json_response, registry_error

BASIC = "Basic " + base64.b64encode(f"alice:{ALICE_PASSWORD}".encode()).decode()




@pytest.fixture
def issued_tokens(monkeypatch) -> list[str]:
    """Every token value regframe obtained during the test."""
    seen: list[str] = []
    original = auth_mod.Authenticator._fetch_token

    def spy(self, scope, ch):
        token = original(self, scope, ch)
        seen.append(token.value)
        return token

    monkeypatch.setattr(auth_mod.Authenticator, "_fetch_token", spy)
    return seen


def _port(sandbox: Sandbox) -> int:
    return int(sandbox.host.rsplit(":", 1)[1])


# -- realms -----------------------------------------------------------------------------


def test_https_registry_with_plain_http_realm_gets_no_credentials(registry_tls, monkeypatch):
    """The real TLS sandbox: its realm is plain http on 127.0.0.2."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(registry_tls.ca_path))
    registry_tls.pusher.push_image("private/tls-app", ["1.0"], created=None)
    server = registry_tls.token_server
    server.requests.clear()
    with pytest.raises(rf.AuthenticationError, match="plain http") as info:
        rf.read_tags(registry_tls.ref("private/tls-app"), auth=("alice", ALICE_PASSWORD))
    assert server.requests == []  # refused before anything was sent
    assert ALICE_PASSWORD not in str(info.value)


def test_session_ca_bundle_is_honoured(registry_tls):
    """``session=`` is documented for CA bundles; its ``verify`` must reach the TLS handshake."""
    registry_tls.pusher.push_image("pub/tls-session", ["1.0"], created=None)
    session = requests.Session()
    session.verify = str(registry_tls.ca_path)
    # Getting as far as the realm check proves the handshake used the bundle.
    with pytest.raises(rf.AuthenticationError, match="plain http"):
        rf.read_tags(registry_tls.ref("pub/tls-session"), session=session)


@pytest.fixture
def token_host() -> Iterator[ScriptedServer]:
    with ScriptedServer(host="127.0.0.2") as server:
        server.route("GET", r"/token", lambda req: json_response({"token": "scripted-token-1"}))
        yield server


@pytest.fixture
def reg() -> Iterator[ScriptedRegistry]:
    with ScriptedServer() as server:
        yield ScriptedRegistry(server)


def _bearer_ping(realm: str) -> Any:
    value = f'Bearer realm="{realm}",service="svc"'
    return lambda req: registry_error(
        401, "UNAUTHORIZED", "auth required", headers={"WWW-Authenticate": value}
    )


def test_realm_with_userinfo_gets_nothing(reg, token_host):
    reg.ping = _bearer_ping(f"http://scripted-user:realm-secret-9@{token_host.host}/token")
    reg.image(["1.0"], GOOD)
    with pytest.raises(rf.AuthenticationError, match="userinfo") as info:
        rf.read_tags(reg.ref, auth=("alice", ALICE_PASSWORD))
    assert token_host.requests == []
    assert "realm-secret-9" not in str(info.value) and ALICE_PASSWORD not in str(info.value)


# -- redirects --------------------------------------------------------------------------


@pytest.fixture
def hops() -> Iterator[tuple[ScriptedServer, ScriptedServer]]:
    with ScriptedServer(host="127.0.0.2") as two, ScriptedServer(host="127.0.0.3") as three:
        yield two, three


def test_multi_hop_redirect_never_carries_authorization(reg, hops):
    """Basic-auth registry; config blobs go 127.0.0.1 → .2 → .3 → back to .1 (a CDN path)."""
    two, three = hops
    reg.ping = lambda req: registry_error(
        401, "UNAUTHORIZED", "auth", headers={"WWW-Authenticate": 'Basic realm="scripted"'}
    )
    reg.gate = lambda req: (
        None
        if req.headers.get("Authorization") == BASIC
        else registry_error(
            401, "UNAUTHORIZED", "auth", headers={"WWW-Authenticate": 'Basic realm="scripted"'}
        )
    )
    digest = reg.image(["1.0"], GOOD)
    config = json.loads(reg.manifests[digest][0])["config"]["digest"]
    origin = reg.server
    reg.special[config] = lambda req: Response(307, headers={"Location": f"{two.url}/a/{config}"})
    two.route(
        "GET",
        r"/a/(.+)",
        lambda req: Response(302, headers={"Location": f"{three.url}/b/{config}"}),
    )
    three.route(
        "GET",
        r"/b/(.+)",
        lambda req: Response(307, headers={"Location": f"{origin.url}/cdn/{config}"}),
    )
    origin.route("GET", r"/cdn/(.+)", lambda req: Response(200, reg.blobs[config]))

    df = rf.read_tags(
        reg.ref, dates=True, cache=False, auth=("alice", ALICE_PASSWORD)
    )
    assert df["error"].isna().all()
    assert df.loc[0, "created"] == pd.Timestamp(GOOD)
    assert [r.path for r in two.requests] == [f"/a/{config}"]
    assert [r.path for r in three.requests] == [f"/b/{config}"]
    cdn = [r for r in origin.requests if r.path.startswith("/cdn/")]
    assert len(cdn) == 1
    for r in [*two.requests, *three.requests, *cdn]:
        assert "Authorization" not in r.headers, r.path
    # ... while the registry's own requests did carry it.
    assert any(r.headers.get("Authorization") == BASIC for r in origin.requests)


def test_redirect_target_challenge_never_gets_the_registry_token(reg, hops, issued_tokens):
    two, three = hops
    tokens = iter(f"registry-token-{i}" for i in range(100))
    two.route("GET", r"/token", lambda req: json_response({"token": next(tokens)}))
    reg.ping = _bearer_ping(f"{two.url}/token")
    reg.gate = lambda req: (
        None
        if req.headers.get("Authorization", "").startswith("Bearer registry-token-")
        else _bearer_ping(f"{two.url}/token")(req)
    )
    digest = reg.image(["1.0"], GOOD)
    config = json.loads(reg.manifests[digest][0])["config"]["digest"]
    reg.special[config] = lambda req: Response(307, headers={"Location": f"{three.url}/blob"})
    three.route("GET", r"/blob", _bearer_ping(f"{three.url}/token"))
    three.route("GET", r"/token", lambda req: json_response({"token": "cdn-token"}))

    with pytest.warns(MetadataWarning):
        df = rf.read_tags(reg.ref, dates=True, cache=False)
    assert "redirect target" in df.loc[0, "error"]
    assert issued_tokens and all(t.startswith("registry-token-") for t in issued_tokens)
    assert [r.path for r in three.requests] == ["/blob"]  # its own realm was never asked
    assert "Authorization" not in three.requests[0].headers
    assert all(r.path == "/token" and "Authorization" not in r.headers for r in two.requests)


# -- the registry itself in token mode ---------------------------------------------------


class RecordingProxy(FaultProxy):
    """A fault-free FaultProxy that keeps every request head it relays (test-only subclass)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream)
        self.heads: list[bytes] = []

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Any:
        request = await super()._read_request(reader, writer)
        if request is not None:
            self.heads.append(request.head)
        return request


def test_basic_credentials_never_reach_a_token_mode_registry(
    registry_token, token_server, plain_http_only
):
    registry_token.pusher.push_image("private/proxied", ["1.0", "2.0"], created=GOOD)
    with RecordingProxy(("127.0.0.1", _port(registry_token))) as proxy:
        df = rf.read_tags(
            f"{proxy.netloc}/private/proxied",
            dates=True,
            cache=False,
            auth=("alice", ALICE_PASSWORD),
        )
        heads = [h.decode("latin-1").lower() for h in proxy.heads]
    assert df["error"].isna().all()
    auth_lines = [
        line for h in heads for line in h.splitlines() if line.startswith("authorization:")
    ]
    assert len(heads) >= 5
    assert auth_lines and all(line.startswith("authorization: bearer ") for line in auth_lines)
    assert not any("basic" in line for line in auth_lines)
    assert all(r.header("Authorization") == BASIC for r in token_server.requests)


# -- secrets never shown ------------------------------------------------------------------


def _secrets(tokens: list[str]) -> list[str]:
    out = [ALICE_PASSWORD, base64.b64encode(f"alice:{ALICE_PASSWORD}".encode()).decode()]
    for token in tokens:
        out.append(token)
        out.append(token.rsplit(".", 1)[-1])  # a JWT's signature alone is as good as the token
    return out


def _everything_said(exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(exc)), repr(exc), repr(exc.args)]
    parts += [repr(getattr(exc, name, None)) for name in ("url", "errors", "status_code")]
    return "\n".join(parts)


def test_secrets_never_in_logs_frames_or_reprs(registry_token, token_server, issued_tokens, caplog):
    registry_token.pusher.push_multiarch("private/quiet", ["1.0", "latest"], created=GOOD)
    caplog.set_level(logging.DEBUG)  # every logger: regframe, urllib3, requests
    df = rf.read_tags(
        registry_token.ref("private/quiet"), dates=True, cache=False, auth=("alice", ALICE_PASSWORD)
    )
    assert df["error"].isna().all()
    assert issued_tokens, "the run must have used a token for this test to mean anything"
    said = "\n".join(
        [caplog.text, df.to_csv(), repr(df), repr(df.attrs), rf.to_csv(df) or ""]
        + [repr(r.getMessage()) + repr(r.args) for r in caplog.records]
    )
    for secret in _secrets(issued_tokens):
        assert secret not in said


def test_secrets_never_in_the_digest_cache(registry_token, token_server, issued_tokens, tmp_path):
    registry_token.pusher.push_multiarch("private/quiet", ["1.0", "latest"], created=GOOD)
    cache = tmp_path / "cache"
    df = rf.read_tags(
        registry_token.ref("private/quiet"), dates=True, cache=cache, auth=("alice", ALICE_PASSWORD)
    )
    assert df["error"].isna().all()
    assert issued_tokens, "the run must have used a token for this test to mean anything"
    # Every byte the cache left on disk: the SQLite file and its WAL companions.
    stored = b"".join(p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file())
    assert df["digest"].iloc[0].encode() in stored  # the cache did store this read
    for secret in _secrets(issued_tokens):
        assert secret.encode() not in stored


def test_secrets_never_in_errors(registry_token, token_server, issued_tokens, caplog):
    caplog.set_level(logging.DEBUG)
    registry_token.pusher.push_image("private/err", ["1.0"], created=None)
    # Built at run time so the traceback's source lines cannot contain it.
    wrong = "-".join(["Wr0ng", "pass", "77"])
    with pytest.raises(rf.AuthenticationError) as info:
        rf.read_tags(registry_token.ref("private/err"), auth=("alice", wrong))
    said = _everything_said(info.value) + caplog.text
    assert wrong not in said
    assert base64.b64encode(f"alice:{wrong}".encode()).decode() not in said


def test_rejected_token_is_not_quoted(reg, token_host, issued_tokens, caplog):
    """Scripted: the registry refuses every token it is given (and the token server obliges)."""
    caplog.set_level(logging.DEBUG)
    reg.ping = _bearer_ping(f"{token_host.url}/token")
    reg.gate = _bearer_ping(f"{token_host.url}/token")
    reg.image(["1.0"], GOOD)
    with pytest.raises(rf.AuthenticationError) as info:
        rf.read_tags(reg.ref, auth=("alice", ALICE_PASSWORD))
    said = _everything_said(info.value) + caplog.text
    assert issued_tokens == ["scripted-token-1"] * len(issued_tokens) and issued_tokens
    for secret in _secrets(issued_tokens):
        assert secret not in said


def test_reprs_hide_secrets():
    creds = Credentials("alice", ALICE_PASSWORD, source="test")
    token = auth_mod._Token("tok-secret-value", 1.0)
    assert ALICE_PASSWORD not in repr(creds) and ALICE_PASSWORD not in str(creds)
    assert "tok-secret-value" not in repr(token)


# -- local configuration ----------------------------------------------------------------


def test_broken_config_json_names_the_file_not_its_content(
    registry_token, token_server, unique_repo, isolated_env
):
    registry_token.pusher.push_image(unique_repo, ["1.0"], created=None)
    config = Path(isolated_env) / ".docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('{"auths": {"x": {"auth": "c2VjcmV0LWluLWNvbmZpZw=="}')  # truncated JSON
    with pytest.raises(rf.AuthenticationError) as info:
        rf.read_tags(registry_token.ref(unique_repo))
    assert str(config) in str(info.value)
    assert "c2VjcmV0" not in _everything_said(info.value)


@pytest.mark.parametrize(
    "store",
    ["x;touch pwned", "$(touch pwned)", "`touch pwned`", "x && touch pwned", "x|touch pwned"],
)
def test_helper_names_are_never_given_to_a_shell(
    registry_token, token_server, unique_repo, isolated_env, tmp_path, monkeypatch, store
):
    """A helper whose *name* is shell syntax runs as that one file, arguments ``get`` only."""
    registry_token.pusher.push_image(unique_repo, ["1.0"], created=None)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "helper.log"
    helper = bindir / f"docker-credential-{store}"
    helper.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "print('credentials not found in native keychain'); sys.exit(1)\n"
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    config = Path(isolated_env) / ".docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"credsStore": store}))
    df = rf.read_tags(registry_token.ref(unique_repo))  # not found there: anonymous
    assert list(df.tag) == ["1.0"]
    assert [json.loads(line) for line in log.read_text().splitlines()] == [["get"]]
    assert not (tmp_path / "pwned").exists()
