"""``regframe tags IMAGE --versions RANGE`` and ``--newest [--by ...]`` against the real registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regframe.cli import main
from regframe.testing.sandbox import Sandbox


@pytest.fixture
def app(registry_open: Sandbox, unique_repo: str) -> str:
    push = registry_open.pusher.push_image
    push(unique_repo, ["8.14.3", "8.14"], created="2024-05-01T00:00:00Z")
    push(unique_repo, ["8.15.0"], created="2024-06-01T00:00:00Z")
    push(unique_repo, ["8.15.1", "8.15", "8", "latest"], created="2024-07-01T00:00:00Z")
    push(unique_repo, ["8.15.1-alpine"], created="2024-07-02T00:00:00Z")
    push(unique_repo, ["9.0.0-rc1"], created="2024-08-01T00:00:00Z")
    return registry_open.ref(unique_repo)


def test_tags_versions(app: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tags", app, "--versions", ">=8.15,<9", "--json", "-"]) == 0
    tags = [r["tag"] for r in json.loads(capsys.readouterr().out)]
    assert (
        tags == ["8", "8.15", "8.15.0", "8.15.1", "8.15.1-alpine"][1:]
    )  # "8" is 8.0.0 padded: out
    assert main(["tags", app, "--versions", "^9.0.0-rc.0", "--match", "rc"]) == 0
    out, err = capsys.readouterr()
    assert "9.0.0-rc1" in out and err.strip() == "1 tag"


def test_tags_newest(app: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["tags", app, "--newest", "--csv", str(tmp_path / "n.csv")]) == 0
    text = (tmp_path / "n.csv").read_text().splitlines()
    # the CSV writer puts the version columns it knows first, in its stable order
    assert text[0] == "release,major,prerelease,prefix,line,tags,released,age,why"
    assert [row.split(",")[0] for row in text[1:]] == ["8.14.3", "8.15.1"]
    capsys.readouterr()
    assert main(["tags", app, "--newest", "--by", "major", "--variant", "alpine"]) == 0
    out, err = capsys.readouterr()
    assert "8.15.1-alpine" in out and "newest final of 1 release in major 8" in out
    assert "2024-07-02" in out and "age (days)" in out and err.strip() == "1 group"
    assert main(["tags", app, "--newest", "--by", "none", "--prereleases"]) == 0
    assert "9.0.0" in capsys.readouterr().out


def test_tags_none_in_range_says_which_filter(app: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tags", app, "--versions", ">=99"]) == 0
    assert capsys.readouterr().err.strip().endswith(": no tags match --versions '>=99'")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--versions", ">=8.15,<<9"], "'<<9' at position 7"),
        (["--by", "major"], "--by, --variant and --prereleases go with --newest"),
    ],
)
def test_bad_input_exits_2_before_any_request(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tags", "127.0.0.1:9/t/none", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
