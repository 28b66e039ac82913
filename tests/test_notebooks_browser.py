"""``release_cadence.ipynb`` opened in a real JupyterLab in Chromium and run with "Run All".

nbclient (tests/test_notebooks.py) checks the kernel side; this checks what a user sees:
every cell ran, no error output, and the explorer rendered as a widget (chart and table).
One JupyterLab serves the module, against the token-auth sandbox registry.  When Run All
does not finish, the failure says how far it got — the cells without a count and their
error output, an open dialog, the kernel's state, browser console and server log lines, a
screenshot — and a second test checks that report on a notebook that raises.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from browser import browser, child_env, free_port, python_cmd, stop

from regframe.testing.histories import elastic_history, python_history, seed

pytestmark = [pytest.mark.registry, pytest.mark.timeout(420)]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# What a new user would not want in a test run: news pop-ups, update checks, and
# JupyterLab 4's windowed notebook, which leaves off-screen cells out of the page.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@pytest.fixture(scope="module")
def images(registry_token) -> tuple[str, str]:
    es = [
        dataclasses.replace(p, platforms=("linux/amd64",))
        for p in elastic_history()
        if p.tags[0][0] in "78"
    ]
    py = [
        dataclasses.replace(p, platforms=p.platforms[:2])
        for p in python_history()
        if any(t.startswith(("3.11", "3.12", "3.13", "latest")) for t in p.tags)
    ]
    seed(registry_token.pusher, "lab/elasticsearch", es)
    seed(registry_token.pusher, "lab/python", py)
    return registry_token.ref("lab/elasticsearch"), registry_token.ref("lab/python")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclasses.dataclass
class Lab:
    """A running JupyterLab: its address and token, its root folder and the server's log."""

    base: str
    token: str
    root: Path
    log: Path

    def url(self, notebook: str) -> str:
        """The page of ``notebook`` alone (``reset``: no tabs restored from an earlier page)."""
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def start_session(self, notebook: str) -> None:
        """The notebook's kernel session, started as JupyterLab would (opening it attaches)."""
        session = json.dumps(
            {"path": notebook, "type": "notebook", "name": notebook, "kernel": {"name": "python3"}}
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/api/sessions", data=session, method="POST",
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 201


#: A notebook whose second cell raises: Run All must stop there and say so.
STOPS = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": f"cell-{i}", "metadata": {},
         "outputs": [], "source": source}
        for i, source in enumerate(("x = 1", "x / 0", "x + 1"))
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}  # fmt: skip


