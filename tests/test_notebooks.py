"""The notebooks in notebooks/ executed by a real Jupyter kernel (nbclient) against the sandbox.

Both notebooks read ``REGFRAME_IMAGE`` (and the cadence one ``REGFRAME_OTHER_IMAGE``),
so here they explore synthetic histories pushed into the real token-auth registry.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from regframe.testing.histories import elastic_history, python_history, seed

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def images(registry_token):
    # A trimmed history keeps the suite quick: majors 7–8 and two python lines, one platform.
    es = [dataclasses.replace(p, platforms=("linux/amd64",)) for p in elastic_history() if p.tags[0][0] in "78"]
    py = [
        dataclasses.replace(p, platforms=p.platforms[:2])
        for p in python_history()
        if any(t.startswith(("3.11", "3.12", "3.13", "latest")) for t in p.tags)
    ]
    seed(registry_token.pusher, "nb/elasticsearch", es)
    seed(registry_token.pusher, "nb/python", py)
    return registry_token.ref("nb/elasticsearch"), registry_token.ref("nb/python"), len(es)


def _run(name: str, tmp_path: Path, env: dict[str, str], monkeypatch) -> nbformat.NotebookNode:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "stored with outputs"
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise AssertionError(f"{out['ename']}: {out['evalue']}")
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _env(tmp_path: Path, image: str, other: str = "") -> dict[str, str]:
    return {
        "REGFRAME_IMAGE": image,
        "REGFRAME_OTHER_IMAGE": other,
        "REGFRAME_CACHE_DIR": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path / ".docker"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }


@pytest.mark.timeout(300)
def test_quickstart_runs_clean(images, tmp_path, monkeypatch):
    es, _, _ = images
    nb = _run("quickstart.ipynb", tmp_path, _env(tmp_path, es), monkeypatch)
    text = _text(nb)
    assert "nb/elasticsearch" in text
    csv = (tmp_path / "quickstart-tags.csv").read_text().splitlines()
    assert csv[0].startswith("tag,release,major,minor,patch")
    assert all(line.startswith("8.") for line in csv[1:])  # newest major, finals, no variants
    assert len(csv) > 10


@pytest.mark.timeout(300)
def test_release_cadence_runs_clean_with_four_charts_and_explorer(images, tmp_path, monkeypatch):
    es, py, _ = images
    nb = _run("release_cadence.ipynb", tmp_path, _env(tmp_path, es, py), monkeypatch)
    text = _text(nb)
    pngs = sum(
        1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    )
    assert pngs >= 6  # timeline, cadence, intervals, lines, comparison cadence and timeline
    # "compare two projects" reads both images in one frame, kept apart by the image column
    assert es in text and py in text
    assert "image" in text and "major" in text
    widgets = [
        o for c in nb.cells for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, "the explorer did not render as a widget"
    assert os.environ["REGFRAME_IMAGE"] == es
