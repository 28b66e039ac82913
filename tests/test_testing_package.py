"""``regframe.testing`` as a public test helper: its import contract, exports and layering."""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import regframe
import regframe.testing
from regframe.errors import RegframeError, SandboxExtraMissingError

HINT = "pip install 'regframe[sandbox]'"
TESTING_MODULES = sorted(
    m.name for m in pkgutil.iter_modules(regframe.testing.__path__, "regframe.testing.")
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("blocked", ["jwt", "cryptography", "bcrypt"])
def test_import_without_the_extra_is_one_clear_error(blocked: str) -> None:
    # A None entry in sys.modules is how Python spells "this module cannot be imported".
    proc = _python(
        f"""
        import sys
        sys.modules[{blocked!r}] = None
        try:
            import regframe.testing
        except ImportError as exc:
            from regframe.errors import RegframeError, SandboxExtraMissingError
            assert isinstance(exc, SandboxExtraMissingError), type(exc)
            assert isinstance(exc, RegframeError)
            print(exc)
            sys.exit(3)
        """
    )
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    assert HINT in lines[0]
    assert f"missing: {blocked}" in lines[0]


def test_import_without_the_extra_uncaught_ends_in_that_line() -> None:
    proc = _python("import sys; sys.modules['jwt'] = None; import regframe.testing")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("regframe.errors.SandboxExtraMissingError: ")
    assert HINT in last


def test_the_library_never_imports_the_testing_package() -> None:
    proc = _python(
        """
        import importlib, pathlib, sys
        import regframe
        root = pathlib.Path(regframe.__file__).parent
        # Not pkgutil.walk_packages: it imports every package it walks into, testing included.
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root.parent).with_suffix("").parts
            if parts[1:2] == ("testing",):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # an optional extra that is not installed here
        print(len([m for m in sys.modules if m.startswith("regframe.")]))
        print(sorted(m for m in sys.modules if m.startswith("regframe.testing")))
        """
    )
    assert proc.returncode == 0, proc.stderr
    imported, testing = proc.stdout.strip().splitlines()
    assert int(imported) >= 30  # the walk really imported the library
    assert testing == "[]"


@pytest.mark.parametrize("name", regframe.testing.__all__)
def test_exports_are_documented(name: str) -> None:
    obj = getattr(regframe.testing, name)
    if isinstance(obj, str):
        assert HINT in obj
        return
    assert inspect.getdoc(obj), f"{name} has no docstring"


def test_package_docstring_has_examples() -> None:
    doc = regframe.testing.__doc__ or ""
    assert "Examples\n--------" in doc
    for name in ("Sandbox", "Pusher", "LatencyProxy", "FaultProxy", "TokenServer"):
        assert name in doc


def test_exceptions_live_in_errors() -> None:
    from regframe.testing import SandboxError, SandboxUnavailable

    for cls in (SandboxError, SandboxUnavailable, SandboxExtraMissingError):
        assert cls.__module__ == "regframe.errors"
        assert issubclass(cls, RegframeError)
    assert issubclass(SandboxExtraMissingError, ImportError)


@pytest.mark.parametrize("name", TESTING_MODULES)
def test_module_states_its_contract_and_logs_under_its_name(name: str) -> None:
    module = importlib.import_module(name)
    doc = (module.__doc__ or "").strip()
    first = doc.splitlines()[0] if doc else ""
    assert first.endswith("."), f"{name}: first docstring line is not a one-line contract"
    assert len(first) <= 100
    # A module that logs does so under its own name (so one part can be turned up alone);
    # one that never logs keeps no logger around.
    loggers = [v for v in vars(module).values() if isinstance(v, logging.Logger)]
    assert all(logger.name == name for logger in loggers), [lg.name for lg in loggers]
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    if re.search(r"\b(?:log|logger)\.(?:debug|info|warning|error|exception)\(", source):
        assert loggers, f"{name} logs but has no module logger"
