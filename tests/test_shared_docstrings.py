"""Shared parameter text (regframe/_docstrings.py) reaches every docstring that names it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import regframe
from regframe._docstrings import PARAMETERS, fill_docs

_LEFT_OVER = re.compile(r"^ *\{\w+\} *$", re.MULTILINE)


def test_a_placeholder_takes_the_indentation_of_its_line() -> None:
    class Chart:
        @fill_docs
        def draw(self, ax: object = None, spec: dict[str, int] | None = None) -> None:
            """Draw.

            Parameters
            ----------
            {ax}
            spec
                For example ``{"a": 1}``; braces inside a line stay.
            """

    # Python 3.13 strips docstrings' common indentation when compiling: compare after it.
    doc = inspect.cleandoc(Chart.draw.__doc__ or "")
    assert "\nax\n    Axes to draw on; a new figure when None.\nspec\n" in doc
    assert '``{"a": 1}``' in doc and "{ax}" not in doc


def test_an_unknown_placeholder_fails_at_import() -> None:
    with pytest.raises(KeyError, match=r"no shared docstring entry \{axes\}"):

        @fill_docs
        def chart() -> None:
            """Draw.

            {axes}
            """


def test_every_entry_starts_with_its_name_line() -> None:
    for key, text in PARAMETERS.items():
        first = text.strip("\n").splitlines()[0].strip()
        assert re.fullmatch(r"[A-Za-z_]\w*", first), (key, first)


def _public_callables() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for info in pkgutil.walk_packages(regframe.__path__, "regframe."):
        if info.name.startswith("regframe.testing") or info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed here
            continue
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) == info.name and (
                inspect.isfunction(value) or inspect.isclass(value)
            ):
                found.append((f"{info.name}.{name}", value))
    return found


def test_no_docstring_is_left_with_a_placeholder() -> None:
    """A docstring naming ``{freq}`` without ``@fill_docs`` would show the braces to a reader."""
    left = [
        name
        for name, value in _public_callables()
        if _LEFT_OVER.search(inspect.getdoc(value) or "")
    ]
    assert not left
    charts = importlib.import_module("regframe.plot")
    assert "Period start alias" in (charts.cadence.__doc__ or "")
    cadence = importlib.import_module("regframe.cadence")
    assert "Period start alias" in (cadence.per_period.__doc__ or "")
