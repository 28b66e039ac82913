"""Parameter text written once and put into every docstring that shares it (seaborn's way).

A docstring line that is only ``{name}`` is replaced by :data:`PARAMETERS` ``[name]``,
indented like the placeholder, so functions taking the same argument describe it in
the same words and a change of meaning is written in one place.  Only whole-line
placeholders are replaced: braces elsewhere (dicts in examples) stay as they are.  Every
layer may import this module; it imports nothing from regframe.

Examples
--------
>>> @fill_docs
... def chart(ax=None):
...     '''Draw.
...
...     Parameters
...     ----------
...     {ax}
...     '''
>>> import inspect
>>> print(inspect.cleandoc(chart.__doc__))
Draw.
<BLANKLINE>
Parameters
----------
ax
    Axes to draw on; a new figure when None.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["PARAMETERS", "fill_docs"]

_F = TypeVar("_F", bound=Callable[..., Any])
_PLACEHOLDER = re.compile(r"( *)\{(\w+)\}")

#: The shared entries, each a numpydoc ``name`` line and its indented description.
PARAMETERS: dict[str, str] = {
    # -- the charts of regframe.plot and the cadence tables
    "df": """
        df
            A tags frame with dates (:func:`regframe.read_tags` with ``dates=True``) or a
            releases frame (:func:`regframe.releases`).
        """,
    "ax": """
        ax
            Axes to draw on; a new figure when None.
        """,
    "top": """
        top
            Keep the N most recently active ``major.minor`` lines as rows of their own and
            fold the others into one grey row per major (``None``: a row per line).
        """,
    "prereleases": """
        prereleases
            With a tags frame, count prereleases (``rc2``, ``beta.3``) as releases of their
            own, as :func:`regframe.releases` does with ``prereleases=True``; a releases
            frame is taken as it is.
        """,
    "freq": """
        freq
            Period start alias: ``"YS"`` (years), ``"QS"`` (quarters), ``"MS"`` (months);
            any pandas offset alias works.
        """,
    # a Raises entry: what every table and chart that needs release dates raises
    "raises_needs_dates": """
        NoReleasesError
            The frame has no release at all.
        MissingDatesError
            None of its releases has a date (the tags were read without ``dates=True``).
        """,
}


def fill_docs(fn: _F) -> _F:
    """Replace each ``{name}`` line of ``fn``'s docstring with ``PARAMETERS[name]``.

    Raises
    ------
    KeyError
        A placeholder names no entry (at import, so a typo never reaches a reader).
    """
    if not fn.__doc__:  # python -OO
        return fn
    lines: list[str] = []
    for line in fn.__doc__.splitlines():
        found = _PLACEHOLDER.fullmatch(line)
        if found is None:
            lines.append(line)
            continue
        indent, name = found.groups()
        if name not in PARAMETERS:
            where = getattr(fn, "__qualname__", fn)
            raise KeyError(f"{where}: no shared docstring entry {{{name}}}")
        text = textwrap.dedent(PARAMETERS[name]).strip("\n")
        lines += [indent + part if part else "" for part in text.splitlines()]
    fn.__doc__ = "\n".join(lines)
    return fn
