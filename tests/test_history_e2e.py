"""Tag history end to end: read_tags(dates=True) against the real local registry records into a real SQLite file.

Retagging and rebuilding between reads go through the sandbox pusher; ``max_age``
re-runs are checked to send nothing at all; damaged stores never cost the frame;
several processes record the same repository at once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

import regframe as rf
from regframe.frame.history_schema import APPLICATION_ID, SCHEMA_VERSION
from regframe.testing.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


class CountingSession(requests.Session):
    """A session that counts what it sends (and can refuse to send anything)."""

    def __init__(self, *, refuse: bool = False) -> None:
        super().__init__()
        self.trust_env = False
        self.sent: list[str] = []
        self.refuse = refuse

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.sent.append(f"{method!s} {url!s}")
        if self.refuse:
            raise AssertionError(f"no request expected, got {method!s} {url!s}")
        return super().request(method, url, *args, **kwargs)


def seed_app(sb: Sandbox, repo: str) -> None:
    sb.pusher.push_image(repo, ["1.0.0", "1.0", "latest"], created="2026-01-01T00:00:00Z")
    sb.pusher.push_image(repo, ["0.9.0"], created="2025-12-01T00:00:00Z")


def read(image: str, store: Path, **kw: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error", rf.HistoryWarning)
        return rf.read_tags(image, dates=True, history=store, progress=False, **kw)


def test_retag_and_rebuild_are_recorded_as_moves(registry_open: Sandbox, unique_repo: str, tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    image = registry_open.ref(unique_repo)
    seed_app(registry_open, unique_repo)
    first = read(image, store)
    assert sorted(first.attrs["history"]["new"]) == ["0.9.0", "1.0", "1.0.0", "latest"]
    assert first.attrs["history"]["previous_snapshot"] is None
    # A release, `latest` and `1` move to it, and 1.0.0 is rebuilt for a base update.
    registry_open.pusher.push_image(unique_repo, ["1.1.0", "1.1", "latest"], created="2026-02-01T00:00:00Z")
    registry_open.pusher.push_image(unique_repo, ["1.0.0", "1.0"], created="2026-02-02T00:00:00Z")
    second = read(image, store)
    info = second.attrs["history"]
    assert sorted(info["moved"]) == ["1.0", "1.0.0", "latest"]
    assert sorted(info["new"]) == ["1.1", "1.1.0"]
    assert info["previous_snapshot"] == first.attrs["fetched_at"]

    hist = rf.history(image, store=store)
    assert list(hist.columns) == list(rf.frame.history.HISTORY_COLUMNS)
    latest = hist[hist["tag"] == "latest"].reset_index(drop=True)
    assert latest["digest"].tolist() == [
        first.set_index("tag").loc["latest", "digest"],
        second.set_index("tag").loc["latest", "digest"],
    ]
    assert latest["resolves_to"].tolist() == ["1.0.0", "1.1.0"]
    assert latest["current"].tolist() == [False, True]
    assert (latest["source"] == "observed").all()
    assert latest.loc[0, "first_seen"] == first.attrs["fetched_at"]
    assert latest.loc[0, "last_seen"] == first.attrs["fetched_at"]
    assert latest.loc[1, "first_seen"] == second.attrs["fetched_at"]
    rebuilt = hist[hist["tag"] == "1.0.0"]
    assert rebuilt["created"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-01", "2026-02-02"]
    unchanged = hist[hist["tag"] == "0.9.0"]
    assert len(unchanged) == 1 and unchanged["last_seen"].iloc[0] == second.attrs["fetched_at"]


def test_max_age_answers_from_the_store_with_zero_requests(
    registry_open: Sandbox, unique_repo: str, tmp_path: Path
) -> None:
    store = tmp_path / "h.sqlite"
    image = registry_open.ref(unique_repo)
    seed_app(registry_open, unique_repo)
    fresh = read(image, store)
    quiet = CountingSession(refuse=True)
    again = read(image, store, max_age="15min", session=quiet)
    assert quiet.sent == []
    cols = [
        "tag", "release", "digest", "media_type", "platforms", "created", "created_source",
        "pushed", "pushed_source", "size", "resolves_to", "error", "date_note",
    ]  # fmt: skip
    pd.testing.assert_frame_equal(again[cols], fresh[cols])
    assert list(again.columns) == list(fresh.columns)
    assert again.attrs["fetched_at"] == fresh.attrs["fetched_at"]
    tags_only = rf.read_tags(image, max_age=600, history=store, session=quiet)
    assert list(tags_only.columns) == list(rf.parse_tags([]).columns)
    assert quiet.sent == []
    # Outside the window (or another platform): the registry is asked as usual.
    counting = CountingSession()
    read(image, store, max_age=0, session=counting)
    assert any("/manifests/" in s for s in counting.sent)
    counting = CountingSession()
    read(image, store, max_age="1h", platform="linux/arm64", session=counting)
    assert counting.sent


def test_max_age_bad_values_fail_before_any_traffic(tmp_path: Path) -> None:
    quiet = CountingSession(refuse=True)
    for bad in (-1, "-2min", "fortnight", [3]):
        with pytest.raises(rf.InvalidArgumentError, match="max_age"):
            rf.read_tags("localhost:5000/x", dates=True, max_age=bad, session=quiet)  # type: ignore[arg-type]
    with pytest.raises(rf.InvalidArgumentError, match="history"):
        rf.read_tags("localhost:5000/x", dates=True, max_age=60, history=False, session=quiet)
    assert quiet.sent == []


def test_history_false_records_nothing_and_env_chooses_the_file(
    registry_open: Sandbox, unique_repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = registry_open.ref(unique_repo)
    seed_app(registry_open, unique_repo)
    monkeypatch.setenv("REGFRAME_HISTORY", str(tmp_path / "env" / "h.sqlite"))
    df = rf.read_tags(image, dates=True, history=False)
    assert "history" not in df.attrs
    assert not (tmp_path / "env").exists()
    rf.read_tags(image, dates=True)
    assert (tmp_path / "env" / "h.sqlite").is_file()
    assert len(rf.history(image)) == 4
    rf.read_tags(image)  # without dates nothing is recorded
    with contextlib.closing(sqlite3.connect(tmp_path / "env" / "h.sqlite")) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1


def _spoil(path: Path, kind: str) -> None:
    if kind == "corrupt":
        path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    elif kind == "newer":
        con = sqlite3.connect(path)
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        con.execute("CREATE TABLE tomorrow (x)")
        con.close()
    else:
        from regframe.frame.history_store import HistoryStore

        HistoryStore.open(path).close()
        path.chmod(0o444)


@pytest.mark.parametrize("kind", ["corrupt", "newer", "read-only"])
def test_unusable_store_warns_and_the_frame_still_comes_back(
    registry_open: Sandbox, unique_repo: str, tmp_path: Path, kind: str
) -> None:
    image = registry_open.ref(unique_repo)
    seed_app(registry_open, unique_repo)
    store = tmp_path / "h.sqlite"
    _spoil(store, kind)
    before = (store.read_bytes(), store.stat().st_mtime_ns)
    with pytest.warns(rf.HistoryWarning, match="history not recorded") as caught:
        df = rf.read_tags(image, dates=True, history=store)
    # Only ours: pytest.warns records every warning, and a ResourceWarning for a connection
    # some earlier test left to the garbage collector may land inside this block.
    assert len([w for w in caught if issubclass(w.category, rf.HistoryWarning)]) == 1
    assert sorted(df["tag"]) == ["0.9.0", "1.0", "1.0.0", "latest"]
    assert df["digest"].notna().all()
    assert "history" not in df.attrs
    # A max_age re-run cannot use the store either: it reads the registry and says so.
    with pytest.warns(rf.HistoryWarning, match="history not (read|recorded)"):
        again = rf.read_tags(image, dates=True, history=store, max_age=60)
    assert len(again) == 4
    assert (store.read_bytes(), store.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite"]


def test_store_never_holds_credentials(registry_token: Sandbox, tmp_path: Path) -> None:
    from tests.conftest import ALICE_PASSWORD

    repo = "private/history-secrets"
    registry_token.pusher.push_image(repo, ["1.0"], created="2026-01-01T00:00:00Z")
    store = tmp_path / "h.sqlite"
    df = rf.read_tags(registry_token.ref(repo), dates=True, auth=("alice", ALICE_PASSWORD), history=store)
    assert df["digest"].notna().all()
    with contextlib.closing(sqlite3.connect(store)) as con:
        dump = "\n".join(con.iterdump())
    assert "1.0" in dump and "private/history-secrets" in dump
    for secret in (ALICE_PASSWORD, "alice", "Bearer", "token", "http://", "https://", "?"):
        assert secret not in dump, secret


# ---------------------------------------------------------------- several processes

SNAPSHOT = textwrap.dedent(
    """
    import os, sys, time, warnings
    import regframe as rf
    warnings.simplefilter("error")
    image, store, n, ready, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    stamps = []
    for i in range(n):
        df = rf.read_tags(image, dates=True, history=store, progress=False, max_workers=4)
        assert "history" in df.attrs, df.attrs
        stamps.append(str(df.attrs["fetched_at"].value))
        if i == 0:  # first read done: wait until the test has moved `latest`
            open(ready, "w").close()
            deadline = time.monotonic() + 120
            while not os.path.exists(go) and time.monotonic() < deadline:
                time.sleep(0.02)
    print("ok", len(df), " ".join(stamps))
    """
)
READER = textwrap.dedent(
    """
    import sys, time
    import regframe as rf
    image, store = sys.argv[1], sys.argv[2]
    seen = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        h = rf.history(image, store=store)
        seen = max(seen, len(h))
        if open(sys.argv[3]).read().strip() == "done":
            break
        time.sleep(0.05)
    print("ok", seen)
    """
)


@pytest.mark.timeout(240)
def test_four_processes_snapshot_at_once_while_one_reads_and_latest_moves(
    registry_open: Sandbox, unique_repo: str, tmp_path: Path
) -> None:
    image = registry_open.ref(unique_repo)
    registry_open.pusher.run_parallel(
        [
            lambda i=i: registry_open.pusher.push_image(unique_repo, [f"1.{i}.0", f"1.{i}"], created=f"2026-01-{i + 1:02d}T00:00:00Z")
            for i in range(20)
        ]
    )
    registry_open.pusher.tag(unique_repo, "1.0.0", ["latest"])
    store = tmp_path / "h.sqlite"
    flag = tmp_path / "flag"
    flag.write_text("")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The reader starts first: it sees no store, then a growing one, and must never fail.
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, image, str(store), str(flag)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", SNAPSHOT, image, str(store), "3", str(tmp_path / f"ready-{w}"), str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for w in range(4)
    ]
    # Every writer has read once (and recorded or is recording): now `latest` moves.
    deadline = time.monotonic() + 180
    while not all((tmp_path / f"ready-{w}").exists() for w in range(4)):
        assert time.monotonic() < deadline, "writers did not finish their first read"
        assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
        time.sleep(0.05)
    registry_open.pusher.tag(unique_repo, "1.19.0", ["latest"])
    go.touch()
    outs = [w.communicate(timeout=200) for w in writers]
    flag.write_text("done")
    rout, rerr = reader.communicate(timeout=60)
    stamps: list[list[int]] = []
    for (out, err), w in zip(outs, writers, strict=True):
        assert w.returncode == 0, err
        assert out.startswith("ok 41 ")
        stamps.append([int(x) for x in out.split()[2:]])
        assert "locked" not in err.lower() and "Traceback" not in err
    assert reader.returncode == 0, rerr
    assert rout.startswith("ok ")
    hist = rf.history(image, store=store)
    others = hist[hist["tag"] != "latest"]
    assert len(others) == 40  # one interval per unmoved tag: nothing lost, nothing duplicated
    assert others["tag"].is_unique and others["current"].all()
    assert (hist["first_seen"] <= hist["last_seen"]).all()
    first_reads = [s[0] for s in stamps]
    later_reads = [t for s in stamps for t in s[1:]]
    latest = hist[hist["tag"] == "latest"].reset_index(drop=True)
    # Exactly the move: 1.0.0's digest over every first read, then 1.19.0's over every later one.
    assert latest["resolves_to"].tolist() == ["1.0.0", "1.19.0"]
    assert latest["current"].tolist() == [False, True]
    assert latest["first_seen"].tolist() == [pd.Timestamp(min(first_reads), tz="UTC"), pd.Timestamp(min(later_reads), tz="UTC")]
    assert latest["last_seen"].tolist() == [pd.Timestamp(max(first_reads), tz="UTC"), pd.Timestamp(max(later_reads), tz="UTC")]
    with contextlib.closing(sqlite3.connect(store)) as con:
        snaps = con.execute("SELECT taken_at FROM snapshots ORDER BY taken_at").fetchall()
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sorted(t for (t,) in snaps) == sorted(first_reads + later_reads)
