"""``regframe.explore``: an interactive explorer of an image's releases for notebooks and Voila.

``regframe.explore(df)`` or ``regframe.explore("quay.io/prometheus/prometheus")``
returns an :class:`~regframe.explorer.Explorer`, itself an :class:`ipywidgets.VBox`
(so it sits in a ``Tab``, an ``HBox`` or a Voila page like any widget): filter
controls on top, a chart (one of the four :mod:`regframe.plot` kinds), a CSV
export and the filtered releases as a scrolling table.  Each control is a public
attribute, so a test (or a script) drives the UI by setting ``.value``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from regframe import explorer as _explorer
from regframe.explorer import *  # noqa: F403 - the explorer's public names are this module's
from regframe.explorer import Explorer, Loader

__all__ = ["explore"]
__all__ += _explorer.__all__


def explore(
    df_or_image: pd.DataFrame | str,
    /,
    *,
    loader: Loader | None = None,
    **read_kwargs: Any,
) -> Explorer:
    """Open an interactive explorer of releases in a notebook.

    Parameters
    ----------
    df_or_image
        A tags frame (best with ``dates=True``), a releases frame, or an image
        reference to load right away with ``loader`` (``""``: an empty image
        box to type one into).
    loader
        ``loader(image, dates=True, **read_kwargs) -> DataFrame``; defaults to
        :func:`regframe.read_tags`.  A loader that accepts ``progress`` gets a
        ``progress(done, total)`` callable that moves the explorer's bar.
    **read_kwargs
        Passed to ``loader`` (``platform=``, ``auth=``, ``insecure=`` ...).

    Returns
    -------
    Explorer
        An :class:`ipywidgets.VBox`; its controls are attributes.

    Examples
    --------
    >>> ex = rf.explore("quay.io/prometheus/prometheus")  # doctest: +SKIP
    >>> ex.majors.value = (2,)                             # doctest: +SKIP
    >>> ex.filtered.head()                                 # doctest: +SKIP
    >>> ipywidgets.Tab([ex, rf.explore(other)])           # doctest: +SKIP
    """
    if isinstance(df_or_image, str):
        return Explorer(image=df_or_image, loader=loader, read_kwargs=read_kwargs)
    if isinstance(df_or_image, pd.DataFrame):
        if read_kwargs:
            raise TypeError(
                "read options (" + ", ".join(sorted(read_kwargs)) + ") only apply when "
                "explore() is given an image reference"
            )
        return Explorer(df_or_image, loader=loader)
    raise TypeError(
        "explore() needs a DataFrame from regframe.read_tags or an image reference string, "
        f"not {type(df_or_image).__name__}"
    )
