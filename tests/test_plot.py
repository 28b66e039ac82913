"""Tests for regframe.plot: inspect the artists each chart draws."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from frames import hand_tags
from matplotlib.collections import PathCollection
from matplotlib.testing.decorators import check_figures_equal

import regframe.plot as rplot
from regframe import cadence


def tags(*specs: tuple[str, str | None], repository: str = "elastic/es") -> pd.DataFrame:
    """Tags frame from ``(tag, created)`` pairs."""
    return hand_tags(*specs, repository=repository)


def history() -> pd.DataFrame:
    return tags(
        ("7.17.0", "2022-02-01"),
        ("8.0.0-rc1", "2022-01-20"),
        ("8.0.0", "2022-02-10"),
        ("7.17.1", "2022-02-21"),
        ("8.0.1", "2022-03-02"),
        ("8.1.0", "2022-03-08"),
        ("7.17.2", "2023-03-21"),
        ("8.1.1", "2024-03-08"),
    )


def many_lines(n: int) -> pd.DataFrame:
    """``n`` lines of two releases each; line i starts on day 10*i."""
    start = pd.Timestamp("2015-01-01")
    specs: list[tuple[str, str | None]] = []
    for i in range(n):
        major, minor = divmod(i, 10)
        specs.append((f"{major}.{minor}.0", str(start + pd.Timedelta(days=10 * i))))
        specs.append((f"{major}.{minor}.1", str(start + pd.Timedelta(days=10 * i + 3))))
    return tags(*specs, repository="many/lines")


@pytest.fixture(autouse=True)
def _close_figures(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def no_show(*_: object, **__: object) -> None:
        raise AssertionError("plot functions must never call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    yield
    plt.close("all")


def scatter_points(ax: plt.Axes) -> list[np.ndarray]:
    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


# ------------------------------------------------------------------ timeline


def test_timeline_points_rows_and_prerelease_marker() -> None:
    ax = rplot.timeline(history())
    finals, pres = scatter_points(ax)
    assert len(finals) == 7
    assert len(pres) == 1
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["7.17", "8.0", "8.1"]
    # the rc sits on the 8.0 row on its own date
    assert pres[0][1] == labels.index("8.0")
    assert mdates.num2date(pres[0][0]).date().isoformat() == "2022-01-20"
    assert "elastic/es" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # markers first, then what the colours mean and one entry per major
    assert legend == ["release", "prerelease", "colour: major", "7.x", "8.x"]


def test_timeline_finals_only_draws_one_collection() -> None:
    ax = rplot.timeline(history(), prereleases=False)
    assert [len(p) for p in scatter_points(ax)] == [7]
    assert ax.get_legend() is not None


@check_figures_equal(extensions=["png"])
def test_timeline_same_from_tags_or_releases(fig_test: plt.Figure, fig_ref: plt.Figure) -> None:
    df = history()
    rplot.timeline(df, ax=fig_test.subplots())
    rplot.timeline(cadence.releases(df, prereleases=True), ax=fig_ref.subplots())


def test_timeline_top_folds_old_lines_without_losing_points() -> None:
    df = many_lines(25)  # majors 0, 1, 2
    ax = rplot.timeline(df, top=5)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # the five newest lines (2.0-2.4) stay; 0.x and 1.x fold one row per major
    assert labels == ["0.0–0.9 (10 lines)", "1.0–1.9 (10 lines)", "2.0", "2.1", "2.2", "2.3", "2.4"]
    assert sum(len(p) for p in scatter_points(ax)) == 50
    every = rplot.timeline(df, top=None)
    assert len(every.get_yticklabels()) == 25


def test_folded_row_names_the_gap_left_by_a_kept_line() -> None:
    # 0.3 gets a late patch: it keeps a row of its own while 0.0-0.2 and 0.4 fold, so a
    # plain "0.0–0.4" label would seem to include it (the demo's elastic 7.3 did).
    df = pd.concat([many_lines(10), tags(("0.3.2", "2016-06-01"), repository="many/lines")])
    labels = [t.get_text() for t in rplot.lines(df, top=6).get_yticklabels()]
    assert labels[:2] == ["0.0–0.2, 0.4 (4 lines)", "0.3"]
    # a range with more than three gaps gives the count in the range instead
    late = [(f"0.{m}.2", f"2016-06-0{m}") for m in (1, 3, 5, 7)]
    df = pd.concat([many_lines(10), tags(*late, repository="many/lines")])
    labels = [t.get_text() for t in rplot.lines(df, top=4).get_yticklabels()]
    assert labels[0] == "0.0–0.9 (6 of 10 lines)"


def test_timeline_many_folded_majors_collapse_to_one_row() -> None:
    ax = rplot.timeline(many_lines(120), top=10)  # 12 majors, 11 of them folded
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 11
    assert labels[0] == "0.0–10.9 (110 lines)"


def test_top_must_be_positive() -> None:
    with pytest.raises(ValueError, match="top must be"):
        rplot.timeline(many_lines(3), top=0)


# ------------------------------------------------------------------ cadence


def test_cadence_stacked_bar_heights() -> None:
    ax = rplot.cadence(history(), "YS")
    assert len(ax.containers) == 2  # majors 7 and 8
    seven, eight = ([p.get_height() for p in c] for c in ax.containers)
    assert seven == [2, 1, 0]  # 2022, 2023, 2024
    assert eight == [3, 0, 1]  # the rc is not counted by default
    # the 8.x bars stand on the 7.x bars
    assert [p.get_y() for p in ax.containers[1]] == seven
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["8.x", "7.x"]
    # outside the axes: it cannot hide a bar
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1
    assert ax.get_title().endswith("releases per year")


def test_cadence_counts_prereleases_on_request_and_total_mode() -> None:
    ax = rplot.cadence(history(), "YS", prereleases=True, by=None)
    (bars,) = ax.containers
    assert [p.get_height() for p in bars] == [6, 1, 1]
    assert ax.get_legend() is None


def test_cadence_single_release_has_air_around_the_bar() -> None:
    ax = rplot.cadence(tags(("1.0.0", "2024-08-15")), "QS")
    (bars,) = ax.containers
    (bar,) = bars
    lo, hi = ax.get_xlim()
    assert lo < bar.get_x()
    assert bar.get_x() + bar.get_width() < hi
    assert bar.get_height() == 1


# ------------------------------------------------------------------ intervals


def test_intervals_points_per_major_and_labels() -> None:
    ax = rplot.intervals(history())
    points = scatter_points(ax)
    # 7.x: 7.17.0→7.17.1→7.17.2 = 2 gaps; 8.x: 8.0.0→8.0.1→8.1.0→8.1.1 = 3 gaps
    assert [len(p) for p in points] == [2, 3]
    assert sorted(points[0][:, 1].tolist()) == [20.0, 393.0]
    assert sorted(points[1][:, 1].tolist()) == [6.0, 20.0, 731.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["7.x\n(n=2)", "8.x\n(n=3)"]


def test_intervals_within_line() -> None:
    ax = rplot.intervals(history(), within="line", kind="strip")
    points = scatter_points(ax)
    assert sorted(points[1][:, 1].tolist()) == [20.0, 731.0]  # 8.0.0→8.0.1, 8.1.0→8.1.1
    assert not ax.lines  # strip: no box whiskers


def test_intervals_single_release_explains_itself() -> None:
    ax = rplot.intervals(tags(("1.0.0", "2024-08-15")))
    assert "two dated releases" in ax.texts[0].get_text()


# ------------------------------------------------------------------ lines


def test_lines_bars_span_first_to_last() -> None:
    ax = rplot.lines(history())
    bars = ax.patches
    assert len(bars) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["7.17", "8.0", "8.1"]
    widths = [round(b.get_width(), 6) for b in bars]
    assert widths == [413.0, 20.0, 731.0]
    assert [t.get_text() for t in ax.texts] == ["7.17.2 (3)", "8.0.1 (2)", "8.1.1 (2)"]


def test_lines_into_given_axes_and_folded_rows() -> None:
    _fig, given = plt.subplots()
    ax = rplot.lines(many_lines(25), ax=given, top=5)
    assert ax is given
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["0.0–0.9 (10 lines)", "1.0–1.9 (10 lines)"]
    assert ax.texts[0].get_text() == "20 releases"
    # folded bar spans from line 0.0's first release to line 0.9's last (day 93)
    assert round(ax.patches[0].get_width(), 6) == 93.0


def test_lines_single_release_is_visible() -> None:
    ax = rplot.lines(tags(("1.0.0", "2024-08-15")))
    (bar,) = ax.patches
    lo, hi = ax.get_xlim()
    assert bar.get_width() > 0
    assert hi - lo > 30


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("fn", [rplot.timeline, rplot.cadence, rplot.intervals, rplot.lines])
def test_no_dates_is_a_helpful_error(fn: object) -> None:
    df = history().drop(columns="created")
    with pytest.raises(cadence.MissingDatesError, match=r"dates=True"):
        fn(df)  # type: ignore[operator]


def test_nothing_versioned_is_a_helpful_error() -> None:
    df = history().iloc[0:0]
    with pytest.raises(cadence.NoReleasesError, match="nothing to plot"):
        rplot.timeline(df)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kind"):
        rplot.intervals(history(), kind="violin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="by must be"):
        rplot.cadence(history(), by="line")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DataFrame"):
        rplot.lines([1, 2])  # type: ignore[arg-type]
