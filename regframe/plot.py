"""Release-cadence charts on matplotlib Axes.

Every function takes the tags frame (:func:`regframe.read_tags` with
``dates=True``) *or* the releases frame (:func:`regframe.releases`), draws on
``ax`` (a new constrained-layout figure when ``ax`` is None) and returns the
Axes.  Nothing here calls ``plt.show()``: in a notebook the figure shows
itself, in a script call ``ax.figure.savefig(...)``.

Releases are placed at ``released``, their release date (for a rebuilt image
the estimate :func:`regframe.releases` makes from its predecessors and rebuild
waves, never a rebuild's build time); releases without a date are left out.

Long histories stay readable: ``top=`` keeps the N most recently active
``major.minor`` lines as rows of their own and folds the others, major by
major, into summary rows such as ``7.0–7.16 (17 lines)``.  Legends sit
outside the plotting area so they never hide data.  One module per chart lives
in :mod:`regframe.charts`.
"""

from __future__ import annotations

from regframe import cadence as _cad
from regframe.charts.cadence import cadence
from regframe.charts.common import line_rows, row_height
from regframe.charts.intervals import intervals
from regframe.charts.lines import lines
from regframe.charts.moves import moves
from regframe.charts.timeline import timeline

__all__ = [
    "KINDS", "cadence", "intervals", "line_rows", "lines", "moves", "row_height", "timeline",
]  # fmt: skip

#: The release-cadence charts, each a function of this module taking a frame and ``ax``.
KINDS = _cad.PLOT_KINDS
