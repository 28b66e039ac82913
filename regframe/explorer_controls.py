"""The explorer's controls: every ipywidgets control it offers, built and laid out in one place.

:class:`~regframe.explorer.Explorer` keeps each control as a public attribute (a test
or a script drives it by setting ``.value``); this module only makes them, names the
choices that are not data (``"all"``, ``"(no variant)"`` ...) and arranges them on the
page.  What the controls do lives in :mod:`regframe.explorer`, what the explorer
shows in :mod:`regframe.explorer_view`.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets

from regframe.cadence import PLOT_KINDS

#: The names of the choices that are not data, re-exported by the explorer.
CHOICES = ["ALL_LINES", "ALL_PREFIXES", "ALL_VARIANTS", "KINDS", "NO_PREFIX", "NO_VARIANT"]

__all__ = ["CHOICES", "HIDDEN", "ExplorerControls", "show"]
__all__ += CHOICES

ALL_LINES = "all"
ALL_VARIANTS = "(all)"
NO_VARIANT = "(no variant)"
ALL_PREFIXES = "(all)"
NO_PREFIX = "(no prefix)"
KINDS = PLOT_KINDS

#: ``layout.display`` of a control that is not offered (one image, one prefix).
HIDDEN = "none"
_STYLE = {"description_width": "initial"}
#: The filter column's labels share one width, so its fields (and, indented by the same
#: width, its checkboxes) start at one edge instead of where each label happens to end.
_COLUMN = {"description_width": "64px"}


def show(widget: widgets.Widget, visible: bool) -> None:
    """Show or hide ``widget`` (hidden controls keep their value and their place)."""
    widget.layout.display = None if visible else HIDDEN


def _loader_controls(
    image: str | None,
) -> tuple[widgets.Text | None, widgets.Button | None, widgets.FloatProgress | None]:
    if image is None:
        return None, None, None
    text = widgets.Text(value=image, description="image", style=_STYLE,
                        placeholder="quay.io/prometheus/prometheus",
                        layout=widgets.Layout(width="420px"))  # fmt: skip
    load = widgets.Button(description="Load", icon="download", button_style="primary")
    progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0,
                                     layout=widgets.Layout(width="160px"))  # fmt: skip
    return text, load, progress


def _dropdown(options: list[str], description: str, *, hidden: bool = False) -> widgets.Dropdown:
    layout = widgets.Layout(display=HIDDEN) if hidden else widgets.Layout()
    value = options[0] if options else None
    return widgets.Dropdown(
        options=options, value=value, description=description, style=_COLUMN, layout=layout
    )


def _checkbox(description: str) -> widgets.Checkbox:
    return widgets.Checkbox(value=False, description=description, indent=True, style=_COLUMN)


class ExplorerControls:
    """The explorer's widgets as attributes; :class:`~regframe.explorer.Explorer` inherits them.

    A mixin without state of its own: :meth:`make_controls` creates every control
    in its initial state, :meth:`control_rows` arranges them.  ``image``, ``load``
    and ``progress`` are ``None`` for an explorer built from a DataFrame (there is
    nothing to load).

    Examples
    --------
    >>> controls = ExplorerControls()
    >>> controls.make_controls()
    >>> controls.kind.value, controls.image is None
    ('timeline', True)
    """

    image: widgets.Text | None
    load: widgets.Button | None
    progress: widgets.FloatProgress | None
    message: widgets.HTML
    image_filter: widgets.Dropdown
    prefix: widgets.Dropdown
    majors: widgets.SelectMultiple
    line: widgets.Dropdown
    variant: widgets.Dropdown
    prereleases: widgets.Checkbox
    versions: widgets.Text
    newest: widgets.Checkbox
    dates: widgets.SelectionRangeSlider
    dates_label: widgets.HTML
    kind: widgets.ToggleButtons
    output: widgets.Output
    table: widgets.HTML
    export_path: widgets.Text
    export: widgets.Button
    export_message: widgets.HTML

    def make_controls(self, image: str | None = None) -> None:
        """Create every control; ``image`` (a reference) adds the loading row."""
        self.image, self.load, self.progress = _loader_controls(image)
        self.message = widgets.HTML(value="")
        self.image_filter = _dropdown([], "image", hidden=True)
        self.prefix = _dropdown([ALL_PREFIXES], "prefix", hidden=True)
        self.majors = widgets.SelectMultiple(options=[], description="majors", rows=5,
                                             style=_STYLE)  # fmt: skip
        self.line = _dropdown([ALL_LINES], "line")
        self.variant = _dropdown([ALL_VARIANTS, NO_VARIANT], "variant")
        self.prereleases = _checkbox("prereleases")
        # a range in PEP 440 or npm words; applied when the box is left (or Enter)
        self.versions = widgets.Text(
            value="", placeholder=">=8.15,<9  or  ^8.15", description="versions",
            continuous_update=False, style=_COLUMN,
            tooltip="a version range (PEP 440 or npm); Enter applies it",
        )  # fmt: skip
        self.newest = _checkbox("newest per line")
        # the slider's own readout joins the two labels with a bare "-" ("2018-11-2024-02")
        self.dates = widgets.SelectionRangeSlider(
            options=[("no dates", None)], index=(0, 0), description="released", readout=False,
            disabled=True, style=_STYLE, layout=widgets.Layout(width="460px"),
        )  # fmt: skip
        self.dates_label = widgets.HTML(value="")
        self.kind = widgets.ToggleButtons(options=list(KINDS), value="timeline")
        self.output = widgets.Output()
        self.table = widgets.HTML(value="")
        self.export_path = widgets.Text(value="releases.csv", description="CSV", style=_STYLE)
        self.export = widgets.Button(description="Export", icon="save")
        self.export_message = widgets.HTML(value="")

    def control_rows(self, *, filters: Sequence[widgets.Widget] = ()) -> list[widgets.Widget]:
        """The rows of the explorer page, top to bottom.

        ``filters`` are extra controls for the filter column (under the variant
        and prerelease controls), for features that add their own.
        """
        rows: list[widgets.Widget] = []
        if self.image is not None and self.load is not None and self.progress is not None:
            rows.append(widgets.HBox([self.image, self.load, self.progress]))
        column = [self.image_filter, self.prefix, self.line, self.variant, self.prereleases,
                  self.versions, self.newest, *filters]  # fmt: skip
        rows += [
            self.message,
            widgets.HBox([self.majors, widgets.VBox(column)]),
            widgets.HBox([self.dates, self.dates_label]),
            self.kind,
            self.output,
            widgets.HBox([self.export_path, self.export, self.export_message]),
            self.table,
        ]
        return rows
