"""``regframe snapshot`` and ``regframe history`` against the real local registry and a real store."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from regframe.cli import main
from regframe.testing.sandbox import Sandbox


@pytest.fixture
def app(registry_open: Sandbox, unique_repo: str) -> str:
    registry_open.pusher.push_image(unique_repo, ["1.0.0", "1.0", "latest"], created="2026-01-01T00:00:00Z")
    return registry_open.ref(unique_repo)


def test_snapshot_twice_reports_moves(app: str, registry_open: Sandbox, unique_repo: str, tmp_path: Path, capsys) -> None:
    store = str(tmp_path / "h.sqlite")
    assert main(["snapshot", app, "--store", store]) == 0
    assert capsys.readouterr().out.strip() == f"{app}: 3 tags, first snapshot"
    registry_open.pusher.push_image(unique_repo, ["1.1.0", "latest"], created="2026-02-01T00:00:00Z")
    assert main(["snapshot", app, "--store", store]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{app}: 4 tags, 1 new release (1.1.0); 1 retag (latest → 1.1.0) since 20")
    assert line.endswith(" UTC")


def test_snapshot_records_the_others_when_one_image_fails(app: str, registry_open: Sandbox, tmp_path: Path, capsys) -> None:
    store = tmp_path / "h.sqlite"
    missing = registry_open.ref("t/does-not-exist")
    assert main(["snapshot", missing, app, "--store", str(store)]) == 1
    out, err = capsys.readouterr()
    assert out.strip() == f"{app}: 3 tags, first snapshot"
    assert err.startswith(f"{missing}: error: ")
    assert "Traceback" not in err
    with contextlib.closing(sqlite3.connect(store)) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1


def test_snapshot_into_an_unusable_store_fails_that_image(app: str, tmp_path: Path, capsys) -> None:
    store = tmp_path / "h.sqlite"
    store.write_bytes(b"definitely not sqlite" * 20)
    assert main(["snapshot", app, "--store", str(store)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "not a usable SQLite database" in err
    assert store.read_bytes() == b"definitely not sqlite" * 20


def test_snapshot_bad_reference_is_usage_before_any_read(app: str, tmp_path: Path, capsys) -> None:
    assert main(["snapshot", app, "UPPER/Case", "--store", str(tmp_path / "h.sqlite")]) == 2
    assert not (tmp_path / "h.sqlite").exists()  # the good image was not read either


def test_history_table_csv_and_json(app: str, registry_open: Sandbox, unique_repo: str, tmp_path: Path, capsys) -> None:
    store = str(tmp_path / "h.sqlite")
    main(["snapshot", app, "--store", store])
    registry_open.pusher.push_image(unique_repo, ["1.1.0", "latest"], created="2026-02-01T00:00:00Z")
    main(["snapshot", app, "--store", store])
    capsys.readouterr()

    assert main(["history", app, "--store", store, "--tag", "latest"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["tag", "digest", "first_seen", "last_seen", "current", "source", "version"]
    assert [line.split()[0] for line in out[1:]] == ["latest", "latest"]
    assert out[1].split()[-1] == "1.0.0" and out[2].split()[-1] == "1.1.0"

    csv = tmp_path / "h.csv"
    assert main(["history", app, "--store", store, "--csv", str(csv)]) == 0
    frame = pd.read_csv(csv, dtype=str)
    assert len(frame) == 5 and frame["first_seen"].str.endswith("Z").all()

    assert main(["history", app, "--store", store, "--tag", "1.0.0", "--tag", "1.1.0", "--json", "-"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["tag"] for r in records] == ["1.0.0", "1.1.0"]
    assert records[0]["source"] == "observed" and records[0]["current"] is True


def test_history_bad_since_is_usage(tmp_path: Path, capsys) -> None:
    assert main(["history", "localhost:5000/x", "--since", "not-a-date", "--store", str(tmp_path / "h")]) == 2
    assert "since" in capsys.readouterr().err


def test_history_of_an_unknown_image(tmp_path: Path, capsys) -> None:
    assert main(["history", "localhost:5000/never", "--store", str(tmp_path / "h.sqlite")]) == 0
    err = capsys.readouterr().err
    assert "no history recorded" in err and "regframe snapshot localhost:5000/never" in err
    store = str(tmp_path / "h.sqlite")
    assert main(["history", "localhost:5000/never", "--tag", "latest", "--store", store]) == 0
    assert "no history recorded for tag latest;" in capsys.readouterr().err
