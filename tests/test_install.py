"""Installing regframe as users do: a built wheel in a fresh venv, the oldest supported
dependency versions, and a CI run that refuses to skip."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib as toml
else:  # pytest itself depends on tomli before 3.11
    import tomli as toml

REPO = Path(__file__).resolve().parents[1]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "CI")}
    env.update(extra)
    return env


@pytest.mark.timeout(600)
def test_wheel_in_a_fresh_venv_runs_the_demo_outside_the_source_tree(tmp_path, registry_open):
    # registry_open: the docker-registry binary the demo starts is installed.
    src = tmp_path / "src"
    shutil.copytree(
        REPO / "regframe", src / "regframe", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    # Built from a copy so the source tree gets no build/ or egg-info litter.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(src)],
        check=True, capture_output=True, text=True, timeout=300, env=_clean_env(),
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("regframe-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("testing/__init__.py", "testing/sandbox.py", "cli/__init__.py",
                   "cli/__main__.py", "client/transport.py", "parsing/reference.py",
                   "frame/read.py", "py.typed"):  # fmt: skip
        assert f"regframe/{module}" in names, module
    assert not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            text=True,
        ).strip()
    )
    # The dependencies come from the running environment (installing them again would only
    # cost minutes); a plain path line does not run that environment's own .pth hooks, so
    # an editable regframe there stays invisible.
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_regframe_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-deps", "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, text=True, timeout=300, env=_clean_env(),
    )  # fmt: skip

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.check_output(
        [venv / "bin" / "python", "-c", "import regframe; print(regframe.__file__)"],
        cwd=work, text=True, env=_clean_env(),
    )  # fmt: skip
    assert Path(where.strip()).is_relative_to(venv)
    proc = subprocess.run(
        [venv / "bin" / "regframe", "demo", "--quick", "--out", "demo"],
        cwd=work, capture_output=True, text=True, timeout=500, env=_clean_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "seeded elastic/elasticsearch" in proc.stdout
    for name in ("tags.csv", "releases.csv", "timeline.png"):
        assert (work / "demo" / name).stat().st_size > 0


def test_oldest_constraints_pin_every_declared_lower_bound():
    pinned = {}
    for line in (REPO / "scripts" / "constraints-oldest.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pinned[name.lower()] = version
    with (REPO / "pyproject.toml").open("rb") as fh:
        project = toml.load(fh)["project"]
    declared = {}
    # The fast extra is a runtime dependency too (the libcurl transport): pinned alike.
    for requirement in project["dependencies"] + project["optional-dependencies"]["fast"]:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", requirement.strip())
        assert found, f"runtime dependency without a plain lower bound: {requirement}"
        declared[found.group(1).lower()] = found.group(2)
    assert set(pinned) == set(declared)
    for name, bound in declared.items():
        assert pinned[name].split(".")[: len(bound.split("."))] == bound.split("."), name
        assert all(part == "0" for part in pinned[name].split(".")[len(bound.split(".")):]), name


def _run_pytest(tmp_path: Path, test_source: str, path: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_ci_probe.py"
    test.write_text(textwrap.dedent(test_source))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
         "--rootdir", str(tmp_path), str(test)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=_clean_env(CI="true", PATH=path,
                       PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")])),
    )  # fmt: skip


def test_ci_stops_at_once_when_a_program_is_missing(tmp_path):
    # Only the interpreter's own directory on PATH: no docker-registry, skopeo or chromium.
    proc = _run_pytest(tmp_path, "def test_x():\n    pass\n", str(Path(sys.executable).parent))
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    for package in ("docker-registry", "skopeo", "chromium"):
        assert f"apt-get install {package}" in out
    assert "1 passed" not in out


def test_ci_turns_a_skip_into_a_failure(tmp_path):
    proc = _run_pytest(
        tmp_path,
        """
        import pytest

        def test_skipped():
            pytest.skip("no such binary")

        @pytest.mark.xfail(reason="known")
        def test_expected_failure():
            assert False
        """,
        os.environ["PATH"],
    )
    assert proc.returncode == 1, proc.stdout
    assert "skipped with CI=true, where every test must run: no such binary" in proc.stdout
    assert "1 failed, 1 xfailed" in proc.stdout
