"""Release-cadence charts on matplotlib Axes.

Every function takes the tags frame (:func:`regframe.read_tags` with
``dates=True``) *or* the releases frame (:func:`regframe.releases`), draws on
``ax`` (a new constrained-layout figure when ``ax`` is None) and returns the
Axes.  Nothing here calls ``plt.show()``: in a notebook the figure shows
itself, in a script call ``ax.figure.savefig(...)``.

Long histories stay readable: ``top=`` keeps the N most recently active
``major.minor`` lines as rows of their own and folds the others, major by
major, into summary rows such as ``7.0–7.16 (17 lines)``.  Legends sit
outside the plotting area so they never hide data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from regframe import cadence as _cad

__all__ = [
    "KINDS", "cadence", "intervals", "line_rows", "lines", "moves", "row_height", "timeline",
]  # fmt: skip

#: The release-cadence charts, each a function of this module taking a frame and ``ax``.
KINDS = _cad.PLOT_KINDS

_DEFAULT_TOP = 30
# Beyond this many folded majors a per-major summary row is itself clutter.
_MAX_FOLDED_GROUPS = 8
_FOLDED_COLOR = "0.55"


# --------------------------------------------------------------------------- shared helpers


def _releases(df: pd.DataFrame, prereleases: bool, what: str) -> pd.DataFrame:
    """Releases with a date (version order); a clear error when there are none."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(df).__name__}")
    rel = _cad.as_releases(df, prereleases=prereleases)
    if rel.empty:
        raise _cad.NoReleasesError(
            f"{what}: nothing to plot, the frame has no versioned "
            "(semver, multipart or calver) release"
        )
    if "created" not in rel.columns:
        rel = rel.assign(created=pd.Series(pd.NaT, index=rel.index, dtype="datetime64[ns, UTC]"))
    return _cad.dated_releases(rel, what).reset_index(drop=True)


def _naive_utc(values: pd.Series | pd.DatetimeIndex | list[Any]) -> np.ndarray:
    """UTC datetimes as tz-naive numpy datetime64, which matplotlib plots directly."""
    index = pd.DatetimeIndex(values)
    index = index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
    return np.asarray(index.to_numpy(dtype="datetime64[ns]"))


def _date_num(values: pd.Series | pd.DatetimeIndex | list[Any]) -> np.ndarray:
    """Matplotlib's float day numbers, for bar geometry in date units."""
    return np.asarray(mdates.date2num(_naive_utc(values)), dtype=float)  # type: ignore[no-untyped-call]


def _new_axes(ax: Axes | None, width: float, height: float) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # lazy: importing regframe must not pick a backend

    _, new_ax = plt.subplots(figsize=(width, height), layout="constrained")
    return new_ax


def _title(rel: pd.DataFrame, what: str) -> str:
    name = rel.attrs.get("repository") or rel.attrs.get("reference")
    if "image" in rel.columns:
        images = _several(rel) or []
        name = ", ".join(images) if 1 < len(images) <= 3 else name
        if len(images) > 3:
            name = f"{len(images)} images"
    return f"{name}: {what}" if name else what


def _several(rel: pd.DataFrame) -> list[str] | None:
    """The images of a frame holding more than one, in order of appearance; else ``None``."""
    if "image" not in rel.columns:
        return None
    images = [str(i) for i in dict.fromkeys(rel["image"].dropna().tolist())]
    return images if len(images) > 1 else None


def _major_colors(majors: Sequence[Any]) -> dict[Any, Any]:
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _label_fontsize(n_rows: int) -> float:
    return 9.0 if n_rows <= 30 else max(5.0, 9.0 - (n_rows - 30) / 15)


def _format_date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _outside_legend(ax: Axes, handles: Sequence[Any], title: str | None = None) -> None:
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
class _Row:
    """One row of a timeline/lines chart: a line, or several folded lines."""

    label: str
    members: tuple[str, ...]
    major: Any
    folded: bool


