"""The layers only import downward: parsing ← client ← frame ← exploration, testing apart.

Checked on the source text (every ``import``, including the lazy ones inside functions),
so a shortcut taken in a rarely-run code path still fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "regframe"
LIBRARY_LAYERS = ("parsing", "client", "frame")
#: What each layer may import from regframe (besides itself and the modules of ``EVERYWHERE``).
#: Imported by every layer, importing nothing of regframe's own.
EVERYWHERE = ("errors", "_version", "_docstrings", "_words")
ALLOWED = {
    "parsing": set(),
    "client": {"parsing"},
    "frame": {"parsing", "client"},
}


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "regframe" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in (*LIBRARY_LAYERS, "testing", *EVERYWHERE) else "exploration"


@pytest.mark.parametrize("layer", LIBRARY_LAYERS)
def test_layer_imports_only_downward(layer: str) -> None:
    wrong = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            target = _layer_of(name)
            if target in (None, layer, *EVERYWHERE) or target in ALLOWED[layer]:
                continue
            wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_registry_client_needs_no_pandas() -> None:
    """Documents, tag APIs and the transport work on plain values; the frame layer adds pandas."""
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in sorted((PACKAGE / "client").rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in ("pandas", "numpy")
    ]
    assert not wrong, "\n".join(wrong)


def test_library_never_imports_the_testing_package() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for layer in LIBRARY_LAYERS
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in _imports(path)
        if name.startswith("regframe.testing")
    ]
    assert not wrong, "\n".join(wrong)
