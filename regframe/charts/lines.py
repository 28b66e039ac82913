"""The lines chart: the life of each ``major.minor`` line as a bar, first to last release date."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from regframe._docstrings import fill_docs
from regframe._words import counted
from regframe.charts import common as _c

__all__ = ["lines"]


@fill_docs
def lines(
    df: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int | None = _c.DEFAULT_TOP,
    prereleases: bool = False,
) -> Axes:
    """Life of each ``major.minor`` line as a horizontal bar, first to last release date.

    A bar runs from the line's first release date to its last
    (:func:`regframe.cadence.lines`) and ends in the latest version and the number
    of releases; a folded row's bar spans all the lines folded into it.

    Parameters
    ----------
    {df}
    {ax}
    {top}
    {prereleases}

    Returns
    -------
    matplotlib.axes.Axes
        One bar per row (``ax.patches``), labelled with the latest version
        and the release count.

    Examples
    --------
    >>> rf.plot.lines(df, top=20)  # doctest: +SKIP
    """
    rel, table, images = _c.lines_table(_c.releases_to_plot(df, prereleases, "lines()"))
    rows = _c.fold_rows(table, top)
    if images is not None:
        by_image = _c.major_colors(images)
        colors = {m: by_image[str(m[0])] for m in table["major"].tolist()}
    else:
        colors = _c.major_colors(table["major"].drop_duplicates().tolist())
    ax = _c.new_axes(ax, 10.0, _c.row_height(len(rows)))

    by_line = table.set_index("line")
    starts, ends = [], []
    for row in rows:
        part = by_line.loc[list(row.members)]
        starts.append(part["first"].min())
        ends.append(part["last"].max())
    left, right = _c.date_num(starts), _c.date_num(ends)
    lo, hi = float(left.min()), float(right.max())
    if hi - lo < 1.0:  # a single build day: show a month either side
        lo, hi = lo - 30.0, hi + 30.0
    span = hi - lo
    # a line with one release still gets a visible sliver
    width = np.maximum(right - left, span * 0.004)
    bar_colors = [_c.FOLDED_COLOR if r.folded else colors[r.major] for r in rows]
    ax.barh(np.arange(len(rows)), width, left=left, height=0.62, color=bar_colors,
            edgecolor="none")  # fmt: skip
    fontsize = _c.label_fontsize(len(rows))
    for y, (row, end) in enumerate(zip(rows, left + width, strict=True)):
        part = by_line.loc[list(row.members)]
        count = int(part["n_releases"].sum())
        text = counted(count, "release") if row.folded else f"{part['latest'].iloc[-1]} ({count})"
        ax.text(end + span * 0.006, y, text, va="center", ha="left",
                fontsize=fontsize * 0.85, color="0.25", clip_on=False)  # fmt: skip
    _c.label_rows(ax, rows)
    # room on the right for the end-of-bar labels
    _c.date_x_axis(ax, lo, hi, room=0.14, label="release date (UTC)")
    ax.set_ylabel("image and line" if images is not None else "line (major.minor)")
    ax.set_title(_c.title(rel, f"life of {counted(len(table), 'release line')}"))
    return ax