def _rows(table: pd.DataFrame, top: int | None) -> list[_Row]:
    """Rows in version order: the ``top`` most recently active lines, the rest folded.

    ``table`` is :func:`regframe.cadence.lines` output (version order).
    """
    if top is not None and (not isinstance(top, int) or top < 1):
        raise ValueError(f"top must be a positive integer or None, not {top!r}")
    names = table["line"].tolist()
    majors = table["major"].tolist()
    if top is None or len(table) <= top:
        return [_Row(n, (n,), m, False) for n, m in zip(names, majors, strict=True)]

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

    entries: list[tuple[int, _Row]] = [
        (i, _Row(names[i], (names[i],), majors[i], False)) for i in sorted(keep)
    ]
    for major, idx in folded.items():
        members = tuple(names[i] for i in idx)
        label = (
            members[0]
            if len(members) == 1
            else (f"{members[0]}–{members[-1]} ({len(members)} lines)")
        )
        entries.append((idx[0], _Row(label, members, major, len(members) > 1)))
    return [row for _, row in sorted(entries, key=lambda e: e[0])]


def _lines_table(rel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str] | None]:
    """``(rel, lines table, images)``; with several images, lines are keyed ``python 3.12``.

    One block of rows per image, and folded rows group by (image, major), so one
    image's old lines never absorb another's.  ``images`` is ``None`` for one image.
    """
    table = _cad.lines(rel)
    images = _several(rel)
    if images is None:
        return rel, table, None
    rel = rel.assign(line=rel["image"].astype("string") + " " + rel["line"])
    pairs: list[Any] = list(zip(table["image"].tolist(), table["major"].tolist(), strict=True))
    table = table.assign(
        line=table["image"].astype("string") + " " + table["line"],
        major=pd.Series(pairs, index=table.index, dtype=object),
    )
    return rel, table, images


def line_rows(table: pd.DataFrame, top: int | None = _DEFAULT_TOP) -> list[_Row]:
    """The rows a timeline or lines chart of :func:`regframe.cadence.lines` ``table`` shows."""
    return _rows(table, top)


def row_height(n_rows: int) -> float:
    """Figure height (inches) for a chart with ``n_rows`` rows of lines."""
    return float(np.clip(1.6 + 0.24 * n_rows, 3.0, 16.0))


# --------------------------------------------------------------------------- charts


def timeline(
    df: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int | None = _DEFAULT_TOP,
    prereleases: bool = True,
) -> Axes:
    """Every release as a point: x = build date, y = its ``major.minor`` line.

    Parameters
    ----------
    df
        Tags frame with dates, or a releases frame.
    ax
        Axes to draw on; a new figure when None.
    top
        Keep the N most recently active lines as rows; fold the rest into one
        row per major (``None`` = one row per line).
    prereleases
        With a tags frame, include prereleases (drawn as hollow triangles).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = rf.plot.timeline(rf.read_tags("python", dates=True))  # doctest: +SKIP
    >>> ax.figure.savefig("timeline.png")  # doctest: +SKIP
    """
    rel, table, images = _lines_table(_releases(df, prereleases, "timeline()"))
    rows = _rows(table, top)
    row_of = {member: y for y, row in enumerate(rows) for member in row.members}
    ax = _new_axes(ax, 10.0, row_height(len(rows)))
    x = _naive_utc(rel["created"])
    y = rel["line"].map(row_of).to_numpy(dtype=float)
    if images is not None:
        colors = _major_colors(images)
        point_colors = [colors[str(i)] for i in rel["image"].tolist()]
        color_handles = [
            Line2D([], [], marker="o", linestyle="", color=colors[i], label=i) for i in images
        ]
    else:
        colors = _major_colors(table["major"].drop_duplicates().tolist())
        point_colors = [colors[m] for m in rel["major"].tolist()]
        color_handles = []
    pre = rel["is_prerelease"].fillna(False).to_numpy(dtype=bool)
    final = ~pre
    ax.scatter(
        x[final],
        y[final],
        c=[c for c, f in zip(point_colors, final, strict=True) if f],
        marker="o",
        s=22,
        alpha=0.85,
        linewidths=0,
        zorder=3,
        label="release",
    )
    handles: list[Any] = [Line2D([], [], marker="o", linestyle="", color="0.3", label="release")]
    handles.extend(color_handles)
    if pre.any():
        ax.scatter(
            x[pre],
            y[pre],
            facecolors="none",
            edgecolors=[c for c, p in zip(point_colors, pre, strict=True) if p],
            marker="^",
            s=26,
            linewidths=0.9,
            zorder=3,
            label="prerelease",
        )
        handles.append(
            Line2D(
                [], [], marker="^", linestyle="", markerfacecolor="none",
                markeredgecolor="0.3", label="prerelease",
            )
        )  # fmt: skip

    ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=_label_fontsize(len(rows)))
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.folded:
            tick.set_color(_FOLDED_COLOR)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="y", color="0.92", linewidth=0.8, zorder=0)
    ax.grid(axis="x", color="0.92", linewidth=0.6, linestyle=":", zorder=0)
    ax.set_axisbelow(True)
    _format_date_axis(ax)
    ax.set_xlabel("build date (UTC)")
    ax.set_ylabel("image and line" if images is not None else "line (major.minor)")
    ax.set_title(_title(rel, f"{_plural(len(rel), 'release')} by date"))
    _outside_legend(ax, handles)
    return ax


