"""Build time (``created``) and push time (``pushed``) kept apart in the CLI, CSV/JSON and history.

Docker Hub's and Quay's APIs are SCRIPTED stand-ins (``tests/scripted.py``, shapes as in
``tests/test_fastpaths.py``): the real services are not reachable here.  The plain-registry
case reads the REAL local registry, which knows no push times.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import regframe as rf
from regframe.cli import main
from regframe.testing.sandbox import Sandbox
from tests.scripted import ScriptedServer
from tests.test_fastpaths import MULTI, hub_tag, quay_tag, serve_hub, serve_quay


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


def test_cli_tags_shows_push_times_from_docker_hub(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REGFRAME_DOCKERHUB_API", server.url)
    serve_hub(server, [hub_tag("3.12.1", MULTI), hub_tag("3.12.0", MULTI)])
    assert main(["tags", "python", "--dates"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[header.index("created") + 1] == "pushed"
    assert "date_note" not in header  # shown only when some date was dropped
    # Every row has a push time and no build time (the API has none).
    assert all("2024-08-08 23:00" in line for line in lines[1:])

    assert main(["tags", "python", "--dates", "--json", "-"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["tag"] for r in records] == ["3.12.0", "3.12.1"]
    row = records[1]
    assert (row["created"], row["created_source"]) == (None, None)
    assert (row["pushed"], row["pushed_source"]) == ("2024-08-08T23:00:00Z", "hub")
    assert row["date_note"] is None
    keys = list(row)
    assert keys[keys.index("created_source") + 1 : keys.index("created_source") + 3] == [
        "pushed",
        "pushed_source",
    ]


def test_cli_history_shows_quay_push_times(
    server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REGFRAME_QUAY_API", server.url)
    serve_quay(server, [quay_tag("v1.0.0", 1, start_ts=1_700_000_100)])
    store = tmp_path / "h.sqlite"
    image = "quay.io/prometheus/prometheus"
    rf.read_tags(image, dates=True, cache=False, history=store)
    assert main(["history", image, "--store", str(store)]) == 0
    out = capsys.readouterr().out.splitlines()
    header = out[0].split()
    assert header[: header.index("current")] == [
        "tag", "digest", "first_seen", "last_seen", "pushed",
    ]  # fmt: skip
    assert out[1].split()[6:8] == ["2023-11-14", "22:15:00"]  # start_ts 1_700_000_100
    hist = rf.history(image, store=store)
    assert hist.loc[0, "pushed"] == pd.Timestamp(1_700_000_100, unit="s", tz="UTC")


def test_real_registry_has_build_times_and_no_push_times(
    registry_open: Sandbox, unique_repo: str, tmp_path: Path
) -> None:
    """The distribution API has no push time: ``pushed`` is NA, ``created`` the config's."""
    registry_open.pusher.push_image(unique_repo, ["1.0.0", "latest"], created="2024-05-06T07:08:09Z")
    df = rf.read_tags(registry_open.ref(unique_repo), dates=True, cache=False, history=False)
    assert (df["created"] == pd.Timestamp("2024-05-06T07:08:09Z")).all()
    assert set(df["created_source"]) == {"config"}
    assert df["pushed"].isna().all() and df["pushed_source"].isna().all()
    assert str(df["pushed"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(df["pushed_source"].dtype, pd.CategoricalDtype)
    assert df["date_note"].dtype == "string" and df["date_note"].isna().all()
    csv = rf.to_csv(df).splitlines()
    assert csv[0].endswith(",created,created_source,pushed,pushed_source,size,resolves_to,"
                           "error,date_note,attested")  # fmt: skip
    assert csv[1].split(",")[-9:-7] == ["2024-05-06T07:08:09Z", "config"]
