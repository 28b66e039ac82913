"""The :class:`Explorer` widget: filters, a chart, a CSV export and a scrolling releases table.

An ``ipywidgets.VBox`` whose controls are public attributes; every change
recomputes :attr:`Explorer.filtered` and redraws (the mpl-interactions model:
controls separate from plotting).  :func:`regframe.explore` builds one.

The chart is drawn on a pyplot-free :class:`matplotlib.figure.Figure` and shown
as a PNG inside an :class:`ipywidgets.Output`: no pyplot figure is ever
registered, so redrawing leaks nothing and works under any matplotlib backend.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from regframe import cadence as _cad
from regframe import plot as _plot
from regframe.htmltable import render as _render_table

__all__ = [
    "ALL_LINES",
    "ALL_PREFIXES",
    "ALL_VARIANTS",
    "KINDS",
    "NO_PREFIX",
    "NO_VARIANT",
    "Explorer",
]

logger = logging.getLogger(__name__)

Loader = Callable[..., pd.DataFrame]

ALL_LINES = "all"
ALL_VARIANTS = "(all)"
NO_VARIANT = "(no variant)"
ALL_PREFIXES = "(all)"
NO_PREFIX = "(no prefix)"
KINDS = _cad.PLOT_KINDS
_TABLE_ROWS = 500
_TABLE_HEIGHT = 400
_TABLE_COLUMNS = ["image", "prefix", "release", "prerelease", "line", "created", "variants", "tags"]
# Exports up to this size also become a browser download link (a data: URL).
_DOWNLOAD_LIMIT = 4_000_000
_ERROR_STYLE = "color:#b00020"
_HIDDEN = "none"


def _default_loader(image: str, /, **kwargs: Any) -> pd.DataFrame:
    from regframe.frame.read import read_tags  # lazy: widgets must import without the network stack

    return read_tags(image, **kwargs)


def _write_csv(df: pd.DataFrame, path: str) -> None:
    from regframe.frame.write import to_csv

    to_csv(df, path)


def _accepts(func: Callable[..., Any], name: str) -> bool:
    """Whether ``func`` takes a keyword argument ``name`` (by name or through ``**kwargs``)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is p.VAR_KEYWORD
        or (p.name == name and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        for p in params
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _month_options(created: pd.Series) -> list[tuple[str, pd.Timestamp]]:
    """Every month from the first to the last build date, labelled ``YYYY-MM``."""
    dated = _cad._utc(created).dropna()
    if dated.empty:
        return []
    naive = dated.dt.tz_localize(None)
    first = naive.min().to_period("M").to_timestamp()
    last = naive.max().to_period("M").to_timestamp()
    months = pd.date_range(first, last, freq="MS", tz="UTC")
    return [(m.strftime("%Y-%m"), m) for m in months]


def _distinct(df: pd.DataFrame, column: str) -> list[str]:
    """Distinct non-missing values of ``column`` in order of appearance (none if absent)."""
    if column not in df.columns:
        return []
    return [str(v) for v in df[column].dropna().astype(str).unique().tolist()]


def _show(widget: widgets.Widget, visible: bool) -> None:
    widget.layout.display = None if visible else _HIDDEN


class Explorer(widgets.VBox):  # type: ignore[misc]
    """Filter, chart, tabulate and export the releases of one image.

    An :class:`ipywidgets.VBox`: display it, or put it in a ``Tab``, an
    ``HBox`` or a Voila page.  Build it with :func:`explore`.  Controls (set
    ``.value`` to drive them):

    ``image`` / ``load`` / ``progress``
        Only when built from an image reference: a Text with the reference, a
        Button that (re)loads it, and a progress bar that follows the requests.
    ``image_filter`` (Dropdown)
        Which image of a several-images frame (an ``image`` column) to explore;
        shown only when there are several.
    ``prefix`` (Dropdown)
        ``"(all)"``, ``"(no prefix)"`` or one tag prefix (``jammy``,
        ``nanoserver``); shown only when the frame has several.
    ``majors`` (SelectMultiple)
        Majors to keep; an empty selection means every major.
    ``line`` (Dropdown)
        ``"all"`` or one ``major.minor`` line of the selected majors.
    ``variant`` (Dropdown)
        ``"(all)"``, ``"(no variant)"`` (plain tags only) or one variant.
    ``prereleases`` (Checkbox)
        Count prereleases as releases.
    ``dates`` (SelectionRangeSlider) / ``dates_label``
        First and last month to keep (month starts, UTC), read as
        ``2018-11 → 2024-02``.
    ``kind`` (ToggleButtons)
        ``timeline``, ``cadence``, ``intervals`` or ``lines``.
    ``export`` / ``export_path``
        Write :attr:`filtered` as CSV (:func:`regframe.to_csv`) to the path;
        the message then also offers the file as a browser download.

    Results: :attr:`filtered` (releases frame after every filter),
    :attr:`figure` / :attr:`ax` (last chart), :attr:`message` (errors and
    notes as one line, never a traceback), :attr:`output` (the chart),
    :attr:`table` (newest first, scrolling, with a row count).
    """

    #: Seconds between two moves of the progress bar: a comm message per request
    #: would flood the page.
    progress_interval = 0.1

    def __init__(
        self,
        data: pd.DataFrame | None = None,
        *,
        image: str | None = None,
        loader: Loader | None = None,
        read_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._loader: Loader = loader or _default_loader
        self._read_kwargs = dict(read_kwargs or {})
        self._data: pd.DataFrame | None = None
        # releases() per filter choice: filters change often, the data rarely
        self._cache: dict[tuple[bool, str, str, str | None], pd.DataFrame] = {}
        self._quiet = False
        self._progress_at = 0.0
        self.filtered: pd.DataFrame = _cad.releases(_empty_tags())
        self.figure: Figure | None = None
        self.ax: Axes | None = None

        style = {"description_width": "initial"}
        self.image: widgets.Text | None = None
        self.load: widgets.Button | None = None
        self.progress: widgets.FloatProgress | None = None
        if image is not None:
            self.image = widgets.Text(value=image, description="image", style=style,
                                      placeholder="quay.io/prometheus/prometheus",
                                      layout=widgets.Layout(width="420px"))  # fmt: skip
            self.load = widgets.Button(description="Load", icon="download",
                                       button_style="primary")  # fmt: skip
            self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0,
                                                  layout=widgets.Layout(width="160px"))  # fmt: skip
            self.load.on_click(lambda _: self.reload())

        self.message = widgets.HTML(value="")
        self.image_filter = widgets.Dropdown(options=[], description="image", style=style,
                                             layout=widgets.Layout(display=_HIDDEN))  # fmt: skip
        self.prefix = widgets.Dropdown(options=[ALL_PREFIXES], value=ALL_PREFIXES,
                                       description="prefix", style=style,
                                       layout=widgets.Layout(display=_HIDDEN))  # fmt: skip
        self.majors = widgets.SelectMultiple(options=[], description="majors", rows=5,
                                             style=style)  # fmt: skip
        self.line = widgets.Dropdown(options=[ALL_LINES], value=ALL_LINES, description="line",
                                     style=style)  # fmt: skip
        self.variant = widgets.Dropdown(options=[ALL_VARIANTS, NO_VARIANT], value=ALL_VARIANTS,
                                        description="variant", style=style)  # fmt: skip
        self.prereleases = widgets.Checkbox(value=False, description="prereleases", indent=False)
        # the slider's own readout joins the two labels with a bare "-" ("2018-11-2024-02")
        self.dates = widgets.SelectionRangeSlider(
            options=[("no dates", None)], index=(0, 0), description="dates", readout=False,
            disabled=True, style=style, layout=widgets.Layout(width="460px"),
        )  # fmt: skip
        self.dates_label = widgets.HTML(value="")
        self.kind = widgets.ToggleButtons(options=list(KINDS), value="timeline")
        self.output = widgets.Output()
        self.table = widgets.HTML(value="")
        self.export_path = widgets.Text(value="releases.csv", description="CSV",
                                        style=style)  # fmt: skip
        self.export = widgets.Button(description="Export", icon="save")
        self.export_message = widgets.HTML(value="")
        self.export.on_click(lambda _: self.write_csv())

        self.majors.observe(self._on_majors, names="value")
        self.image_filter.observe(self._on_subset, names="value")
        self.prefix.observe(self._on_subset, names="value")
        self.dates.observe(self._on_dates, names="value")
        for control in (self.line, self.variant, self.prereleases, self.dates, self.kind):
            control.observe(self._on_change, names="value")

        rows: list[widgets.Widget] = []
        if self.image is not None and self.load is not None and self.progress is not None:
            rows.append(widgets.HBox([self.image, self.load, self.progress]))
        column = [self.image_filter, self.prefix, self.line, self.variant, self.prereleases]
        rows += [
            self.message,
            widgets.HBox([self.majors, widgets.VBox(column)]),
            widgets.HBox([self.dates, self.dates_label]),
            self.kind,
            self.output,
            widgets.HBox([self.export_path, self.export, self.export_message]),
            self.table,
        ]
        self.children = rows
        self.add_class("regframe-explorer")

        if data is not None:
            self.set_data(data)
        elif image:
            self.reload()
        else:
            self._draw()
            self._tabulate()

    @property
    def widget(self) -> Explorer:
        """The explorer itself: it *is* the widget (kept for code written before it was)."""
        return self

    # ------------------------------------------------------------------ data

    @property
    def data(self) -> pd.DataFrame | None:
        """The tags (or releases) frame being explored."""
        return self._data

    def reload(self) -> None:
        """Load :attr:`image` with the loader (``dates=True``); errors go to :attr:`message`."""
        if self.image is None or self.progress is None or self.load is None:
            raise ValueError("this explorer was built from a DataFrame; there is nothing to load")
        reference = self.image.value.strip()
        if not reference:
            self._say("enter an image reference, e.g. quay.io/prometheus/prometheus", error=True)
            return
        kwargs: dict[str, Any] = {"dates": True, **self._read_kwargs}
        if "progress" not in kwargs and _accepts(self._loader, "progress"):
            kwargs["progress"] = self._on_progress
        self.progress.bar_style = "info"
        self.progress.value = 0.0
        self._progress_at = 0.0
        self.load.disabled = True
        self._say(f"loading {reference} …")
        try:
            df = self._loader(reference, **kwargs)
        except Exception as exc:  # shown to the user as one line, never as a traceback
            logger.debug("loading %s failed", reference, exc_info=True)
            self.progress.bar_style = "danger"
            self.progress.value = 1.0
            self._say(f"could not load {reference}: {type(exc).__name__}: {exc}", error=True)
            return
        finally:
            self.load.disabled = False
        self.progress.value = 1.0
        self.progress.bar_style = "success"
        self._say("")
        self.set_data(df)

    def _on_progress(self, done: int, total: int | None = None, *_: Any) -> None:
        """``progress(done, total)`` hook of :func:`regframe.read_tags`: move the bar."""
        bar = self.progress
        # done == total is the end of a phase (the tag list, say) before the next one's
        # requests are known, not the end of the load: reload() shows that one
        if bar is None or not total or done >= total:
            return
        now = time.monotonic()
        if now - self._progress_at < self.progress_interval:
            return
        self._progress_at = now
        bar.value = max(0.0, done / total)

    def set_data(self, df: pd.DataFrame) -> None:
        """Explore ``df`` (tags or releases frame): reset the controls and redraw."""
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"explore() needs a DataFrame or an image reference, got {df!r}")
        self._data = df
        self._cache = {}
        self._quiet = True
        try:
            images = _distinct(df, "image")
            self.image_filter.options = images
            self.image_filter.value = images[0] if images else None
            _show(self.image_filter, len(images) > 1)
            self._set_prefixes()
            self._reset_filters()
            name = df.attrs.get("repository")
            if name and isinstance(name, str):
                self.export_path.value = f"{name.replace('/', '_')}-releases.csv"
        finally:
            self._quiet = False
        self.refresh()

    def _set_prefixes(self) -> None:
        df = self._data
        assert df is not None
        if "prefix" not in df.columns:
            self.prefix.options = [ALL_PREFIXES]
            self.prefix.value = ALL_PREFIXES
            _show(self.prefix, False)
            return
        subset = self._subset(df, prefix=ALL_PREFIXES)
        if "scheme" in subset.columns:
            versioned = subset["scheme"].astype("string").isin(_cad.RELEASE_SCHEMES).fillna(False)
            subset = subset[versioned]
        names = sorted(_distinct(subset, "prefix"))
        plain = bool(subset["prefix"].isna().any())
        options = [ALL_PREFIXES, *([NO_PREFIX] if plain else []), *names]
        current = self.prefix.value
        self.prefix.options = options
        self.prefix.value = current if current in options else ALL_PREFIXES
        _show(self.prefix, len(names) + int(plain) > 1)

    def _reset_filters(self) -> None:
        """Offer the majors, variants, lines and months of the current image and prefix."""
        assert self._data is not None
        everything = self._releases_of(prereleases=True, variant=ALL_VARIANTS)
        majors = sorted(everything["major"].dropna().unique().tolist())
        self.majors.options = [(str(m), m) for m in majors]
        self.majors.value = ()
        self.variant.options = [ALL_VARIANTS, NO_VARIANT, *self._variants(self._subset(self._data))]
        self.variant.value = ALL_VARIANTS
        self._set_lines()
        months = _month_options(everything["created"])
        if months:
            self.dates.options = months
            self.dates.index = (0, len(months) - 1)
            self.dates.disabled = False
        else:
            self.dates.options = [("no dates", None)]
            self.dates.index = (0, 0)
            self.dates.disabled = True
        self._label_dates()

    def _subset(self, df: pd.DataFrame, *, prefix: str | None = None) -> pd.DataFrame:
        """Rows of the selected image and prefix."""
        chosen = self.image_filter.value
        if chosen is not None and "image" in df.columns:
            df = df[(df["image"].astype("string") == chosen).fillna(False)]
        prefix = self.prefix.value if prefix is None else prefix
        if "prefix" in df.columns and prefix != ALL_PREFIXES:
            if prefix == NO_PREFIX:
                df = df[df["prefix"].isna()]
            else:
                df = df[(df["prefix"].astype("string") == prefix).fillna(False)]
        return df

    @staticmethod
    def _variants(df: pd.DataFrame) -> list[str]:
        if _cad.is_releases_frame(df):
            joined = df["variants"].dropna().astype(str)
            return sorted({v for text in joined for v in text.split(",") if v})
        if "variant" not in df.columns:
            return []
        scheme = df["scheme"].astype("string")
        versioned = df[scheme.isin(_cad.RELEASE_SCHEMES).fillna(False)]
        return sorted(versioned["variant"].dropna().astype(str).unique().tolist())

    def _releases_of(self, *, prereleases: bool, variant: str) -> pd.DataFrame:
        key = (prereleases, variant, str(self.prefix.value), self.image_filter.value)
        if key not in self._cache:
            assert self._data is not None
            subset = self._subset(self._data)
            self._cache[key] = self._releases(subset, prereleases=prereleases, variant=variant)
        return self._cache[key]

    @staticmethod
    def _releases(df: pd.DataFrame, *, prereleases: bool, variant: str) -> pd.DataFrame:
        """Releases of ``df`` for one variant choice."""
        if _cad.is_releases_frame(df):
            rel = df if prereleases else df[~df["is_prerelease"].fillna(False)]
            if variant == NO_VARIANT:
                # a releases frame no longer knows its plain tags: NA variants is the best proxy
                rel = rel[rel["variants"].isna()]
            elif variant != ALL_VARIANTS:
                names = rel["variants"].fillna("").astype(str).str.split(",")
                rel = rel[names.map(lambda vs: variant in vs)]
            return rel.reset_index(drop=True)
        if variant == NO_VARIANT:
            df = df[df["variant"].isna()]
        elif variant != ALL_VARIANTS:
            df = df[(df["variant"] == variant).fillna(False)]
        return _cad.releases(df, prereleases=prereleases)

    # ------------------------------------------------------------------ filtering

    def _set_lines(self) -> None:
        if self._data is None:
            return
        everything = self._releases_of(prereleases=True, variant=ALL_VARIANTS)
        if self.majors.value:
            everything = everything[everything["major"].isin(list(self.majors.value))]
        names = _cad.lines(everything)["line"].tolist()
        current = self.line.value
        self.line.options = [ALL_LINES, *names]
        self.line.value = current if current in names else ALL_LINES

    def _label_dates(self) -> None:
        if self.dates.disabled:
            self.dates_label.value = "<i>no build dates</i>"
            return
        first, last = self.dates.index
        labels = self.dates.options
        self.dates_label.value = html.escape(f"{labels[first][0]} → {labels[last][0]}")

    def _on_dates(self, _: Any) -> None:
        self._label_dates()

    def _on_majors(self, _: Any) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self._set_lines()
        finally:
            self._quiet = False
        self.refresh()

    def _on_subset(self, _: Any) -> None:
        if self._quiet or self._data is None:
            return
        self._quiet = True
        try:
            self._cache = {}
            self._set_prefixes()
            self._reset_filters()
        finally:
            self._quiet = False
        self.refresh()

    def _on_change(self, _: Any) -> None:
        if not self._quiet:
            self.refresh()

    def _filter(self) -> pd.DataFrame:
        df = self._data
        if df is None:
            return self.filtered.iloc[0:0]
        rel = self._releases_of(prereleases=self.prereleases.value, variant=self.variant.value)
        if self.majors.value:
            rel = rel[rel["major"].isin(list(self.majors.value))]
        if self.line.value != ALL_LINES:
            rel = rel[rel["line"] == self.line.value]
        start, end = self.dates.value
        if not self.dates.disabled and start is not None and end is not None:
            first, last = self.dates.options[0][1], self.dates.options[-1][1]
            if (start, end) != (first, last):  # full range keeps undated releases too
                created = _cad._utc(rel["created"])
                stop = end + pd.offsets.MonthBegin(1)
                rel = rel[(created >= start) & (created < stop)]
        out = rel.reset_index(drop=True)
        out.attrs = dict(df.attrs)
        return out

    def refresh(self) -> None:
        """Recompute :attr:`filtered`, redraw the chart and the table."""
        self.filtered = self._filter()
        self._draw()
        self._tabulate()

    # ------------------------------------------------------------------ views

    def _draw(self) -> None:
        self.figure, self.ax = None, None
        rel = self.filtered
        if self._data is None:
            self._show_text("nothing loaded yet")
            return
        if rel.empty:
            self._show_text("no release matches these filters")
            return
        kind = self.kind.value
        height = 4.5
        if kind in ("timeline", "lines"):
            dated = rel[rel["created"].notna()]
            n_rows = len(_plot._rows(_cad.lines(dated), _plot._DEFAULT_TOP)) if len(dated) else 1
            height = _plot._row_height(n_rows)
        fig = Figure(figsize=(10.0, height), layout="constrained")
        ax = fig.add_subplot()
        try:
            if kind == "timeline":
                _plot.timeline(rel, ax=ax)
            elif kind == "cadence":
                _plot.cadence(rel, ax=ax)
            elif kind == "intervals":
                _plot.intervals(rel, ax=ax)
            else:
                _plot.lines(rel, ax=ax)
        except (_cad.MissingDatesError, _cad.NoReleasesError) as exc:
            self._show_text(str(exc))
            return
        self.figure, self.ax = fig, ax
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        self.output.outputs = (
            {
                "output_type": "display_data",
                "data": {
                    "image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
                    "text/plain": f"<{kind} chart of {len(rel)} releases>",
                },
                "metadata": {},
            },
        )

    def _show_text(self, text: str) -> None:
        self.output.outputs = (
            {"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}},
        )

    def _tabulate(self) -> None:
        rel = self.filtered
        if rel.empty:
            self.table.value = "<i>no releases</i>"
            return
        newest = rel.iloc[::-1]  # version order, newest version first ...
        if "created" in newest.columns and newest["created"].notna().any():
            # ... then by build date, so a late patch of an old line sits where it shipped
            order = _cad._utc(newest["created"]).rename("_order")
            newest = newest.loc[
                order.sort_values(ascending=False, na_position="last", kind="stable").index
            ]
        shown = newest.head(_TABLE_ROWS)
        columns = [c for c in _TABLE_COLUMNS if c in shown.columns]
        # a column that never varies says nothing: image and prefix only when selectable
        for name, selector in (("image", self.image_filter), ("prefix", self.prefix)):
            if name in columns and selector.layout.display == _HIDDEN:
                columns.remove(name)
        view = shown[columns].copy()
        if "created" in view.columns:
            view["created"] = _cad._utc(view["created"]).dt.strftime("%Y-%m-%d %H:%M")
        n = len(rel)
        caption = f"{n} release" + ("" if n == 1 else "s")
        if n > _TABLE_ROWS:
            caption += f", newest {_TABLE_ROWS} shown"
        self.table.value = _render_table(view, height=_TABLE_HEIGHT, caption=caption)

    def _say(self, text: str, *, error: bool = False) -> None:
        safe = html.escape(_one_line(text))
        self.message.value = f'<span style="{_ERROR_STYLE}">{safe}</span>' if error else safe

    # ------------------------------------------------------------------ export

    def write_csv(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Write :attr:`filtered` with :func:`regframe.to_csv`; returns the path written.

        Errors (unwritable path ...) are shown in :attr:`export_message`.  The
        message links the written file as a browser download (small files only).
        """
        target = Path(path if path is not None else self.export_path.value).expanduser()
        try:
            _write_csv(self.filtered, str(target))
            written = target.read_bytes()
        except OSError as exc:
            text = html.escape(_one_line(f"could not write {target}: {exc}"))
            self.export_message.value = f'<span style="{_ERROR_STYLE}">{text}</span>'
            return None
        where = html.escape(str(target.resolve()))
        link = ""
        if len(written) <= _DOWNLOAD_LIMIT:
            encoded = base64.b64encode(written).decode("ascii")
            link = (
                f' · <a class="regframe-download" style="color:#1565c0;text-decoration:underline" '
                f'download="{html.escape(target.name)}" '
                f'href="data:text/csv;base64,{encoded}">download</a>'
            )
        self.export_message.value = (
            f"wrote {len(self.filtered)} releases to <code>{where}</code>{link}"
        )
        return target


def _empty_tags() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tag": pd.array([], dtype="string"),
            "release": pd.array([], dtype="string"),
            "major": pd.array([], dtype="Int64"),
            "minor": pd.array([], dtype="Int64"),
            "patch": pd.array([], dtype="Int64"),
            "prerelease": pd.array([], dtype="string"),
            "variant": pd.array([], dtype="string"),
            "scheme": pd.Categorical([], categories=list(_cad.RELEASE_SCHEMES)),
        }
    )