def cadence(
    df: pd.DataFrame,
    freq: str = "QS",
    *,
    ax: Axes | None = None,
    by: Literal["major", "image"] | None = "major",
    prereleases: bool = False,
) -> Axes:
    """Releases per period as bars, stacked by major (or by image).

    Parameters
    ----------
    df
        Tags frame with dates, or a releases frame.
    freq
        ``"YS"``, ``"QS"`` (default) or ``"MS"`` — any pandas period-start alias.
    ax
        Axes to draw on; a new figure when None.
    by
        ``"major"`` stacks one color per major; ``"image"`` one color per
        image of a several-images frame (``read_tags([...])``); ``None``
        draws single bars.
    prereleases
        With a tags frame, count prereleases too.

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
    rel = _releases(df, prereleases, "cadence()")
    counts = _cad.per_period(rel, freq, by=by)
    starts = pd.DatetimeIndex(counts.index)
    left = _date_num(starts)
    width = (_date_num(starts + pd.tseries.frequencies.to_offset(freq)) - left) * 0.85

    ax = _new_axes(ax, 10.0, 4.5)
    groups = counts.columns.tolist()
    colors = _major_colors(groups) if by is not None else {"releases": "tab:blue"}
    bottom = np.zeros(len(counts))
    for group in groups:
        heights = counts[group].to_numpy(dtype=float)
        label = {"major": f"{group}.x", "image": str(group)}.get(str(by), "releases")
        ax.bar(left, heights, width=width, bottom=bottom, align="edge",
               color=colors[group], label=label, edgecolor="white", linewidth=0.3)  # fmt: skip
        bottom += heights
    ax.xaxis_date()
    _format_date_axis(ax)
    # half a period of air either side, so one lone bar does not fill the axes
    pad = float(np.max(width)) / 0.85 * 0.5
    ax.set_xlim(float(left[0]) - pad, float(left[-1] + width[-1]) + pad)
    ax.set_ylim(0, max(1.0, float(bottom.max())) * 1.06)
    ax.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    period = {"YS": "year", "QS": "quarter", "MS": "month"}.get(freq, freq)
    ax.set_ylabel(f"releases per {period}")
    ax.set_xlabel("build date (UTC)")
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_title(_title(rel, f"releases per {period}"))
    if by is not None:
        handles, _ = ax.get_legend_handles_labels()
        # the legend reads top-down like the stack
        _outside_legend(ax, handles[::-1], title=by)
    return ax


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

    Parameters
    ----------
    df
        Tags frame with dates, or a releases frame.
    ax
        Axes to draw on; a new figure when None.
    within
        ``"major"``: gaps between consecutive releases of the major (any line);
        ``"line"``: gaps between patch releases of the same ``major.minor``.
    kind
        ``"box"`` (box plot with the points over it) or ``"strip"`` (points only).
    log
        Logarithmic (symlog) day axis for very skewed gaps.
    prereleases
        With a tags frame, include prereleases.

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
    rel = _releases(df, prereleases, "intervals()")
    gaps = _cad.intervals(rel, by=within)
    if within == "line":
        major_of_line = rel.drop_duplicates("line").set_index("line")["major"]
        gaps["major"] = gaps["line"].map(major_of_line)
    gaps = gaps[gaps["major"].notna()]
    majors = sorted(gaps["major"].unique().tolist())
    data = [gaps.loc[gaps["major"] == m, "days"].to_numpy(dtype=float) for m in majors]

    ax = _new_axes(ax, max(7.0, 1.6 + 0.55 * len(majors)), 4.5)
    what = "patch releases" if within == "line" else "releases"
    ax.set_title(_title(rel, f"days between {what}"))
    if not majors:
        ax.text(0.5, 0.5, "needs at least two dated releases\nin the same "
                f"{within} to show a gap", ha="center", va="center",
                transform=ax.transAxes, color="0.4")  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    colors = _major_colors(majors)
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
        fontsize=_label_fontsize(len(majors)),
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


def lines(
    df: pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int | None = _DEFAULT_TOP,
    prereleases: bool = False,
) -> Axes:
    """Life of each ``major.minor`` line as a horizontal bar, first to last release.

    Parameters
    ----------
    df
        Tags frame with dates, or a releases frame.
    ax
        Axes to draw on; a new figure when None.
    top
        Keep the N most recently active lines as bars; fold the rest into one
        grey bar per major spanning them (``None`` = every line).
    prereleases
        With a tags frame, let prereleases start a line's life.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per row (``ax.patches``), labelled with the latest version
        and the release count.

    Examples
    --------
    >>> rf.plot.lines(df, top=20)  # doctest: +SKIP
    """
    rel, table, images = _lines_table(_releases(df, prereleases, "lines()"))
    rows = _rows(table, top)
    if images is not None:
        by_image = _major_colors(images)
        colors = {m: by_image[str(m[0])] for m in table["major"].tolist()}
    else:
        colors = _major_colors(table["major"].drop_duplicates().tolist())
    ax = _new_axes(ax, 10.0, row_height(len(rows)))

    by_line = table.set_index("line")
    starts, ends = [], []
    for row in rows:
        part = by_line.loc[list(row.members)]
        starts.append(part["first"].min())
        ends.append(part["last"].max())
    left, right = _date_num(starts), _date_num(ends)
    lo, hi = float(left.min()), float(right.max())
    if hi - lo < 1.0:  # a single build day: show a month either side
        lo, hi = lo - 30.0, hi + 30.0
    span = hi - lo
    # a line with one release still gets a visible sliver
    width = np.maximum(right - left, span * 0.004)
    bar_colors = [_FOLDED_COLOR if r.folded else colors[r.major] for r in rows]
    ax.barh(np.arange(len(rows)), width, left=left, height=0.62, color=bar_colors,
            edgecolor="none")  # fmt: skip
    fontsize = _label_fontsize(len(rows))
    for y, (row, end) in enumerate(zip(rows, left + width, strict=True)):
        part = by_line.loc[list(row.members)]
        count = int(part["n_releases"].sum())
        text = _plural(count, "release") if row.folded else f"{part['latest'].iloc[-1]} ({count})"
        ax.text(end + span * 0.006, y, text, va="center", ha="left",
                fontsize=fontsize * 0.85, color="0.25", clip_on=False)  # fmt: skip
    ax.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=fontsize)
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.folded:
            tick.set_color(_FOLDED_COLOR)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    # room on the right for the end-of-bar labels
    ax.set_xlim(lo - span * 0.02, hi + span * 0.14)
    ax.xaxis_date()
    _format_date_axis(ax)
    ax.grid(axis="x", color="0.92", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel("build date (UTC)")
    ax.set_ylabel("image and line" if images is not None else "line (major.minor)")
    ax.set_title(_title(rel, f"life of {_plural(len(table), 'release line')}"))
    return ax


_MOVES_LEGEND_MAX = 20


def _lighter(color: Any, amount: float) -> tuple[float, float, float]:
    import matplotlib.colors as mcolors

    r, g, b = mcolors.to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)
_MOVES_COLUMNS = ("tag", "digest", "first_seen", "last_seen")


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
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per interval (``ax.patches``).

    Examples
    --------
    >>> import regframe as rf
    >>> ax = rf.plot.moves(rf.history("localhost:5000/app"), tags=["latest", "3"])  # doctest: +SKIP
    """
    from matplotlib.patches import Patch

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
        hist = hist[hist["tag"].isin(order)]
    else:
        names = pd.Series(hist["tag"].dropna().unique(), dtype="string")
        order = [str(t) for t in sort_tags(parse_tags(names))["tag"]]
    ax = _new_axes(ax, 10.0, row_height(len(order)))
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
    versions = [v for v in pd.Series(resolved.dropna().unique(), dtype="string")]
    versions = [str(v) for v in sort_tags(parse_tags(pd.Series(versions, dtype="string")))["tag"]]
    colors = _major_colors(versions) if versions else {}
    left = _date_num(hist["first_seen"])
    right = _date_num(hist["last_seen"])
    lo, hi = float(left.min()), float(right.max())
    second = 1.0 / 86_400
    if hi - lo < 2 * second:  # a single read: a few seconds either side
        lo, hi = lo - 5 * second, hi + 5 * second
    span = hi - lo
    # An interval seen by one read only has no length: it still gets a visible sliver.
    width = np.maximum(right - left, span * 0.01)
    row_of = {tag: y for y, tag in enumerate(order)}
    y = hist["tag"].map(row_of).to_numpy(dtype=float)
    # Rebuilds keep their version: each further digest of a version gets a lighter shade.
    shade: dict[Any, int] = {}
    bar_colors: list[Any] = []
    for version, digest in zip(resolved.tolist(), hist["digest"].tolist(), strict=True):
        if not isinstance(version, str):
            bar_colors.append(_FOLDED_COLOR)
            continue
        nth = shade.setdefault((version, digest), sum(1 for v, _ in shade if v == version))
        bar_colors.append(_lighter(colors[version], 0.45 if nth % 2 else 0.0))
    ax.barh(y, width, left=left, height=0.6, color=bar_colors, edgecolor="white",
            linewidth=0.6)  # fmt: skip
    # Between two observed intervals the move happened somewhere: a thin line says "unknown".
    order_idx = pd.DataFrame({"y": y, "l": left, "r": left + width}).sort_values(["y", "l"])
    for _, part in order_idx.groupby("y", sort=False):
        ends, starts = part["r"].to_numpy()[:-1], part["l"].to_numpy()[1:]
        for row_y, a, b in zip(part["y"].to_numpy()[1:], ends, starts, strict=True):
            if b > a:
                ax.plot([a, b], [row_y, row_y], color="0.7", linewidth=0.8, zorder=1)
    if "current" in hist.columns:
        now = hist["current"].fillna(False).to_numpy(dtype=bool)
        ax.scatter(left[now] + width[now] + span * 0.004, y[now], marker=">", s=18,
                   color="0.2", zorder=3, linewidths=0)  # fmt: skip
    fontsize = _label_fontsize(len(order))
    ax.set_yticks(range(len(order)), order, fontsize=fontsize)
    ax.invert_yaxis()
    ax.set_xlim(lo - span * 0.02, hi + span * 0.04)
    ax.xaxis_date()
    _format_date_axis(ax)
    ax.grid(axis="x", color="0.92", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel("seen (UTC)")
    ax.set_ylabel("tag")
    moved = int((hist.groupby("tag", observed=True).size() - 1).clip(lower=0).sum())
    what = f"{_plural(len(order), 'tag')}, {_plural(moved, 'move')}"
    if "source" in hist.columns:
        what += f" ({' + '.join(sorted(hist['source'].dropna().astype(str).unique()))})"
    ax.set_title(f"{name}: {what}" if name else what)
    handles: list[Any] = [Patch(color=colors[v], label=v) for v in versions[-_MOVES_LEGEND_MAX:]]
    if len(versions) > _MOVES_LEGEND_MAX:
        older = len(versions) - _MOVES_LEGEND_MAX
        handles.insert(0, Patch(color="white", label=f"… {older} older"))
    if any(not isinstance(v, str) for v in resolved.tolist()):
        handles.append(Patch(color=_FOLDED_COLOR, label="no version tag"))
    _outside_legend(ax, handles, title="points at")
    return ax
