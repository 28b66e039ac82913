"""The cadence chart: releases per period as bars, stacked by major or by image."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from regframe import cadence as _cad
from regframe._docstrings import fill_docs
from regframe.charts import common as _c

__all__ = ["cadence"]


@fill_docs
def cadence(
    df: pd.DataFrame,
    freq: str = "QS",
    *,
    ax: Axes | None = None,
    by: Literal["major", "image"] | None = "major",
    prereleases: bool = False,
) -> Axes:
    """Releases per period as bars, stacked by major (or by image).

    A bar counts the releases whose ``released`` date falls in its period
    (:func:`regframe.cadence.per_period`); every period between the first and the
    last release has its place, so a pause shows as a gap.

    Parameters
    ----------
    {df}
    {freq}
    {ax}
    by
        ``"major"`` stacks one color per major; ``"image"`` one color per
        image of a several-images frame (``read_tags([...])``); ``None``
        draws single bars.
    {prereleases}

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers`` holds one bar container per major (or image), bottom first.

    Examples
    --------
    >>> rf.plot.cadence(df, "YS")  # doctest: +SKIP
    """
    if by not in ("major", "image", None):
        raise ValueError(f"by must be 'major', 'image' or None, not {by!r}")
    if by == "image" and (not isinstance(df, pd.DataFrame) or "image" not in df.columns):
        raise ValueError(
            "by='image' needs a several-images frame: regframe.read_tags([image, ...])"
        )
    rel = _c.releases_to_plot(df, prereleases, "cadence()")
    counts = _cad.per_period(rel, freq, by=by)
    starts = pd.DatetimeIndex(counts.index)
    left = _c.date_num(starts)
    width = (_c.date_num(starts + pd.tseries.frequencies.to_offset(freq)) - left) * 0.85

    ax = _c.new_axes(ax, 10.0, 4.5)
    groups = counts.columns.tolist()
    colors = _c.major_colors(groups) if by is not None else {"releases": "tab:blue"}
    bottom = np.zeros(len(counts))
    for group in groups:
        heights = counts[group].to_numpy(dtype=float)
        label = {"major": f"{group}.x", "image": str(group)}.get(str(by), "releases")
        ax.bar(left, heights, width=width, bottom=bottom, align="edge",
               color=colors[group], label=label, edgecolor="white", linewidth=0.3)  # fmt: skip
        bottom += heights
    ax.xaxis_date()
    _c.format_date_axis(ax)
    # half a period of air either side, so one lone bar does not fill the axes
    pad = float(np.max(width)) / 0.85 * 0.5
    ax.set_xlim(float(left[0]) - pad, float(left[-1] + width[-1]) + pad)
    ax.set_ylim(0, max(1.0, float(np.max(bottom))) * 1.06)
    ax.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    period = {"YS": "year", "QS": "quarter", "MS": "month"}.get(freq, freq)
    ax.set_ylabel(f"releases per {period}")
    ax.set_xlabel("release date (UTC)")
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title(_c.title(rel, f"releases per {period}"))
    if by is not None:
        handles, _ = ax.get_legend_handles_labels()
        # the legend reads top-down like the stack
        _c.outside_legend(ax, handles[::-1], title=by)
    return ax
