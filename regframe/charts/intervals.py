"""The intervals chart: the days between consecutive releases, one column per major."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from regframe import cadence as _cad
from regframe._docstrings import fill_docs
from regframe.charts import common as _c

__all__ = ["intervals"]


@fill_docs
def intervals(
    df: pd.DataFrame,
    *,
    ax: Axes | None = None,
    within: Literal["major", "line"] = "major",
    kind: Literal["box", "strip"] = "box",
    log: bool = False,
    prereleases: bool = False,
) -> Axes:
    """Distribution of days between consecutive releases, one column per major.

    Each point is one release's gap to the release before it
    (:func:`regframe.cadence.intervals`), spread sideways so equal gaps stay apart;
    a box (``kind="box"``) spans the middle half of the gaps, the median its line.

    Parameters
    ----------
    {df}
    {ax}
    within
        ``"major"``: gaps between consecutive releases of the major (any line);
        ``"line"``: gaps between patch releases of the same ``major.minor``.
    kind
        ``"box"`` (box plot with the points over it) or ``"strip"`` (points only).
    log
        Logarithmic (symlog) day axis for very skewed gaps.
    {prereleases}

    Returns
    -------
    matplotlib.axes.Axes
        With fewer than two dated releases per major the axes says so in text.

    Examples
    --------
    >>> rf.plot.intervals(df, within="line")  # doctest: +SKIP
    """
    if kind not in ("box", "strip"):
        raise ValueError(f"kind must be 'box' or 'strip', not {kind!r}")
    if within not in ("major", "line"):
        raise ValueError(f"within must be 'major' or 'line', not {within!r}")
    rel = _c.releases_to_plot(df, prereleases, "intervals()")
    gaps = _cad.intervals(rel, by=within)
    if within == "line":
        major_of_line = rel.drop_duplicates("line").set_index("line")["major"]
        gaps["major"] = gaps["line"].map(major_of_line)
    gaps = gaps[gaps["major"].notna()]
    majors = sorted(gaps["major"].unique().tolist())
    data = [gaps.loc[gaps["major"] == m, "days"].to_numpy(dtype=float) for m in majors]

    ax = _c.new_axes(ax, max(7.0, 1.6 + 0.55 * len(majors)), 4.5)
    what = "patch releases" if within == "line" else "releases"
    ax.set_title(_c.title(rel, f"days between {what}"))
    if not majors:
        ax.text(0.5, 0.5, "needs at least two dated releases\nin the same "
                f"{within} to show a gap", ha="center", va="center",
                transform=ax.transAxes, color="0.4")  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    colors = _c.major_colors(majors)
    positions = np.arange(1, len(majors) + 1, dtype=float)
    if kind == "box":
        ax.boxplot(data, positions=positions, widths=0.6, showfliers=False,
                   medianprops={"color": "black"}, patch_artist=False)  # fmt: skip
    rng = np.random.default_rng(0)  # fixed jitter: same data, same picture
    for pos, values, major in zip(positions, data, majors, strict=True):
        jitter = rng.uniform(-0.18, 0.18, size=len(values))
        ax.scatter(pos + jitter, values, s=10, alpha=0.6, color=colors[major],
                   linewidths=0, zorder=3)  # fmt: skip
    ax.set_xticks(
        positions,
        [f"{m}.x\n(n={len(v)})" for m, v in zip(majors, data, strict=True)],
        fontsize=_c.label_fontsize(len(majors)),
    )
    ax.set_xlim(0.4, len(majors) + 0.6)
    top = max(float(max(v.max() for v in data if len(v))), 1.0)
    if log:
        ax.set_yscale("symlog", linthresh=1.0)
    # explicit headroom: the slowest gap is the point people look for
    ax.set_ylim(0, top * (1.6 if log else 1.06))
    ax.set_ylabel("days")
    ax.set_xlabel("major")
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    return ax
