"""Command-line conventions against the real sandbox registry: exit statuses, output targets,
debug logs, cache switches and the ``cache`` command."""

from __future__ import annotations

import base64
import io
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ALICE_PASSWORD

import regframe as rf
import regframe.frame.read as read_mod
from regframe.cli import main


@pytest.fixture
def seeded(registry_open, unique_repo):
    p = registry_open.pusher
    p.push_image(unique_repo, ["1.0.0", "1.0"], created="2024-01-02T03:04:05Z")
    p.push_image(unique_repo, ["2.0.0-beta.1"], created="2024-02-02T00:00:00.5Z")
    p.push_image(unique_repo, ["latest"], created=None)
    return registry_open.ref(unique_repo)


# -- exit statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["tags"], "the following arguments are required: image"),
        (["tags", "x", "--no-such-option"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        (["tags", "Bad//Ref"], "invalid image reference"),
        (["tags", "team/app", "--match", "("], "bad regular expression"),
        (["tags", "team/app", "--platform", "linux/amd64/v1/extra"], "invalid platform"),
        (["tags", "team/app", "--username", "alice"], "--username needs --password-stdin"),
        (["tags", "team/app", "--password-stdin"], "--password-stdin needs --username"),
        (["tags", "team/app", "--max-workers", "0"], "must be at least 1"),
        (["tags", "team/app", "--timeout", "-1"], "must be more than 0"),
        (["cache", "empty"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_before_any_network_traffic(argv, text, capsys, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("bad input must be refused before reading tags")

    monkeypatch.setattr(read_mod, "read_tags", no_network)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err


def test_registry_failure_exits_1(registry_open, capsys):
    assert main(["tags", registry_open.ref("no/such-repo")]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_exits_130(sig, tmp_path):
    # A server that accepts and never answers keeps the command waiting on the network.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        port = server.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "regframe.cli", "tags", f"127.0.0.1:{port}/x", "--timeout", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            server.settimeout(30)
            conn, _ = server.accept()  # the command is now waiting for an answer
            time.sleep(0.2)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=20)
        finally:
            proc.kill()
            proc.wait()
        conn.close()
    assert proc.returncode == 130
    assert err.strip() == "regframe: interrupted"


# -- output targets ---------------------------------------------------------------------


def test_csv_dash_writes_csv_to_stdout(seeded, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["tags", seeded, "--csv", "-"]) == 0
    out = capsys.readouterr().out
    assert out == rf.to_csv(rf.read_tags(seeded))
    assert out.splitlines()[0].startswith("tag,release,major")
    assert not (tmp_path / "-").exists()  # not a file named "-"
    assert "wrote" not in out


def test_json_dash_is_an_array_of_records_with_iso_dates_and_nulls(seeded, capsys):
    assert main(["tags", seeded, "--dates", "--json", "-"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert isinstance(records, list) and len(records) == 4
    by_tag = {r["tag"]: r for r in records}
    assert list(records[0])[:3] == ["tag", "release", "major"]
    assert by_tag["1.0.0"]["created"] == "2024-01-02T03:04:05Z"
    assert by_tag["2.0.0-beta.1"]["created"] == "2024-02-02T00:00:00.5Z"
    assert by_tag["latest"]["created"] is None
    assert by_tag["latest"]["major"] is None
    assert by_tag["1.0.0"]["major"] == 1
    assert by_tag["1.0"]["resolves_to"] == "1.0.0"
    assert by_tag["1.0.0"]["platforms"] == "linux/amd64"
    assert by_tag["1.0.0"]["is_prerelease"] is False
    assert by_tag["1.0.0"]["digest"].startswith("sha256:")


def test_json_and_csv_files_together(seeded, tmp_path, capsys):
    j, c = tmp_path / "out" / "t.json", tmp_path / "out" / "t.csv"
    assert main(["tags", seeded, "--match", "^1", "--json", str(j), "--csv", str(c)]) == 0
    assert capsys.readouterr().out == ""
    assert [r["tag"] for r in json.loads(j.read_text())] == ["1.0", "1.0.0"]
    assert list(pd.read_csv(c, dtype=str).tag) == ["1.0", "1.0.0"]


# -- -v, --no-cache, --max-workers --------------------------------------------------------


def test_verbose_logs_requests_on_stderr_never_secrets(registry_htpasswd, monkeypatch, capsys):
    registry_htpasswd.pusher.push_image("team/verbose", ["1.0"], created=None)
    monkeypatch.setattr(sys, "stdin", io.StringIO(ALICE_PASSWORD + "\n"))
    argv = ["tags", registry_htpasswd.ref("team/verbose"), "-v", "--dates"]
    assert main([*argv, "--username", "alice", "--password-stdin"]) == 0
    out, err = capsys.readouterr()
    assert "1.0" in out
    assert " DEBUG " in err
    assert f"GET http://{registry_htpasswd.host}/v2/team/verbose/tags/list" in err
    basic = base64.b64encode(f"alice:{ALICE_PASSWORD}".encode()).decode()
    for secret in (ALICE_PASSWORD, basic, "Authorization"):
        assert secret not in err
    # The handler goes away with the command: a library user's logging is left as it was.
    monkeypatch.setattr(sys, "stdin", io.StringIO(ALICE_PASSWORD + "\n"))
    assert main([*argv[:2], "--username", "alice", "--password-stdin"]) == 0
    assert " DEBUG " not in capsys.readouterr().err


def _cache_entries(capsys) -> int:
    assert main(["cache", "info"]) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    return int(lines["entries"])


def test_no_cache_leaves_the_cache_alone_and_cache_info_clear(seeded, capsys, isolated_env):
    assert main(["cache", "info"]) == 0
    info = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert Path(info["path"]) == isolated_env / ".cache" / "regframe"
    assert info["entries"] == "0" and info["bytes"] == "0"

    assert main(["tags", seeded, "--dates", "--no-cache", "--csv", "-"]) == 0
    capsys.readouterr()
    assert _cache_entries(capsys) == 0

    assert main(["tags", seeded, "--dates", "--csv", "-"]) == 0
    capsys.readouterr()
    entries = _cache_entries(capsys)
    assert entries >= 6  # manifests, configs and derived facts of three images
    keep = isolated_env / ".cache" / "regframe" / "notes.txt"
    keep.write_text("mine")

    assert main(["cache", "clear"]) == 0
    assert f"removed {entries} entries" in capsys.readouterr().out
    assert _cache_entries(capsys) == 0
    assert keep.read_text() == "mine"  # only the cache's own stores are removed


def test_max_workers_and_timeout_reach_the_library(seeded, monkeypatch, capsys):
    seen = {}
    real = read_mod.read_tags

    def recording(image, /, **kwargs):
        seen.update(kwargs)
        return real(image, **kwargs)

    monkeypatch.setattr(read_mod, "read_tags", recording)
    assert main(["tags", seeded, "--max-workers", "3", "--timeout", "7.5", "--no-cache"]) == 0
    assert seen["max_workers"] == 3 and seen["timeout"] == 7.5 and seen["cache"] is False
