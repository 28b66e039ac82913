"""House rules of the package, checked on its source: no import circles, short functions,
small modules, and every module named in docs/ARCHITECTURE.md.

Known offenders being worked on are listed below, each with the engineer who owns it.
The lists can only shrink: an entry that no longer offends fails its test, so it must be
removed in the change that fixes it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "regframe"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
MAX_MODULE_LINES = 600
MAX_BODY_LINES = 60

#: Modules over MAX_MODULE_LINES lines (path below regframe/ → owner).
LONG_MODULES: dict[str, str] = {
}

#: Function bodies over MAX_BODY_LINES lines outside regframe/testing/
#: ("path:Class.function" → owner).
LONG_FUNCTIONS: dict[str, str] = {
}


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement below ``node``, lazy ones included, ``TYPE_CHECKING`` blocks not."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _run_time_imports(ast.Module(body=[other], type_ignores=[]))
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _run_time_imports(child)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _targets(module: str, path: Path) -> set[str]:
    """The package's modules that ``module`` imports when it runs.

    ``from a.b import c`` depends on ``a.b.c`` when that is a module, else on ``a.b``.
    The parent packages Python initialises on the way are left out: every module would
    otherwise depend on ``regframe/__init__.py``, which imports the public API.
    """
    found: set[str] = set()
    for node in _run_time_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            package = _package_of(module, path).split(".")
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, *([base] if base else [])])
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            found.add(sub if sub in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _import_graph() -> dict[str, set[str]]:
    return {module: _targets(module, path) for module, path in MODULES.items()}


def test_no_import_circle_at_run_time() -> None:
    """Following one call never re-enters a module it came through (lazy imports count)."""
    cycles = _cycles(_import_graph())
    assert not cycles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_circle_finder_finds_circles() -> None:
    """The check above could fail: a lazy import back, and one only in TYPE_CHECKING, on toy code."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    lazy = ast.parse(
        "def f():\n    import x\nif TYPE_CHECKING:\n    import y\nelse:\n    import z\n"
    )
    names = [a.name for n in _run_time_imports(lazy) for a in n.names]
    assert names == ["x", "z"]


def test_import_graph_sees_the_known_edges() -> None:
    """The walk resolves package-relative forms: it sees what the package really imports."""
    graph = _import_graph()
    assert "regframe.frame.one" in graph["regframe.frame.many"]
    assert "regframe.client.manifests" in graph["regframe.frame.chains"]
    # a lazy import inside a function counts: it runs whenever that function does
    assert "regframe.frame.read" in graph["regframe.cli.options"]
    # ``from regframe.frame import history_schema as schema`` is the submodule, not the package
    assert "regframe.frame.history_schema" in graph["regframe.frame.history_store"]
    assert "regframe.frame" not in graph["regframe.frame.history_store"]


def _body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the end of the function."""
    body = fn.body
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        body = body[1:]
    if not body:
        return 0
    assert fn.end_lineno is not None
    return fn.end_lineno - body[0].lineno + 1


def _functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """``(qualified name, body lines)`` of every function and method, nested ones included."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + child.name, _body_lines(child)
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def _long_functions() -> dict[str, int]:
    out = {}
    for path in MODULES.values():
        rel = _rel(path)
        if rel.startswith("testing/"):
            continue  # test infrastructure: long scripted set-ups read better whole
        for name, lines in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            if lines > MAX_BODY_LINES:
                out[f"{rel}:{name}"] = lines
    return out


def _long_modules() -> dict[str, int]:
    out = {}
    for path in MODULES.values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            out[_rel(path)] = lines
    return out


def _check_allow_list(found: dict[str, int], allowed: dict[str, str], what: str) -> None:
    new = {k: v for k, v in found.items() if k not in allowed}
    stale = sorted(k for k in allowed if k not in found)
    assert not new, f"{what} (lines): {new}; split them"
    assert not stale, f"no longer {what}, remove from the allow-list: {stale}"


def test_function_bodies_are_short() -> None:
    _check_allow_list(_long_functions(), LONG_FUNCTIONS, f"function bodies over {MAX_BODY_LINES}")


def test_modules_are_small() -> None:
    _check_allow_list(_long_modules(), LONG_MODULES, f"modules over {MAX_MODULE_LINES}")


def test_the_length_measures_count_what_they_say() -> None:
    """A 61-line body fails and a 60-line one passes, docstring aside."""
    lines = "\n".join(f"    x{i} = {i}" for i in range(61))
    tree = ast.parse(f'def f():\n    """Doc.\n\n    More.\n    """\n{lines}\n')
    assert dict(_functions(tree)) == {"f": 61}
    nested = ast.parse("class C:\n    def m(self):\n        def inner():\n            pass\n")
    assert dict(_functions(nested)) == {"C.m": 2, "C.m.inner": 1}


def test_allow_lists_name_an_owner() -> None:
    owners = {"house", "pushed", "released", "bulk", "versions", "transport"}
    assert set(LONG_MODULES.values()) | set(LONG_FUNCTIONS.values()) <= owners


def _named_in(text: str, rel: str) -> bool:
    """``frame/one.py`` (or ``regframe/frame/one.py``) stands in the text as a path of its own."""
    return re.search(rf"(?<![\w/.-])(regframe/)?{re.escape(rel)}(?![\w/])", text) is not None


@pytest.mark.parametrize("rel", sorted(_rel(p) for p in MODULES.values()))
def test_architecture_names_every_module(rel: str) -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    assert _named_in(text, rel), f"docs/ARCHITECTURE.md does not name {rel}"


def test_a_module_is_named_by_its_own_path() -> None:
    """``plot.py`` is not named by ``cli/plot.py``, nor ``cli/plot.py`` by ``plot.py``."""
    assert not _named_in("see `cli/plot.py`", "plot.py")
    assert _named_in("see `plot.py` and more", "plot.py")
    assert not _named_in("see `plot.py`", "cli/plot.py")
    assert _named_in("`regframe/__init__.py`", "__init__.py")
