"""What the charts of :mod:`regframe.plot` share: axes, colours, legends, folded rows, dates.

Every chart module (:mod:`.timeline`, :mod:`.cadence`, :mod:`.intervals`,
:mod:`.lines`, :mod:`.moves`) draws with these helpers, so a rule such as "grey
means folded lines" or "legends sit outside the axes" is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from regframe import cadence as _cad

__all__ = [
    "DEFAULT_TOP",
    "FOLDED_COLOR",
    "Row",
    "date_num",
    "date_x_axis",
    "fold_rows",
    "format_date_axis",
    "label_fontsize",
    "label_rows",
    "lighter",
    "line_rows",
    "lines_table",
    "major_colors",
    "naive_utc",
    "new_axes",
    "outside_legend",
    "releases_to_plot",
    "row_height",
    "several",
    "title",
]

DEFAULT_TOP = 30
# Beyond this many folded majors a per-major summary row is itself clutter.
_MAX_FOLDED_GROUPS = 8
#: Grey means "folded lines" (or "no version") in every chart.
FOLDED_COLOR = "0.55"


def releases_to_plot(df: pd.DataFrame, prereleases: bool, what: str) -> pd.DataFrame:
    """Releases with a date (version order); a clear error when there are none."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(df).__name__}")
    rel = _cad.as_releases(df, prereleases=prereleases)
    if rel.empty:
        raise _cad.NoReleasesError(
            f"{what}: nothing to plot, the frame has no versioned "
            "(semver, multipart or calver) release"
        )
    if "released" not in rel.columns and "created" not in rel.columns:
        rel = rel.assign(released=_cad.release_dates(rel))  # all NaT: "needs dates" below
    return _cad.dated_releases(rel, what).reset_index(drop=True)


def naive_utc(values: pd.Series | pd.DatetimeIndex | list[Any]) -> np.ndarray:
    """UTC datetimes as tz-naive numpy datetime64, which matplotlib plots directly."""
    index = pd.DatetimeIndex(values)
    index = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
    return np.asarray(index.to_numpy(dtype="datetime64[ns]"))


def date_num(values: pd.Series | pd.DatetimeIndex | list[Any]) -> np.ndarray:
    """Matplotlib's float day numbers, for bar geometry in date units."""
    return np.asarray(mdates.date2num(naive_utc(values)), dtype=float)  # type: ignore[no-untyped-call]


def new_axes(ax: Axes | None, width: float, height: float) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # lazy: importing regframe must not pick a backend

    _, new_ax = plt.subplots(figsize=(width, height), layout="constrained")
    return new_ax


def title(rel: pd.DataFrame, what: str) -> str:
    name = rel.attrs.get("repository") or rel.attrs.get("reference")
    if "image" in rel.columns:
        images = several(rel) or []
        name = ", ".join(images) if 1 < len(images) <= 3 else name
        if len(images) > 3:
            name = f"{len(images)} images"
    return f"{name}: {what}" if name else what


def several(rel: pd.DataFrame) -> list[str] | None:
    """The images of a frame holding more than one, in order of appearance; else ``None``."""
    if "image" not in rel.columns:
        return None
    images = [str(i) for i in dict.fromkeys(rel["image"].dropna().tolist())]
    return images if len(images) > 1 else None


def major_colors(majors: Sequence[Any]) -> dict[Any, Any]:
    """A stable color per major: qualitative maps while they suffice, then viridis.

    The greys of tab10/tab20 are skipped: grey means "folded lines" here.
    """
    import matplotlib as mpl

    n = len(majors)
    tab10 = [c for i, c in enumerate(mpl.colormaps["tab10"].colors) if i != 7]  # type: ignore[attr-defined]
    tab20 = [c for i, c in enumerate(mpl.colormaps["tab20"].colors) if i not in (14, 15)]  # type: ignore[attr-defined]
    if n <= len(tab10):
        palette = tab10[:n]
    elif n <= len(tab20):
        palette = tab20[:n]
    else:
        palette = [mpl.colormaps["viridis"](p) for p in np.linspace(0, 0.95, n)]
    return dict(zip(majors, palette, strict=True))


def label_fontsize(n_rows: int) -> float:
    return 9.0 if n_rows <= 30 else max(5.0, 9.0 - (n_rows - 30) / 15)


def format_date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def outside_legend(ax: Axes, handles: Sequence[Any], title: str | None = None) -> None:
    """Legend to the right of the axes: it cannot cover a single data point."""
    if not handles:
        return
    ncol = 1 + (len(handles) - 1) // 24
    ax.legend(
        handles=list(handles),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        frameon=False,
        title=title,
        ncol=ncol,
        fontsize="small",
    )


@dataclass(frozen=True)
class Row:
    """One row of a timeline/lines chart: a line, or several folded lines."""

    label: str
    members: tuple[str, ...]
    major: Any
    folded: bool


