"""Quay's tag history imported into the store — against a SCRIPTED Quay API (tests/scripted.py).

quay.io is not reachable here, so the Quay tag API is a scripted stand-in that
answers the documented shape of ``onlyActiveTags=false``: active tags (no
``end_ts``, or one in the future) and past revisions (``end_ts`` in the past).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from tests.scripted import ScriptedServer
from tests.test_fastpaths import dg, quay_tag, serve_quay

IMAGE = "quay.io/prometheus/prometheus"
FUTURE = int(time.time()) + 30 * 86_400


@pytest.fixture
def quay(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        monkeypatch.setenv("REGFRAME_QUAY_API", server.url)
        yield server


def revisions() -> list[dict]:
    return [
        # Quay lists newest first; the same name appears once per revision.
        quay_tag("latest", 3, start_ts=1_700_000_300),
        quay_tag("v2.1.0", 3, start_ts=1_700_000_300),
        quay_tag("latest", 2, start_ts=1_700_000_200, end_ts=1_700_000_300),
        quay_tag("v2.0.0", 2, start_ts=1_700_000_200),
        quay_tag("latest", 1, start_ts=1_700_000_100, end_ts=1_700_000_200),
        quay_tag("v1.0.0", 1, start_ts=1_700_000_100, end_ts=FUTURE),  # expiring, still active
        quay_tag("v0.9.0", 9, start_ts=1_700_000_050, end_ts=1_700_000_150),  # deleted since
    ]


def ts(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def test_quay_revisions_become_intervals(quay: ScriptedServer, tmp_path: Path) -> None:
    serve_quay(quay, revisions())
    store = tmp_path / "h.sqlite"
    df = rf.read_tags(IMAGE, dates=True, cache=False, history=store)
    assert sorted(df["tag"]) == ["latest", "v1.0.0", "v2.0.0", "v2.1.0"]
    assert df.set_index("tag").loc["latest", "digest"] == dg("q3")
    assert [r.query.get("onlyActiveTags") for r in quay.requests] == ["false"]

    hist = rf.history(IMAGE, store=store)
    latest = hist[hist["tag"] == "latest"].reset_index(drop=True)
    assert latest["digest"].tolist() == [dg("q1"), dg("q2"), dg("q3")]
    assert latest["first_seen"].tolist() == [ts(1_700_000_100), ts(1_700_000_200), ts(1_700_000_300)]
    assert latest["last_seen"].tolist()[:2] == [ts(1_700_000_200), ts(1_700_000_300)]
    assert latest["last_seen"].iloc[2] == df.attrs["fetched_at"]
    assert latest["current"].tolist() == [False, False, True]
    assert (latest["source"] == "quay").all()
    assert latest["resolves_to"].tolist() == ["v1.0.0", "v2.0.0", "v2.1.0"]
    # The current interval keeps the read's push time (start_ts); past revisions have no
    # facts of their own, and no interval claims a build time Quay never gave.
    assert latest["pushed"].iloc[2] == ts(1_700_000_300)
    assert latest["pushed"].iloc[:2].isna().all() and hist["created"].isna().all()
    gone = hist[hist["tag"] == "v0.9.0"]
    assert gone[["first_seen", "last_seen", "current"]].values.tolist() == [
        [ts(1_700_000_050), ts(1_700_000_150), False]
    ]
    assert hist[hist["tag"] == "v1.0.0"]["current"].tolist() == [True]

    again = rf.read_tags(IMAGE, dates=True, cache=False, history=store)
    assert again.attrs["history"]["moved"] == [] and again.attrs["history"]["new"] == []
    assert len(rf.history(IMAGE, store=store)) == len(hist)  # importing twice adds nothing
    # Answered from the store, the frame has the push times the API gave.
    stored = rf.read_tags(IMAGE, dates=True, cache=False, history=store, max_age="1h")
    assert stored.attrs["fetched_at"] == again.attrs["fetched_at"]
    pd.testing.assert_series_equal(stored["pushed"], again["pushed"])
    assert set(stored["pushed_source"]) == {"quay"}


def test_quay_move_between_reads(quay: ScriptedServer, tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    serve_quay(quay, revisions())
    rf.read_tags(IMAGE, dates=True, cache=False, history=store)
    moved = [quay_tag("latest", 4, start_ts=1_700_000_400), quay_tag("v2.2.0", 4, start_ts=1_700_000_400)]
    old_latest = quay_tag("latest", 3, start_ts=1_700_000_300, end_ts=1_700_000_400)
    serve_quay(quay, [*moved, old_latest, *revisions()[1:]])
    df = rf.read_tags(IMAGE, dates=True, cache=False, history=store)
    assert df.attrs["history"]["moved"] == ["latest"]
    latest = rf.history(IMAGE, store=store, tags="latest")
    assert latest["digest"].tolist() == [dg("q1"), dg("q2"), dg("q3"), dg("q4")]
    assert latest["last_seen"].iloc[2] == ts(1_700_000_400)  # Quay's end_ts, not our read
    assert latest["current"].tolist() == [False, False, False, True]


def test_pages_of_past_revisions_are_not_a_repeat(quay: ScriptedServer, tmp_path: Path) -> None:
    # 150 revisions of one tag: page 2 holds only names page 1 already had, yet is new.
    entries = [quay_tag("latest", 150, start_ts=1_700_000_000 + 150 * 10)]
    entries += [
        quay_tag("latest", n, start_ts=1_700_000_000 + n * 10, end_ts=1_700_000_000 + (n + 1) * 10)
        for n in range(149, 0, -1)
    ]
    serve_quay(quay, entries)
    store = tmp_path / "h.sqlite"
    df = rf.read_tags(IMAGE, dates=True, cache=False, history=store)
    assert df["tag"].tolist() == ["latest"]
    # Pages 1 and 2 hold the revisions (the listing may also fetch ahead, past the end).
    assert {"1", "2"} <= {r.query["page"] for r in quay.requests}
    hist = rf.history(IMAGE, store=store)
    assert len(hist) == 150 and hist["first_seen"].is_monotonic_increasing
    assert hist["current"].sum() == 1
