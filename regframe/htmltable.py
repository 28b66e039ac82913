"""A DataFrame as a compact, scrolling HTML table: blanks for missing values, a sticky header.

``DataFrame.to_html(na_rep="")`` still prints ``<NA>`` for nullable (extension)
dtypes, and its bordered grid grows without bound; the explorer's table needs
neither, so the cells are written here, each one escaped.
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["render"]

_BOX = (
    "max-height:{height}px;overflow:auto;border:1px solid #d0d0d0;border-radius:2px;"
    "width:fit-content;max-width:100%;"
    "font-size:12px;line-height:1.4"
)
_TABLE = "border-collapse:collapse;font-variant-numeric:tabular-nums"
_TH = (
    "position:sticky;top:0;background:#f3f3f3;text-align:left;padding:3px 8px;"
    "border-bottom:1px solid #c8c8c8;font-weight:600;white-space:nowrap"
)
_TD = "padding:2px 12px 2px 8px;border-bottom:1px solid #eee;white-space:nowrap;text-align:left"


def _cell(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return ""
    except (TypeError, ValueError):  # lists and other non-scalars are never "missing"
        pass
    return html.escape(str(value))


def render(df: pd.DataFrame, *, height: int = 400, caption: str = "") -> str:
    """HTML for ``df``: a box at most ``height`` px high that scrolls, missing values blank.

    Parameters
    ----------
    df
        The rows and columns to show, in order (the index is not shown).
    height
        Maximum height of the scrolling box in CSS pixels.
    caption
        Text shown above the box (escaped), e.g. a row count.

    Returns
    -------
    str
        An HTML fragment with inline styles only (no ``<style>`` element).

    Examples
    --------
    >>> frame = pd.DataFrame({"release": pd.array(["8.1.0", None], dtype="string")})
    >>> "&lt;NA&gt;" in render(frame)
    False
    >>> render(frame, caption="2 releases").count("<tr")
    3
    """
    head = "".join(f'<th style="{_TH}">{html.escape(str(c))}</th>' for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_TD}">{_cell(v)}</td>' for v in row) + "</tr>"
        for row in df.itertuples(index=False, name=None)
    )
    top = f'<div style="margin:4px 0"><b>{html.escape(caption)}</b></div>' if caption else ""
    return (
        f'{top}<div class="regframe-table" style="{_BOX.format(height=int(height))}">'
        f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        "</div>"
    )
