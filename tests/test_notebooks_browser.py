"""``release_cadence.ipynb`` opened in a real JupyterLab in Chromium and run with "Run All".

nbclient (tests/test_notebooks.py) checks the kernel side; this checks what a user sees:
every cell ran, no error output, and the explorer rendered as a widget (chart and table).
One JupyterLab serves the module, against the token-auth sandbox registry.
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


@pytest.fixture(scope="module")
def lab(images, tmp_path_factory) -> Iterator[str]:
    """A JupyterLab on 127.0.0.1 whose root holds a copy of the notebook; yields its base URL."""
    home = tmp_path_factory.mktemp("lab-home")
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copy(NOTEBOOKS / "release_cadence.ipynb", root)
    settings = home / "lab-settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    es, py = images
    port, token = free_port(), secrets.token_urlsafe(16)
    proc = subprocess.Popen(
        python_cmd(
            "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.extension_manager=readonly",  # nothing asks PyPI
            *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
        ),
        cwd=root, env=child_env(home, REGFRAME_IMAGE=es, REGFRAME_OTHER_IMAGE=py),
        stdout=subprocess.DEVNULL, stderr=(home / "lab.log").open("w"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _ready(f"{base}/api/status?token={token}"):
            assert proc.poll() is None, (home / "lab.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "JupyterLab did not start within 120 s"
            time.sleep(0.25)  # polling a server start, not waiting on the page
        # The notebook's session, started as JupyterLab would: opening the page then attaches to
        # it, where a slow kernelspec fetch could otherwise end in a "Select Kernel" dialog.
        session = json.dumps(
            {"path": "release_cadence.ipynb", "type": "notebook", "name": "release_cadence.ipynb",
             "kernel": {"name": "python3"}}
        ).encode()  # fmt: skip
        request = urllib.request.Request(
            f"{base}/api/sessions", data=session, method="POST",
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 201
        yield f"{base}/lab/tree/release_cadence.ipynb?token={token}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser(timeout_ms=240_000) as b:
        yield b


def test_release_cadence_run_all_in_jupyterlab(chromium, lab, tmp_path):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(240_000)  # every cell, cold reads included, on a busy machine
    try:
        page.goto(lab)
        expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible()
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()

        # The notebook's cells render after the page is idle; on a busy machine counting at
        # once saw only the first one.  Wait for what the user sees: all code cells drawn.
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt').length >= 10"
        )
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt")
        n_code = prompts.count()
        assert n_code >= 10
        # every code cell shows its execution count: "[12]:", not "[ ]:" or "[*]:"
        page.wait_for_function(
            """n => {
                const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                return p.length === n && p.every(e => /\\[\\d+\\]/.test(e.textContent));
            }""",
            arg=n_code,
        )
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
        context.close()
