"""rf.plot.moves on a history frame read back from a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import regframe as rf
from regframe.frame.history_store import HistoryStore, Observation

REG, REPO, PLAT = "localhost:5000", "py", "linux/amd64"
DAY = 86_400 * 10**9
T0 = pd.Timestamp("2026-01-01", tz="UTC").value


def dg(c: str) -> str:
    return "sha256:" + c * 64


@pytest.fixture(autouse=True)
def _close() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture
def hist(tmp_path: Path) -> pd.DataFrame:
    path = tmp_path / "h.sqlite"
    reads = [
        {"3.12.0": "a", "3.12": "a", "latest": "a"},
        {"3.12.0": "a", "3.12.1": "b", "3.12": "b", "latest": "b"},
        {"3.12.0": "a", "3.12.1": "b", "3.12": "b", "3.13.0": "c", "latest": "c"},
        {"3.12.0": "a", "3.12.1": "d", "3.12": "d", "3.13.0": "c", "latest": "c"},  # rebuild
    ]
    with HistoryStore.open(path) as store:
        for i, read in enumerate(reads):
            observations = [Observation(t, dg(c)) for t, c in read.items()]
            store.record(REG, REPO, PLAT, observations, seen=T0 + 7 * i * DAY)
    return rf.history(f"{REG}/{REPO}", store=path)


def test_one_row_per_tag_one_bar_per_interval(hist: pd.DataFrame, tmp_path: Path) -> None:
    ax = rf.plot.moves(hist)
    assert len(ax.patches) == len(hist) == 10
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == {"3.12.0", "3.12.1", "3.12", "3.13.0", "latest"}
    assert "move" in ax.get_title() and REPO in ax.get_title()
    # latest moved a → b → c: three colours, the ones of the versions it resolved to
    latest_row = labels.index("latest")
    bars = sorted(
        (p for p in ax.patches if round(p.get_y() + p.get_height() / 2) == latest_row),
        key=lambda p: p.get_x(),
    )
    assert len(bars) == 3
    assert len({tuple(b.get_facecolor()) for b in bars}) == 3
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"3.12.0", "3.12.1", "3.13.0"} <= set(legend)
    ax.figure.savefig(tmp_path / "moves.png")
    assert (tmp_path / "moves.png").stat().st_size > 10_000


def test_tags_pick_rows_in_order_and_ax_is_used(hist: pd.DataFrame) -> None:
    _fig, ax = plt.subplots()
    out = rf.plot.moves(hist, ["latest", "3.12"], ax)
    assert out is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["latest", "3.12"]
    assert len(ax.patches) == 3 + 3  # latest: a, b, c;  3.12: a, b, d (the rebuild)
    rebuild = sorted((p for p in ax.patches if round(p.get_y() + 0.3) == 1), key=lambda p: p.get_x())
    assert len({tuple(p.get_facecolor()) for p in rebuild}) == 3  # 3.12.1 rebuilt: a lighter shade


def test_empty_history_draws_a_note() -> None:
    ax = rf.plot.moves(rf.history("localhost:5000/none", store="/nonexistent/h.sqlite"))
    assert any("no history" in t.get_text() for t in ax.texts)


def test_wrong_input_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        rf.plot.moves([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"regframe\.history"):
        rf.plot.moves(rf.parse_tags(["1.0"]))
