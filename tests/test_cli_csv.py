"""The CLI and CSV export, end to end against the real sandbox registry."""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd
import pytest

import regframe as rf
from regframe.cli import main


@pytest.fixture
def seeded(registry_open, unique_repo):
    p = registry_open.pusher
    p.push_image(unique_repo, ["1.0.0", "1.0"], created="2024-01-02T03:04:05Z")
    p.push_image(unique_repo, ["2.0.0-beta.1"], created="2024-02-02T00:00:00.5Z")
    p.push_image(unique_repo, ["latest"], created=None)
    return registry_open.ref(unique_repo)


def test_tags_prints_a_table(seeded, capsys):
    assert main(["tags", seeded]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["tag", "release", "prerelease", "variant", "scheme"]
    assert [line.split()[0] for line in out[1:]] == ["1.0", "1.0.0", "2.0.0-beta.1", "latest"]


def test_tags_match_and_csv(seeded, tmp_path, capsys):
    out = tmp_path / "sub" / "t.csv"
    assert main(["tags", seeded, "--match", r"^1\.", "--csv", str(out)]) == 0
    df = pd.read_csv(out, dtype=str)
    assert list(df.tag) == ["1.0", "1.0.0"]
    assert "wrote 2 tags" in capsys.readouterr().err


def test_tags_with_dates_csv_has_iso_utc(seeded, tmp_path):
    out = tmp_path / "d.csv"
    assert main(["tags", seeded, "--dates", "--csv", str(out)]) == 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns)[:11] == [
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
    assert list(df.columns)[11:] == [
        "digest",
        "media_type",
        "platforms",
        "created",
        "created_source",
        "pushed",
        "pushed_source",
        "size",
        "resolves_to",
        "error",
        "date_note",
        "attested",
    ]
    # A plain registry says no push time: only the configs' build times are known.
    assert set(df.pushed) == set(df.pushed_source) == set(df.date_note) == {""}
    assert set(df.created_source) == {"config", ""}
    created = dict(zip(df.tag, df.created, strict=True))
    assert created["1.0.0"] == "2024-01-02T03:04:05Z"
    assert created["2.0.0-beta.1"] == "2024-02-02T00:00:00.5Z"
    assert created["latest"] == ""
    assert dict(zip(df.tag, df.resolves_to, strict=True))["1.0"] == "1.0.0"


@pytest.mark.parametrize("module", ["regframe.cli", "regframe"])
def test_errors_are_one_line_without_traceback(registry_open, module):
    proc = subprocess.run(
        [sys.executable, "-m", module, "tags", registry_open.ref("no/such")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("regframe: error: ") and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        (["tags", "Bad//Ref"], 2, "invalid"),
        (["tags", "localhost:5000/x", "--match", "("], 2, "bad regular expression"),
    ],
)
def test_bad_input_exit_codes(argv, code, text, capsys, registry_open):
    if argv[1].startswith("localhost"):
        argv = ["tags", registry_open.ref("whatever"), *argv[2:]]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("regframe: error:") and text in err.lower()


def test_to_csv_stable_order_and_formats():
    df = rf.parse_tags(["1.2.3-alpine", "latest"])
    df["extra"] = [["a", "b"], None]
    df.insert(
        0,
        "created",
        pd.to_datetime(["2024-08-08T12:34:56.123456789+02:00", None], utc=True, format="ISO8601"),
    )
    text = rf.to_csv(df)
    lines = text.splitlines()
    assert (
        lines[0]
        == "tag,release,major,minor,patch,prerelease,variant,scheme,is_prerelease,prefix,build,"
        "created,extra"
    )
    assert (
        lines[1]
        == '1.2.3-alpine,1.2.3,1,2,3,,alpine,semver,False,,,2024-08-08T10:34:56.123456789Z,"a,b"'
    )
    assert lines[2] == "latest,,,,,,,named,False,,,,"
    buf = io.StringIO()
    assert rf.to_csv(df, buf) is None
    assert buf.getvalue() == text
