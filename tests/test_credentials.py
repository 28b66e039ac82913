"""Default credentials: docker config.json, credential helpers, containers auth.json."""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import stat
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from regframe.client.credentials import (
    DOCKER_HUB_AUTH_KEY,
    Credentials,
    coerce_auth,
    find_credentials,
)
from regframe.errors import AuthenticationError, RegframeError

SECRET = "hunter2-Sup3rS3cret"
HUB = "registry-1.docker.io"


def b64(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


class Home:
    """A fake HOME with a PATH dir for helpers and an env mapping to pass around."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.bin = root / "bin"
        self.log = root / "helper-calls.jsonl"
        self.home.mkdir()
        self.bin.mkdir()
        # Helpers start with ``#!/usr/bin/env python3``; pointing that name straight at this
        # interpreter skips slow shims (pyenv) and keeps the tests fast.
        (self.bin / "python3").symlink_to(sys.executable)
        self.env: dict[str, str] = {
            "HOME": str(self.home),
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        }

    def write_json(self, path: Path, data: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        return path

    def docker_config(self, data: Any) -> Path:
        return self.write_json(self.home / ".docker" / "config.json", data)

    def helper(self, name: str, body: str) -> Path:
        """Write ``docker-credential-NAME``: it logs argv and stdin, then runs ``body``."""
        script = self.bin / f"docker-credential-{name}"
        script.write_text(
            "#!/usr/bin/env python3\n"
            "import json, sys, time\n"
            "data = sys.stdin.read()\n"
            f"with open({str(self.log)!r}, 'a') as f:\n"
            f"    f.write(json.dumps({{'helper': {name!r}, 'argv': sys.argv[1:], "
            "'stdin': data}) + '\\n')\n" + textwrap.dedent(body)
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return script

    def helper_answering(self, name: str, username: str, secret: str) -> Path:
        answer = json.dumps({"ServerURL": "x", "Username": username, "Secret": secret})
        return self.helper(name, f"print({answer!r})\n")

    def helper_not_found(self, name: str) -> Path:
        return self.helper(name, "print('credentials not found in native keychain')\nsys.exit(1)\n")

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def find(self, registry: str, **kwargs: Any) -> Credentials | None:
        return find_credentials(registry, env=self.env, **kwargs)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


# --- Credentials / coerce_auth ---------------------------------------------------------------


def test_credentials_never_show_password() -> None:
    creds = Credentials("alice", SECRET, source="test")
    for text in (
        repr(creds),
        str(creds),
        f"{creds}",
        f"{creds!r}",
        format(creds),
        str([creds]),
    ):
        assert SECRET not in text
        assert "alice" in text
    assert creds.as_tuple() == ("alice", SECRET)
    assert pickle.loads(pickle.dumps(creds)) == creds  # noqa: S301 (our own bytes)
    with pytest.raises(AttributeError):
        creds.password = "x"  # type: ignore[misc]


def test_coerce_auth() -> None:
    assert coerce_auth(None) is None
    creds = Credentials("u", SECRET)
    assert coerce_auth(creds) is creds
    from_tuple = coerce_auth(("u", SECRET))
    assert from_tuple == Credentials("u", SECRET, source="auth argument")
    assert coerce_auth(["u", SECRET]) == from_tuple  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", [f"u:{SECRET}", ("u",), ("u", SECRET, "x"), ("u", 1), {"u": SECRET}, 42]
)
def test_coerce_auth_rejects_without_echoing(bad: Any) -> None:
    with pytest.raises(TypeError, match="username, password") as info:
        coerce_auth(bad)
    assert SECRET not in str(info.value)


# --- config.json auths ----------------------------------------------------------------------------


def test_nothing_configured(home: Home) -> None:
    assert home.find("ghcr.io") is None
    assert home.find(HUB) is None


def test_auths_base64(home: Home) -> None:
    home.docker_config({"auths": {"ghcr.io": {"auth": b64("me", "pa:ss:word")}}})
    creds = home.find("ghcr.io")
    assert creds is not None
    assert creds.as_tuple() == ("me", "pa:ss:word")  # split on the first ':' only
    assert creds.source == f"{home.home / '.docker' / 'config.json'} auths[ghcr.io]"


def test_auths_username_password_fields(home: Home) -> None:
    home.docker_config({"auths": {"r.example": {"username": "u", "password": SECRET}}})
    creds = home.find("r.example")
    assert creds is not None
    assert creds.as_tuple() == ("u", SECRET)


@pytest.mark.parametrize(
    "key",
    [
        "localhost:5000",
        "https://localhost:5000",
        "https://localhost:5000/",
        "https://localhost:5000/v1/",
        "https://localhost:5000/v2/",
        "http://localhost:5000",
        "HTTPS://LOCALHOST:5000/v1/",
    ],
)
def test_auths_key_forms(home: Home, key: str) -> None:
    home.docker_config({"auths": {key: {"auth": b64("u", "p")}}})
    creds = home.find("localhost:5000")
    assert creds is not None
    assert creds.as_tuple() == ("u", "p")
    assert home.find("localhost:5001") is None


@pytest.mark.parametrize(
    "key",
    [
        DOCKER_HUB_AUTH_KEY,
        "https://index.docker.io/v1",
        "index.docker.io",
        "docker.io",
        "registry-1.docker.io",
        "https://registry-1.docker.io",
    ],
)
@pytest.mark.parametrize(
    "registry", [HUB, "docker.io", "index.docker.io", "Docker.IO", DOCKER_HUB_AUTH_KEY]
)
def test_docker_hub_key_forms(home: Home, key: str, registry: str) -> None:
    home.docker_config({"auths": {key: {"auth": b64("hubuser", "p")}}})
    creds = home.find(registry)
    assert creds is not None
    assert creds.username == "hubuser"
    assert home.find("ghcr.io") is None


def test_docker_hub_exact_key_preferred(home: Home) -> None:
    home.docker_config(
        {
            "auths": {
                "docker.io": {"auth": b64("second", "p")},
                DOCKER_HUB_AUTH_KEY: {"auth": b64("first", "p")},
            }
        }
    )
    creds = home.find(HUB)
    assert creds is not None
    assert creds.username == "first"


@pytest.mark.parametrize(
    "key", ["ghcr.io.evil.com", "evil.com", "https://evil.com/ghcr.io", "xghcr.io", "ghcr.io/org"]
)
def test_other_hosts_do_not_match(home: Home, key: str) -> None:
    home.docker_config({"auths": {key: {"auth": b64("u", "p")}}})
    assert home.find("ghcr.io") is None


def test_empty_entry_and_empty_file(home: Home) -> None:
    home.docker_config({"auths": {"ghcr.io": {}}, "credsStore": ""})
    assert home.find("ghcr.io") is None
    home.docker_config("")
    assert home.find("ghcr.io") is None


def test_docker_config_env_overrides_home(home: Home) -> None:
    home.docker_config({"auths": {"ghcr.io": {"auth": b64("from-home", "p")}}})
    other = home.root / "elsewhere"
    home.write_json(other / "config.json", {"auths": {"ghcr.io": {"auth": b64("from-env", "p")}}})
    home.env["DOCKER_CONFIG"] = str(other)
    creds = home.find("ghcr.io")
    assert creds is not None
    assert creds.username == "from-env"


def test_monkeypatched_home_with_default_env(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home.home))
    home.docker_config({"auths": {"ghcr.io": {"auth": b64("patched", "p")}}})
    creds = find_credentials("ghcr.io")
    assert creds is not None
    assert creds.username == "patched"


# --- credential helpers ---------------------------------------------------------------------------


def test_cred_helper_protocol(home: Home) -> None:
    home.helper_answering("fake", "helperuser", SECRET)
    path = home.docker_config({"credHelpers": {"ghcr.io": "fake"}})
    creds = home.find("ghcr.io")
    assert creds is not None
    assert creds.as_tuple() == ("helperuser", SECRET)
    assert creds.source == f"{path} credHelpers[docker-credential-fake]"
    assert home.calls() == [{"helper": "fake", "argv": ["get"], "stdin": "ghcr.io"}]


def test_cred_helper_gets_docker_hub_server_url(home: Home) -> None:
    home.helper_answering("hub", "u", "p")
    home.docker_config({"credHelpers": {"docker.io": "hub"}})
    assert home.find(HUB) is not None
    assert [c["stdin"] for c in home.calls()] == [DOCKER_HUB_AUTH_KEY]


def test_precedence_helper_then_store_then_auths(home: Home) -> None:
    home.helper_answering("specific", "from-helper", "p")
    home.helper_answering("store", "from-store", "p")
    config = {
        "credHelpers": {"ghcr.io": "specific"},
        "credsStore": "store",
        "auths": {"ghcr.io": {"auth": b64("from-auths", "p")}},
    }
    path = home.docker_config(config)
    assert home.find("ghcr.io") == Credentials(
        "from-helper", "p", source=f"{path} credHelpers[docker-credential-specific]"
    )
    # Another host: no credHelpers entry, so the store answers.
    found = home.find("quay.io")
    assert found is not None
    assert found.username == "from-store"
    assert found.source == f"{path} credsStore[docker-credential-store]"
    assert [c["helper"] for c in home.calls()] == ["specific", "store"]


def test_not_found_continues_the_chain(home: Home) -> None:
    home.helper_not_found("specific")
    home.helper_not_found("store")
    home.docker_config(
        {
            "credHelpers": {"ghcr.io": "specific"},
            "credsStore": "store",
            "auths": {"ghcr.io": {"auth": b64("from-auths", "p")}},
        }
    )
    creds = home.find("ghcr.io")
    assert creds is not None
    assert creds.username == "from-auths"
    assert [c["helper"] for c in home.calls()] == ["specific", "store"]


def test_not_found_everywhere_is_anonymous(home: Home) -> None:
    home.helper_not_found("store")
    home.docker_config({"credsStore": "store"})
    assert home.find("ghcr.io") is None


def test_empty_helper_answer_is_no_credentials(home: Home) -> None:
    home.helper_answering("empty", "", "")
    home.docker_config({"credsStore": "empty"})
    assert home.find("ghcr.io") is None


def test_identity_token_is_skipped(home: Home, caplog: pytest.LogCaptureFixture) -> None:
    home.helper_answering("idt", "<token>", SECRET)
    home.docker_config({"credsStore": "idt"})
    with caplog.at_level(logging.DEBUG, logger="regframe.client.credentials"):
        assert home.find("ghcr.io") is None
    assert "identity token" in caplog.text
    assert SECRET not in caplog.text


def test_identity_token_entry_falls_through(home: Home) -> None:
    home.docker_config({"auths": {"ghcr.io": {"identitytoken": SECRET}}})
    assert home.find("ghcr.io") is None


def test_missing_helper(home: Home) -> None:
    home.docker_config({"credHelpers": {"ghcr.io": "nope"}})
    with pytest.raises(AuthenticationError, match="docker-credential-nope"):
        home.find("ghcr.io")


def test_helper_name_with_path_is_refused(home: Home) -> None:
    home.docker_config({"credsStore": "../../bin/sh"})
    with pytest.raises(AuthenticationError, match="not valid"):
        home.find("ghcr.io")


def test_helper_timeout(home: Home) -> None:
    home.helper("slow", "time.sleep(30)\n")
    home.docker_config({"credsStore": "slow"})
    with pytest.raises(AuthenticationError, match=r"docker-credential-slow.*0\.5 s"):
        home.find("ghcr.io", helper_timeout=0.5)


@pytest.mark.parametrize(
    "body",
    [
        f"print('not json {SECRET}')\n",
        f"print('[\"{SECRET}\"]')\n",
        f"print(json.dumps({{'Username': 1, 'Secret': '{SECRET}'}}))\n",
        f"sys.stderr.write('boom {SECRET}')\nsys.exit(3)\n",
        f"print('{SECRET}')\nsys.exit(1)\n",
        "sys.stdout.buffer.write(b'\\xff\\xfe')\n",
    ],
    ids=["garbage", "list", "wrong-types", "stderr-exit", "stdout-exit", "binary"],
)
def test_helper_garbage_never_leaks(home: Home, body: str) -> None:
    home.helper("bad", body)
    home.docker_config({"credsStore": "bad"})
    with pytest.raises(AuthenticationError, match="docker-credential-bad") as info:
        home.find("ghcr.io")
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None


def test_helper_not_executable(home: Home) -> None:
    script = home.helper_answering("noexec", "u", "p")
    script.chmod(0o644)
    home.docker_config({"credsStore": "noexec"})
    with pytest.raises(AuthenticationError, match="docker-credential-noexec"):
        home.find("ghcr.io")


# --- broken files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (f'{{"auths": {{"ghcr.io": {{"auth": "{SECRET}"', "not valid JSON"),
        (f'["{SECRET}"]', "JSON object"),
        ({"auths": [SECRET]}, "'auths' must be an object"),
        ({"auths": {"ghcr.io": SECRET}}, "must be an object"),
        ({"auths": {"ghcr.io": {"auth": 12}}}, "must be a string"),
        ({"auths": {"ghcr.io": {"auth": SECRET + "!!"}}}, "not base64"),
        (
            {"auths": {"ghcr.io": {"auth": base64.b64encode(SECRET.encode()).decode()}}},
            "not base64",
        ),
        ({"credHelpers": {"ghcr.io": 7}}, "must be a string"),
        ({"credHelpers": SECRET}, "'credHelpers' must be an object"),
        ({"credsStore": ["x"]}, "'credsStore' must be a string"),
        ("\xff\xfe garbage", "not valid JSON"),
    ],
)
def test_broken_config_names_file_not_content(home: Home, content: Any, words: str) -> None:
    path = home.docker_config(content)
    with pytest.raises(AuthenticationError) as info:
        home.find("ghcr.io")
    message = str(info.value)
    assert str(path) in message
    assert words in message
    assert SECRET not in message
    assert isinstance(info.value, RegframeError)


def test_unreadable_config(home: Home) -> None:
    (home.home / ".docker" / "config.json").mkdir(parents=True)
    with pytest.raises(AuthenticationError, match="cannot read credentials file"):
        home.find("ghcr.io")


# --- REGISTRY_AUTH_FILE and containers auth.json ------------------------------------------------


def test_registry_auth_file(home: Home) -> None:
    path = home.write_json(
        home.root / "custom-auth.json", {"auths": {"quay.io": {"auth": b64("rf", "p")}}}
    )
    home.env["REGISTRY_AUTH_FILE"] = str(path)
    creds = home.find("quay.io")
    assert creds is not None
    assert creds.username == "rf"
    assert creds.source == f"{path} auths[quay.io]"


def test_containers_auth_locations_and_precedence(home: Home) -> None:
    runtime = home.root / "run"
    home.env["XDG_RUNTIME_DIR"] = str(runtime)
    config_home = home.home / ".config" / "containers" / "auth.json"
    home.write_json(config_home, {"auths": {"quay.io": {"auth": b64("config-home", "p")}}})
    found = home.find("quay.io")
    assert found is not None
    assert found.username == "config-home"

    home.write_json(
        runtime / "containers" / "auth.json",
        {"auths": {"quay.io": {"auth": b64("runtime", "p")}}},
    )
    found = home.find("quay.io")
    assert found is not None
    assert found.username == "runtime"

    rfile = home.write_json(
        home.root / "raf.json", {"auths": {"quay.io": {"auth": b64("raf", "p")}}}
    )
    home.env["REGISTRY_AUTH_FILE"] = str(rfile)
    found = home.find("quay.io")
    assert found is not None
    assert found.username == "raf"

    home.docker_config({"auths": {"quay.io": {"auth": b64("docker", "p")}}})
    found = home.find("quay.io")
    assert found is not None
    assert found.username == "docker"


def test_xdg_config_home(home: Home) -> None:
    xdg = home.root / "xdg"
    home.env["XDG_CONFIG_HOME"] = str(xdg)
    home.write_json(
        xdg / "containers" / "auth.json", {"auths": {"quay.io": {"auth": b64("xdg", "p")}}}
    )
    found = home.find("quay.io")
    assert found is not None
    assert found.username == "xdg"


def test_namespaced_podman_keys_are_not_used_for_the_host(home: Home) -> None:
    home.write_json(
        home.home / ".config" / "containers" / "auth.json",
        {"auths": {"quay.io/someorg": {"auth": b64("org", "p")}}},
    )
    assert home.find("quay.io") is None


def test_no_password_in_logs(home: Home, caplog: pytest.LogCaptureFixture) -> None:
    home.helper_answering("fake", "u", SECRET)
    home.docker_config({"credsStore": "fake", "auths": {"x.io": {"auth": b64("u", SECRET)}}})
    with caplog.at_level(logging.DEBUG):
        assert home.find("ghcr.io") is not None
        assert home.find("x.io") is not None
    assert SECRET not in caplog.text
