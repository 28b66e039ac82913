"""Release dates from registries' own APIs: Docker Hub push times, Quay's tag history.

docker.io and quay.io are not reachable here: their tag APIs are SCRIPTED (tests/scripted.py)
in the documented shapes tests/test_fastpaths.py already uses (Hub's ``tag_last_pushed``
per tag, as in the real answer tests/data/dockerhub_tags_page.json; Quay's
``onlyActiveTags=false`` revisions with ``start_ts``/``end_ts``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from tests.scripted import ScriptedServer
from tests.test_fastpaths import hub_tag, quay_tag, serve_hub, serve_quay

#: A python-like Hub repository: each tag's ``tag_last_pushed`` is its last (re)push.
HUB_PUSHES = {
    "3.10.14": "2024-09-02T04:00:00Z",  # last rebuilt by the wave before 3.10.15
    "3.10.15": "2024-11-15T04:10:00Z",  # the newest of each line, re-pushed by the last wave
    "3.11.9": "2024-09-02T04:05:00Z",
    "3.11.10": "2024-11-15T04:20:00Z",
    "3.12.6": "2024-09-20T03:00:00Z",
    "3.12.7": "2024-11-15T04:30:00Z",
    "3.12": "2024-11-15T04:30:00Z",
}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


def test_hub_push_times_of_a_rebuilt_image(server: ScriptedServer, monkeypatch) -> None:
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    serve_hub(server, [hub_tag(t, tag_last_pushed=when) for t, when in HUB_PUSHES.items()])
    df = rf.read_tags("python", dates=True, cache=False)
    assert df["created"].isna().all() and df["pushed"].notna().all()  # push times only
    rel = rf.releases(df).set_index("release")
    assert rel["rebuilt"].all()
    assert rel.loc["3.12.7", "dated_by"] == "predecessor"
    assert rel.loc["3.12.7", "released_earliest"] == pd.Timestamp("2024-09-20T03:00", tz="UTC")
    assert rel.loc["3.10.14", "dated_by"] == "push"
    assert rel.loc["3.10.14", "released"] == rel.loc["3.10.14", "pushed"]


def test_hub_push_times_of_a_built_once_image(server: ScriptedServer, monkeypatch) -> None:
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    pushes = {"1.0.0": "2024-01-03T10:00:00Z", "1.1.0": "2024-02-07T11:00:00Z",
              "2.0.0": "2024-04-01T09:00:00Z"}  # fmt: skip
    serve_hub(server, [hub_tag(t, tag_last_pushed=when) for t, when in pushes.items()])
    rel = rf.releases(rf.read_tags("library/app", dates=True, cache=False))
    assert (rel["dated_by"] == "push").all() and not rel["rebuilt"].any()
    assert rel["released"].tolist() == [pd.Timestamp(v, tz="UTC") for v in pushes.values()]


def test_quay_tag_history_dates_a_rebuilt_tag_by_its_first_push(
    server: ScriptedServer, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REGFRAME_QUAY_API", server.url)
    serve_quay(
        server,
        [
            # v2.1.0 was pushed at +100, then rebuilt and pushed again at +900 (Quay lists both)
            quay_tag("v2.1.0", 9, start_ts=1_700_000_900),
            quay_tag("v2.1.0", 8, start_ts=1_700_000_100, end_ts=1_700_000_900),
            quay_tag("v2.0.0", 7, start_ts=1_699_000_000),
        ],
    )
    store = tmp_path / "h.sqlite"
    df = rf.read_tags("quay.io/prometheus/prometheus", dates=True, cache=False, history=store)
    assert df.set_index("tag").loc["v2.1.0", "pushed"] == pd.Timestamp(1_700_000_900, unit="s", tz="UTC")
    rel = rf.releases(df).set_index("release")  # the frame names its store: used by default
    assert rel.loc["2.1.0", "dated_by"] == "tag-history"
    assert rel.loc["2.1.0", "released"] == pd.Timestamp(1_700_000_100, unit="s", tz="UTC")
    assert rel.loc["2.0.0", "released"] == pd.Timestamp(1_699_000_000, unit="s", tz="UTC")
    without = rf.releases(df, history=False).set_index("release")
    assert without.loc["2.1.0", "dated_by"] == "push"