def fold_rows(table: pd.DataFrame, top: int | None) -> list[Row]:
    """Rows in version order: the ``top`` most recently active lines, the rest folded.

    ``table`` is :func:`regframe.cadence.lines` output (version order).
    """
    if top is not None and (not isinstance(top, int) or top < 1):
        raise ValueError(f"top must be a positive integer or None, not {top!r}")
    names = table["line"].tolist()
    majors = table["major"].tolist()
    if top is None or len(table) <= top:
        return [Row(n, (n,), m, False) for n, m in zip(names, majors, strict=True)]

    # most recent activity first; the version position breaks ties
    last = table["last"].fillna(pd.Timestamp.min.tz_localize("UTC"))
    recency = pd.DataFrame({"last": last, "pos": range(len(table))})
    keep = set(recency.sort_values(["last", "pos"], ascending=False).index[:top])

    folded: dict[Any, list[int]] = {}
    for i in range(len(table)):
        if i not in keep:
            folded.setdefault(majors[i], []).append(i)
    if len(folded) > _MAX_FOLDED_GROUPS:
        folded = {None: [i for group in folded.values() for i in group]}

    entries: list[tuple[int, Row]] = [
        (i, Row(names[i], (names[i],), majors[i], False)) for i in sorted(keep)
    ]
    for major, idx in folded.items():
        members = tuple(names[i] for i in idx)
        label = _folded_label(names, idx)
        entries.append((idx[0], Row(label, members, major, len(members) > 1)))
    return [row for _, row in sorted(entries, key=lambda e: e[0])]


def _folded_label(names: list[str], idx: list[int]) -> str:
    """``5.0–5.6 (7 lines)``; the gaps named where a kept line sits among the folded ones.

    A recently patched old line keeps a row of its own, and a plain ``7.0–7.4`` would
    seem to hold it too.  Past three runs the label gives the count in the range instead.

    Examples
    --------
    >>> names = ["7.0", "7.1", "7.2", "7.3", "7.4"]
    >>> _folded_label(names, [0, 1, 2, 4])
    '7.0–7.2, 7.4 (4 lines)'
    >>> _folded_label(names, [0, 2, 4])
    '7.0, 7.2, 7.4 (3 lines)'
    """
    if len(idx) == 1:
        return names[idx[0]]
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    if len(runs) > 3:
        span = idx[-1] - idx[0] + 1
        return f"{names[idx[0]]}–{names[idx[-1]]} ({len(idx)} of {span} lines)"
    parts = [names[r[0]] if len(r) == 1 else f"{names[r[0]]}–{names[r[-1]]}" for r in runs]
    return f"{', '.join(parts)} ({len(idx)} lines)"


def lines_table(rel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str] | None]:
    """``(rel, lines table, images)``; with several images, lines are keyed ``python 3.12``.

    One block of rows per image, and folded rows group by (image, major), so one
    image's old lines never absorb another's.  ``images`` is ``None`` for one image.
    """
    table = _cad.lines(rel)
    images = several(rel)
    if images is None:
        return rel, table, None
    rel = rel.assign(line=rel["image"].astype("string") + " " + rel["line"])
    pairs: list[Any] = list(zip(table["image"].tolist(), table["major"].tolist(), strict=True))
    table = table.assign(
        line=table["image"].astype("string") + " " + table["line"],
        major=pd.Series(pairs, index=table.index, dtype=object),
    )
    return rel, table, images


def line_rows(table: pd.DataFrame, top: int | None = DEFAULT_TOP) -> list[Row]:
    """The rows a timeline or lines chart of :func:`regframe.cadence.lines` ``table`` shows."""
    return fold_rows(table, top)


def row_height(n_rows: int) -> float:
    """Figure height (inches) for a chart with ``n_rows`` rows of lines."""
    return float(np.clip(1.6 + 0.24 * n_rows, 3.0, 16.0))


# --------------------------------------------------------------------------- charts


def label_rows(ax: Axes, rows: Sequence[Row]) -> None:
    """Row labels on the y axis (folded rows in grey), one row per unit, a little air."""
    ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=label_fontsize(len(rows)))
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.folded:
            tick.set_color(FOLDED_COLOR)
    ax.set_ylim(-0.7, len(rows) - 0.3)


def lighter(color: Any, amount: float) -> tuple[float, float, float]:
    """``color`` mixed with white: 0 keeps it, 1 is white."""
    import matplotlib.colors as mcolors

    r, g, b = mcolors.to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def date_x_axis(ax: Axes, lo: float, hi: float, *, room: float, label: str) -> None:
    """A date x axis over ``lo``–``hi`` (date numbers), 2 % air left, ``room`` of it right."""
    span = hi - lo
    ax.set_xlim(lo - span * 0.02, hi + span * room)
    ax.xaxis_date()
    format_date_axis(ax)
    ax.grid(axis="x", color="0.92", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(label)
