"""The timeline chart: every release as a point at its release date, one row per line.

A release of a rebuilt line is drawn at ``released`` with a thin whisker from
``released_earliest`` to ``released_latest`` where those are more than a few days
apart: the release came out somewhere on the whisker.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from regframe._docstrings import fill_docs
from regframe._words import counted
from regframe.charts import common as _c

__all__ = ["WHISKER_MIN", "timeline"]

#: Bounds closer than this are drawn as a point only.
WHISKER_MIN = pd.Timedelta(days=3)
# Beyond this many majors the legend names the newest ones only.
_LEGEND_MAJORS = 12


def _colors(
    rel: pd.DataFrame, table: pd.DataFrame, images: list[str] | None
) -> tuple[list[Any], list[Any], str]:
    """Each point's colour, the legend entries for the colours, and what colour means."""
    if images is not None:
        by_image = _c.major_colors(images)
        handles = [Line2D([], [], marker="o", linestyle="", color=by_image[i], label=i)
                   for i in images]  # fmt: skip
        return [by_image[str(i)] for i in rel["image"].tolist()], handles, "colour: image"
    majors = table["major"].drop_duplicates().tolist()
    by_major = _c.major_colors(majors)
    shown = [m for m in majors if pd.notna(m)][-_LEGEND_MAJORS:]
    handles = [Line2D([], [], marker="o", linestyle="", color=by_major[m], label=f"{m}.x")
               for m in shown]  # fmt: skip
    if len(majors) > len(shown):
        handles.insert(0, Line2D([], [], linestyle="", label=f"… {len(majors) - len(shown)} older"))
    return [by_major[m] for m in rel["major"].tolist()], handles, "colour: major"


def _whiskers(ax: Axes, rel: pd.DataFrame, y: np.ndarray, colors: list[Any]) -> bool:
    """Draw the bounds of releases whose bounds are wide, under their row; whether any was drawn.

    Consecutive releases of a rebuilt line have touching bounds; drawn on one line they
    would read as one long bar, so they alternate between two heights under the row.
    """
    if "released_earliest" not in rel.columns or "released_latest" not in rel.columns:
        return False
    earliest, latest = rel["released_earliest"], rel["released_latest"]
    wide = (earliest.notna() & latest.notna() & ((latest - earliest) > WHISKER_MIN)).to_numpy()
    if not wide.any():
        return False
    order = pd.DataFrame({"y": y, "at": rel["released"]})[wide].sort_values(["y", "at"])
    nth = order.groupby("y").cumcount().reindex(rel.index[wide]).to_numpy()
    height = y[wide] - 0.17 - 0.12 * (nth % 2)
    left, right = _c.naive_utc(earliest[wide]), _c.naive_utc(latest[wide])
    shade = [c for c, w in zip(colors, wide, strict=True) if w]
    ax.hlines(height, left, right, colors=shade, linewidth=1.0, alpha=0.6, zorder=2)
    for ends in (left, right):
        ax.scatter(ends, height, marker="|", s=14, c=shade, linewidths=0.9, alpha=0.7, zorder=2)
    return True


def _points(ax: Axes, x: np.ndarray, y: np.ndarray, colors: list[Any], pre: np.ndarray) -> None:
    """Finals as filled circles, prereleases as hollow triangles."""
    final = ~pre
    ax.scatter(x[final], y[final], c=[c for c, f in zip(colors, final, strict=True) if f],
               marker="o", s=22, alpha=0.85, linewidths=0, zorder=3, label="release")  # fmt: skip
    if pre.any():
        ax.scatter(x[pre], y[pre], facecolors="none",
                   edgecolors=[c for c, p in zip(colors, pre, strict=True) if p],
                   marker="^", s=26, linewidths=0.9, zorder=3, label="prerelease")  # fmt: skip


def _legend(ax: Axes, color_handles: list[Any], meaning: str, pre: bool, whiskers: bool) -> None:
    handles: list[Any] = [Line2D([], [], marker="o", linestyle="", color="0.3", label="release")]
    if pre:
        handles.append(Line2D([], [], marker="^", linestyle="", markerfacecolor="none",
                              markeredgecolor="0.3", label="prerelease"))  # fmt: skip
    if whiskers:
        label = "rebuilt line: came out\nwithin the whisker,\nmost likely at the dot"
        handles.append(Line2D([], [], color="0.3", marker="|", linewidth=1.0, alpha=0.7,
                              label=label))  # fmt: skip
    handles.append(Line2D([], [], linestyle="", label=meaning))
    _c.outside_legend(ax, handles + color_handles)


@fill_docs
def timeline(
    df: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int | None = _c.DEFAULT_TOP,
    prereleases: bool = True,
) -> Axes:
    """Every release as a point: x = release date, y = its ``major.minor`` line.

    A release is drawn at ``released`` (see :func:`regframe.releases`); where its
    bounds are more than a few days apart (a rebuilt line), a thin whisker spans
    them.  Prereleases are hollow triangles; the legend says what colours, markers
    and whiskers mean.

    Parameters
    ----------
    {df}
    {ax}
    {top}
    {prereleases}

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = rf.plot.timeline(rf.read_tags("python", dates=True))  # doctest: +SKIP
    >>> ax.figure.savefig("timeline.png")  # doctest: +SKIP
    """
    rel, table, images = _c.lines_table(_c.releases_to_plot(df, prereleases, "timeline()"))
    rows = _c.fold_rows(table, top)
    row_of = {member: y for y, row in enumerate(rows) for member in row.members}
    ax = _c.new_axes(ax, 10.0, _c.row_height(len(rows)))
    y = rel["line"].map(row_of).to_numpy(dtype=float)
    colors, color_handles, meaning = _colors(rel, table, images)
    pre = rel["is_prerelease"].fillna(False).to_numpy(dtype=bool)
    whiskers = _whiskers(ax, rel, y, colors)
    _points(ax, _c.naive_utc(rel["released"]), y, colors, pre)
    _c.label_rows(ax, rows)
    ax.grid(axis="y", color="0.92", linewidth=0.8, zorder=0)
    ax.grid(axis="x", color="0.92", linewidth=0.6, linestyle=":", zorder=0)
    ax.set_axisbelow(True)
    _c.format_date_axis(ax)
    ax.set_xlabel("release date (UTC)")
    ax.set_ylabel("image and line" if images is not None else "line (major.minor)")
    ax.set_title(_c.title(rel, f"{counted(len(rel), 'release')} by date"))
    _legend(ax, color_handles, meaning, bool(pre.any()), whiskers)
    return ax
