"""Docstring examples run, and every public function documents itself with one."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import regframe

MODULES = sorted(m.name for m in pkgutil.walk_packages(regframe.__path__, "regframe."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("name", [n for n in regframe.__all__ if n != "__version__"])
def test_public_api_is_documented(name):
    obj = getattr(regframe, name)
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    if inspect.isfunction(obj):
        assert "Example" in doc, f"{name} has no example"
        assert "Parameters" in doc or not inspect.signature(obj).parameters, f"{name}: no Parameters"


def test_plot_functions_take_ax_and_are_documented():
    from regframe import plot

    for fn in (plot.timeline, plot.cadence, plot.intervals, plot.lines):
        params = inspect.signature(fn).parameters
        assert "ax" in params and params["ax"].default is None
        assert "Example" in (inspect.getdoc(fn) or "")
