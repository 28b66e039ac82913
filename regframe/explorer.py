"""The :class:`Explorer` widget: filters, a chart, a CSV export and a scrolling releases table.

An ``ipywidgets.VBox`` whose controls are public attributes; every change
recomputes :attr:`Explorer.filtered` and redraws (the mpl-interactions model:
controls separate from plotting).  :func:`regframe.explore` builds one.  The
controls are made in :mod:`regframe.explorer_controls`, the chart, table and
export message rendered by :mod:`regframe.explorer_view`; this module holds the
data, the filters and what a change of each control does.
"""

from __future__ import annotations

import html
import inspect
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
from regframe import explorer_controls as _controls
from regframe import explorer_view as _view
from regframe.explorer_controls import (
    ALL_LINES,
    ALL_PREFIXES,
    ALL_VARIANTS,
    HIDDEN,
    NO_PREFIX,
    NO_VARIANT,
    ExplorerControls,
    show,
)
from regframe.explorer_controls import (
    KINDS as KINDS,
)

__all__ = ["Explorer", "Loader"]
__all__ += _controls.CHOICES

logger = logging.getLogger(__name__)

Loader = Callable[..., pd.DataFrame]


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


def _distinct(df: pd.DataFrame, column: str) -> list[str]:
    """Distinct non-missing values of ``column`` in order of appearance (none if absent)."""
    if column not in df.columns:
        return []
    return [str(v) for v in df[column].dropna().astype(str).unique().tolist()]


class Explorer(widgets.VBox, ExplorerControls):  # type: ignore[misc]
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
        First and last month of release (``released``, month starts, UTC) to
        keep, read as ``2018-11 → 2024-02``.
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

        self.make_controls(image)
        self._connect()
        self.children = self.control_rows()
        self.add_class("regframe-explorer")

        if data is not None:
            self.set_data(data)
        elif image:
            self.reload()
        else:
            self._draw()
            self._tabulate()

    def _connect(self) -> None:
        """What each control does when it changes."""
        if self.load is not None:
            self.load.on_click(lambda _: self.reload())
        self.export.on_click(lambda _: self.write_csv())
        self.majors.observe(self._on_majors, names="value")
        self.image_filter.observe(self._on_subset, names="value")
        self.prefix.observe(self._on_subset, names="value")
        self.dates.observe(self._on_dates, names="value")
        for control in (self.line, self.variant, self.prereleases, self.dates, self.kind,
                        self.versions, self.newest):  # fmt: skip
            control.observe(self._on_change, names="value")

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
            show(self.image_filter, len(images) > 1)
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
            show(self.prefix, False)
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
        show(self.prefix, len(names) + int(plain) > 1)

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
        months = _view.month_options(_cad.release_dates(everything))
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
            self.dates_label.value = "<i>no release dates</i>"
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
                released = _cad.release_dates(rel)
                stop = end + pd.offsets.MonthBegin(1)
                rel = rel[(released >= start) & (released < stop)]
        rel = self._versions_and_newest(rel)
        out = rel.reset_index(drop=True)
        out.attrs = dict(df.attrs)
        return out

    def _versions_and_newest(self, rel: pd.DataFrame) -> pd.DataFrame:
        """The ``versions`` range box, then the ``newest per line`` toggle."""
        from regframe.errors import InvalidArgumentError
        from regframe.parsing.select import select

        text = self.versions.value.strip()
        try:
            if text:
                rel = select(rel, versions=text, prereleases=self.prereleases.value)
        except InvalidArgumentError as exc:
            self._say(str(exc), error=True)
        else:
            if "versions=" in self.message.value:
                self._say("")  # the range reads now, or is gone: so is the earlier complaint
        if self.newest.value and not rel.empty:
            # releases come in version order within an image and prefix: the last of a line
            keys = [c for c in ("image", "prefix", "line") if c in rel.columns]
            grouped = rel.assign(**{k: rel[k].astype("string").fillna("") for k in keys})
            rel = rel.loc[grouped.groupby(keys, sort=False).tail(1).index]
        return rel

    def refresh(self) -> None:
        """Recompute :attr:`filtered`, redraw the chart and the table."""
        self.filtered = self._filter()
        self._draw()
        self._tabulate()

    # ------------------------------------------------------------------ views

    def _draw(self) -> None:
        self.figure, self.ax = None, None
        if self._data is None:
            _view.show_text(self.output, "nothing loaded yet")
        elif self.filtered.empty:
            _view.show_text(self.output, "no release matches these filters")
        else:
            self.figure, self.ax = _view.draw(self.output, self.filtered, self.kind.value)

    def _tabulate(self) -> None:
        # a column that never varies says nothing: image and prefix only when selectable
        hidden = [
            name
            for name, selector in (("image", self.image_filter), ("prefix", self.prefix))
            if selector.layout.display == HIDDEN
        ]
        self.table.value = _view.table_html(self.filtered, hidden=hidden)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.value = _view.error_html(text) if error else html.escape(_view.one_line(text))

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
            self.export_message.value = _view.error_html(f"could not write {target}: {exc}")
            return None
        self.export_message.value = _view.export_html(target, written, len(self.filtered))
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
