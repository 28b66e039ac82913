"""The moves chart: when each tag pointed where, from :func:`regframe.history`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from regframe._docstrings import fill_docs
from regframe._words import counted
from regframe.charts import common as _c

__all__ = ["moves"]


_MOVES_LEGEND_MAX = 20


_MOVES_COLUMNS = ("tag", "digest", "first_seen", "last_seen")


@fill_docs
def moves(
    hist: pd.DataFrame,
    tags: str | Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """When each tag pointed where: a row per tag, a bar per interval of :func:`regframe.history`.

    A bar runs from the interval's ``first_seen`` to its ``last_seen`` and is
    coloured by the version its digest resolved to (``resolves_to``), so a
    floating tag such as ``latest`` shows its moves as a change of colour;
    digests no version tag ever pointed at are grey, and a rebuild (a new
    digest for the same version) is a lighter shade.  A ``▸`` marks each
    tag's current interval.  A thin grey line joins two intervals of a tag
    where the move happened unseen, between two reads (``observed``
    intervals start when regframe first saw them, not at the push).

    Parameters
    ----------
    hist
        A frame from :func:`regframe.history`.
    tags
        Only these tags, in this order (default: every tag, in version order).
    {ax}

    Returns
    -------
    matplotlib.axes.Axes
        One bar per interval (``ax.patches``).

    Examples
    --------
    >>> import regframe as rf
    >>> ax = rf.plot.moves(rf.history("localhost:5000/app"), tags=["latest", "3"])  # doctest: +SKIP
    """
    hist, order = _rows_of(hist, tags)
    ax = _c.new_axes(ax, 10.0, _c.row_height(len(order)))
    name = hist.attrs.get("repository")
    if hist.empty:
        ax.text(0.5, 0.5, "no history recorded", transform=ax.transAxes, ha="center",
                va="center", color="0.4")  # fmt: skip
        ax.set_title(f"{name}: tag moves" if name else "tag moves")
        ax.set_yticks([])
        return ax
    resolved = (
        hist["resolves_to"] if "resolves_to" in hist.columns
        else pd.Series(pd.NA, index=hist.index, dtype="string")
    )  # fmt: skip
    versions = _versions(resolved)
    colors = _c.major_colors(versions) if versions else {}
    left, width, (lo, hi) = _geometry(hist)
    span = hi - lo
    y = hist["tag"].map({tag: y for y, tag in enumerate(order)}).to_numpy(dtype=float)
    ax.barh(y, width, left=left, height=0.6, color=_bar_colors(hist, resolved, colors),
            edgecolor="white", linewidth=0.6)  # fmt: skip
    _unseen_moves(ax, y, left, width)
    if "current" in hist.columns:
        now = hist["current"].fillna(False).to_numpy(dtype=bool)
        ax.scatter(left[now] + width[now] + span * 0.004, y[now], marker=">", s=18,
                   color="0.2", zorder=3, linewidths=0)  # fmt: skip
    ax.set_yticks(range(len(order)), order, fontsize=_c.label_fontsize(len(order)))
    ax.invert_yaxis()
    _c.date_x_axis(ax, lo, hi, room=0.04, label="seen (UTC)")
    ax.set_ylabel("tag")
    ax.set_title(_title(hist, len(order), name))
    _legend(ax, versions, colors, resolved)
    return ax


def _rows_of(
    hist: pd.DataFrame, tags: str | Sequence[str] | None
) -> tuple[pd.DataFrame, list[str]]:
    """The intervals to draw and the tags as rows, in the asked or in version order."""
    from regframe.parsing.versions import parse_tags, sort_tags

    if not isinstance(hist, pd.DataFrame):
        raise TypeError(f"moves() expects a pandas DataFrame, got {type(hist).__name__}")
    missing = [c for c in _MOVES_COLUMNS if c not in hist.columns]
    if missing:
        raise ValueError(
            f"moves() needs a frame from regframe.history(); missing column(s): {missing}"
        )
    if isinstance(tags, str):
        tags = [tags]
    if tags is not None:
        order = [str(t) for t in tags]
        return hist[hist["tag"].isin(order)], order
    names = pd.Series(hist["tag"].dropna().unique(), dtype="string")
    return hist, [str(t) for t in sort_tags(parse_tags(names))["tag"]]


def _versions(resolved: pd.Series) -> list[str]:
    """The versions the digests resolved to, in version order."""
    from regframe.parsing.versions import parse_tags, sort_tags

    versions = pd.Series(resolved.dropna().unique(), dtype="string")
    return [str(v) for v in sort_tags(parse_tags(versions))["tag"]]


def _geometry(hist: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Bar starts and widths in date numbers, and the span of the x axis."""
    left = _c.date_num(hist["first_seen"])
    right = _c.date_num(hist["last_seen"])
    lo, hi = float(left.min()), float(right.max())
    second = 1.0 / 86_400
    if hi - lo < 2 * second:  # a single read: a few seconds either side
        lo, hi = lo - 5 * second, hi + 5 * second
    # An interval seen by one read only has no length: it still gets a visible sliver.
    return left, np.maximum(right - left, (hi - lo) * 0.01), (lo, hi)


def _bar_colors(hist: pd.DataFrame, resolved: pd.Series, colors: dict[Any, Any]) -> list[Any]:
    """Each interval's colour: its version's, lighter for each further digest (a rebuild)."""
    shade: dict[Any, int] = {}
    bar_colors: list[Any] = []
    for version, digest in zip(resolved.tolist(), hist["digest"].tolist(), strict=True):
        if not isinstance(version, str):
            bar_colors.append(_c.FOLDED_COLOR)
            continue
        nth = shade.setdefault((version, digest), sum(1 for v, _ in shade if v == version))
        bar_colors.append(_c.lighter(colors[version], 0.45 if nth % 2 else 0.0))
    return bar_colors


def _unseen_moves(ax: Axes, y: np.ndarray, left: np.ndarray, width: np.ndarray) -> None:
    """Between two observed intervals the move happened somewhere: a thin line says so."""
    order_idx = pd.DataFrame({"y": y, "l": left, "r": left + width}).sort_values(["y", "l"])
    for _, part in order_idx.groupby("y", sort=False):
        ends, starts = part["r"].to_numpy()[:-1], part["l"].to_numpy()[1:]
        for row_y, a, b in zip(part["y"].to_numpy()[1:], ends, starts, strict=True):
            if b > a:
                ax.plot([a, b], [row_y, row_y], color="0.7", linewidth=0.8, zorder=1)


def _title(hist: pd.DataFrame, n_tags: int, name: Any) -> str:
    moved = int((hist.groupby("tag", observed=True).size() - 1).clip(lower=0).sum())
    what = f"{counted(n_tags, 'tag')}, {counted(moved, 'move')}"
    if "source" in hist.columns:
        what += f" ({' + '.join(sorted(hist['source'].dropna().astype(str).unique()))})"
    return f"{name}: {what}" if name else what


def _legend(ax: Axes, versions: list[str], colors: dict[Any, Any], resolved: pd.Series) -> None:
    from matplotlib.patches import Patch

    handles: list[Any] = [Patch(color=colors[v], label=v) for v in versions[-_MOVES_LEGEND_MAX:]]
    if len(versions) > _MOVES_LEGEND_MAX:
        older = len(versions) - _MOVES_LEGEND_MAX
        handles.insert(0, Patch(color="white", label=f"… {older} older"))
    if any(not isinstance(v, str) for v in resolved.tolist()):
        handles.append(Patch(color=_c.FOLDED_COLOR, label="no version tag"))
    _c.outside_legend(ax, handles, title="points at")