@pytest.fixture(scope="module")
def lab(images, tmp_path_factory) -> Iterator[Lab]:
    """A JupyterLab on 127.0.0.1 whose root holds a copy of the notebook, and ``stops.ipynb``."""
    home = tmp_path_factory.mktemp("lab-home")
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copy(NOTEBOOKS / "release_cadence.ipynb", root)
    (root / "stops.ipynb").write_text(json.dumps(STOPS))
    settings = home / "lab-settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    es, py = images
    port, token = free_port(), secrets.token_urlsafe(16)
    log = (home / "lab.log").open("w")
    proc = subprocess.Popen(
        python_cmd(
            "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.extension_manager=readonly",  # nothing asks PyPI
            *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
        ),
        cwd=root, env=child_env(home, REGFRAME_IMAGE=es, REGFRAME_OTHER_IMAGE=py),
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    lab = Lab(f"http://127.0.0.1:{port}", token, root, home / "lab.log")
    try:
        deadline = time.monotonic() + 120
        while not _ready(f"{lab.base}/api/status?token={token}"):
            assert proc.poll() is None, lab.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "JupyterLab did not start within 120 s"
            time.sleep(0.25)  # polling a server start, not waiting on the page
        # Opening a page attaches to its session, where a slow kernelspec fetch could
        # otherwise end in a "Select Kernel" dialog.
        for notebook in ("release_cadence.ipynb", "stops.ipynb"):
            lab.start_session(notebook)
        yield lab
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser(timeout_ms=240_000) as b:
        yield b


#: The notebook on show (JupyterLab hides the panels of other tabs).
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
#: The status bar's kernel item: "Python 3 (ipykernel) | Idle" once the notebook is attached
#: to its kernel ("No Kernel | Initializing" before).
KERNEL_STATUS = ".jp-StatusBar-TextItem[title^='Change kernel']"
#: Each code cell as the page shows it: its prompt ("[12]:" ran, "[*]:" running or queued,
#: "[ ]:" not run), its first source line, and the end of any error output.
CELLS_JS = """notebook => [...document.querySelectorAll(`${notebook} .jp-CodeCell`)].map(c => ({
    prompt: (c.querySelector('.jp-InputArea-prompt') || {}).textContent.trim(),
    source: (c.querySelector('.jp-InputArea-editor .cm-line') || {}).textContent || '',
    errors: [...c.querySelectorAll(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )].map(e => e.textContent.trim().slice(-600)),
}))"""
#: Resolves once Run All is over: "done" (every code cell has its count), "stopped" (none
#: is running or queued and some never ran, after at least one did: JupyterLab stops Run
#: All at a cell that raised) or "blocked by a dialog" (a modal waits for the user).
RUN_ALL_OVER_JS = """([notebook, n]) => {
    const p = [...document.querySelectorAll(`${notebook} .jp-CodeCell .jp-InputArea-prompt`)]
        .map(e => e.textContent);
    const ran = t => /\\[\\d+\\]/.test(t);
    if (document.querySelector('.jp-Dialog')) return "blocked by a dialog";
    if (p.length < n) return false;  // not every cell is drawn yet
    if (p.every(ran)) return "done";
    if (p.some(ran) && !p.some(t => t.includes("[*]"))) return "stopped";
    return false;
}"""


@contextmanager
def notebook_page(
    chromium: Any, lab: Lab, notebook: str, *, timeout_ms: int
) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page showing ``notebook``, and the browser console's errors and warnings.

    JupyterLab reports failed kernel connections in the console; :func:`run_all` quotes
    them when Run All does not finish.
    """
    context = chromium.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:300]}")
            if m.type in ("error", "warning") else None)  # fmt: skip
    page.set_default_timeout(timeout_ms)
    try:
        page.goto(lab.url(notebook))
        yield page, console
    finally:
        context.close()


def lab_state(page: Any, lab: Lab, console: list[str], screenshot: Path) -> str:
    """What a user would look at when Run All did not finish, in a few lines."""
    try:
        cells = page.evaluate(CELLS_JS, NOTEBOOK)
        kernel = page.locator(KERNEL_STATUS).inner_text(timeout=5_000)
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
    except Exception as exc:  # the page itself is gone: say so, keep the rest
        cells, kernel, dialogs = [], f"unreadable ({exc.__class__.__name__})", []
    counted = [bool(re.fullmatch(r"\[\d+\]:?", c["prompt"])) for c in cells]
    lines = [f"kernel: {kernel}; {sum(counted)} of {len(cells)} code cells have a count"]
    for i, (cell, ran) in enumerate(zip(cells, counted, strict=True)):
        if not ran or cell["errors"]:
            lines.append(f"  code cell {i} {cell['prompt'] or '(no prompt)'} {cell['source']!r}")
            lines += [f"    error output: {e}" for e in cell["errors"]]
    lines += [f"  dialog: {' '.join(d.split())}" for d in dialogs]
    lines += [f"  browser console: {m}" for m in console[-10:]]
    log = lab.log.read_text(errors="replace").splitlines() if lab.log.exists() else []
    notable = [ln for ln in log if re.search(r"(?i)restart|died|dead|error|traceback", ln)]
    lines += [f"  server log: {ln}" for ln in notable[-10:]]
    lines.append(f"  screenshot: {screenshot}")
    return "\n".join(lines)


def run_all(page: Any, lab: Lab, notebook: str, console: list[str], tmp_path: Path) -> None:
    """Run All once the notebook has its kernel; wait until every code cell ran, or say why not.

    The notebook toolbar's execution indicator says "idle" before the page is attached to
    its kernel; Run All then finds no kernel and asks for one in a "Select Kernel" dialog
    that nobody answers.  Wait for the status bar's kernel item instead.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect

    expect(page.locator(KERNEL_STATUS)).to_have_text(re.compile(r"^Python 3.*\| Idle$"))
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    cells = json.loads((lab.root / notebook).read_text())["cells"]
    n_code = sum(cell["cell_type"] == "code" for cell in cells)
    started = time.monotonic()
    try:
        # The cells render after the page is idle (on a busy machine a count right after
        # Run All saw 1 of 17).  Polled every 250 ms: checking on every animation frame
        # cost Chromium about 15 % more CPU during Run All, CPU the kernel needs.
        outcome = page.wait_for_function(
            RUN_ALL_OVER_JS, arg=[NOTEBOOK, n_code], polling=250
        ).json_value()
    except PlaywrightTimeoutError:
        outcome = "timed out"
    if outcome != "done":
        shot = tmp_path / "jupyterlab-run-all.png"
        page.screenshot(path=shot)
        took = time.monotonic() - started
        state = lab_state(page, lab, console, shot)
        pytest.fail(f"Run All {outcome} after {took:.0f} s; {state}", pytrace=False)


def test_release_cadence_run_all_in_jupyterlab(chromium, lab, tmp_path):
    from playwright.sync_api import expect

    # 240 s for every wait: every cell, cold reads included, on a busy machine
    with notebook_page(chromium, lab, "release_cadence.ipynb", timeout_ms=240_000) as (
        page,
        console,
    ):
        try:
            run_all(page, lab, "release_cadence.ipynb", console, tmp_path)
            errors = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            )
            assert errors.count() == 0, errors.all_inner_texts()

            explorer = page.locator(".regframe-explorer")
            expect(explorer).to_have_count(1)
            explorer.scroll_into_view_if_needed()
            expect(explorer.locator("img").first).to_be_visible()
            expect(explorer.locator("b", has_text=re.compile(r"^\d+ releases$"))).to_be_visible()
            expect(explorer.locator(".regframe-table tbody tr").first).to_be_visible()
            assert "<NA>" not in explorer.inner_text()
            charts = page.locator(".jp-OutputArea-output img")
            assert charts.count() >= 6  # four charts, the comparison, the explorer's chart
            explorer.locator(".widget-select-multiple").scroll_into_view_if_needed()
            page.screenshot(path=tmp_path / "jupyterlab-explorer.png")
        finally:
            page.screenshot(path=tmp_path / "jupyterlab-last.png")


def test_a_run_all_that_stops_says_which_cell_and_why(chromium, lab, tmp_path):
    """The failure message of :func:`run_all`, on a notebook whose second cell raises."""
    with (
        notebook_page(chromium, lab, "stops.ipynb", timeout_ms=120_000) as (page, console),
        pytest.raises(pytest.fail.Exception) as failed,
    ):
        run_all(page, lab, "stops.ipynb", console, tmp_path)
    message = str(failed.value)
    assert message.startswith("Run All stopped after "), message
    assert "2 of 3 code cells have a count" in message, message
    assert "code cell 1 [2]: 'x / 0'" in message, message
    assert "ZeroDivisionError: division by zero" in message, message
    assert "code cell 2 [ ]: 'x + 1'" in message, message
    assert "code cell 0" not in message  # it ran, without error: not worth a line
    shot = Path(message.rsplit("screenshot: ", 1)[1].strip())
    assert shot.is_file() and shot.stat().st_size > 10_000
