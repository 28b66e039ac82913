"""What the explorer shows: the chart as a PNG, the releases table and the export message.

Pure rendering, no controls: each function takes the filtered releases and what to
show, and returns the HTML or fills the :class:`ipywidgets.Output`.  The chart is
drawn on a pyplot-free :class:`matplotlib.figure.Figure` and shown as a PNG, so
redrawing registers no pyplot figure and works under any matplotlib backend.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Collection
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from regframe import cadence as _cad
from regframe import plot as _plot
from regframe._words import counted
from regframe.htmltable import render as _render_table

__all__ = [
    "TABLE_COLUMNS",
    "draw",
    "error_html",
    "export_html",
    "month_options",
    "one_line",
    "show_text",
    "table_html",
]

#: Columns of the releases table, in order (those a frame lacks are left out).
TABLE_COLUMNS = [
    "image", "prefix", "release", "prerelease", "line", "released", "dated_by", "created",
    "variants", "tags",
]  # fmt: skip
_TABLE_ROWS = 500
_TABLE_HEIGHT = 400
# Exports up to this size also become a browser download link (a data: URL).
_DOWNLOAD_LIMIT = 4_000_000
_ERROR_STYLE = "color:#b00020"
_DATE_COLUMNS = ("released", "created")


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(text.split())


def error_html(text: str) -> str:
    """``text`` as one escaped line in the explorer's error colour."""
    return f'<span style="{_ERROR_STYLE}">{html.escape(one_line(text))}</span>'


def month_options(dates: pd.Series) -> list[tuple[str, pd.Timestamp]]:
    """Every month from the first to the last date, labelled ``YYYY-MM``.

    Examples
    --------
    >>> stamps = pd.Series(pd.to_datetime(["2024-01-20", "2024-03-02"], utc=True))
    >>> [label for label, _ in month_options(stamps)]
    ['2024-01', '2024-02', '2024-03']
    """
    dated = _cad.utc(dates).dropna()
    if dated.empty:
        return []
    naive = dated.dt.tz_localize(None)
    first = naive.min().to_period("M").to_timestamp()
    last = naive.max().to_period("M").to_timestamp()
    months = pd.date_range(first, last, freq="MS", tz="UTC")
    return [(m.strftime("%Y-%m"), m) for m in months]


def show_text(output: widgets.Output, text: str) -> None:
    """Replace what ``output`` shows with plain text."""
    output.outputs = (
        {"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}},
    )


def _chart_height(rel: pd.DataFrame, kind: str) -> float:
    """Figure height for ``kind``: timelines and lines grow with their rows."""
    if kind not in ("timeline", "lines"):
        return 4.5
    dated = rel[_cad.release_dates(rel).notna()]
    n_rows = len(_plot.line_rows(_cad.lines(dated))) if len(dated) else 1
    return _plot.row_height(n_rows)


def draw(output: widgets.Output, rel: pd.DataFrame, kind: str) -> tuple[Figure | None, Axes | None]:
    """Draw chart ``kind`` of ``rel`` into ``output`` as a PNG; ``(figure, axes)`` or Nones.

    A frame the chart cannot show (no dates, no release) puts the reason in
    ``output`` instead, as text, and returns ``(None, None)``.
    """
    fig = Figure(figsize=(10.0, _chart_height(rel, kind)), layout="constrained")
    ax = fig.add_subplot()
    try:
        getattr(_plot, kind)(rel, ax=ax)
    except (_cad.MissingDatesError, _cad.NoReleasesError) as exc:
        show_text(output, str(exc))
        return None, None
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    output.outputs = (
        {
            "output_type": "display_data",
            "data": {
                "image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
                "text/plain": f"<{kind} chart of {counted(len(rel), 'release')}>",
            },
            "metadata": {},
        },
    )
    return fig, ax


def table_html(rel: pd.DataFrame, *, hidden: Collection[str] = ()) -> str:
    """The releases newest first (by release date), in a scrolling table with a row count.

    ``hidden`` names columns not to show (a column that never varies says nothing).
    """
    if rel.empty:
        return "<i>no releases</i>"
    newest = rel.iloc[::-1]  # version order, newest version first ...
    dates = _cad.release_dates(newest)
    if dates.notna().any():
        # ... then by release date, so a late patch of an old line sits where it shipped
        order = dates.sort_values(ascending=False, na_position="last", kind="stable").index
        newest = newest.loc[order]
    shown = newest.head(_TABLE_ROWS)
    columns = [c for c in TABLE_COLUMNS if c in shown.columns and c not in hidden]
    view = shown[columns].copy()
    for name in _DATE_COLUMNS:
        if name in view.columns:
            view[name] = _cad.utc(view[name]).dt.strftime("%Y-%m-%d %H:%M")
    n = len(rel)
    caption = counted(n, "release")
    if n > _TABLE_ROWS:
        caption += f", newest {_TABLE_ROWS} shown"
    return _render_table(view, height=_TABLE_HEIGHT, caption=caption)


def export_html(target: Path, written: bytes, n_releases: int) -> str:
    """The message after an export: where the file went, and a download link if small."""
    where = html.escape(str(target.resolve()))
    link = ""
    if len(written) <= _DOWNLOAD_LIMIT:
        encoded = base64.b64encode(written).decode("ascii")
        link = (
            f' · <a class="regframe-download" style="color:#1565c0;text-decoration:underline" '
            f'download="{html.escape(target.name)}" '
            f'href="data:text/csv;base64,{encoded}">download</a>'
        )
    return f"wrote {counted(n_releases, 'release')} to <code>{where}</code>{link}"
