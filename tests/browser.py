"""Helpers for the browser tests: Debian's Chromium through Playwright, servers run as children.

Playwright never downloads a browser here: it drives ``/usr/bin/chromium`` (``setup.sh``
installs it with apt).  Without it the browser tests skip with the install hint, except under
``CI=true``, where a missing Chromium fails loudly instead of passing off a skip as coverage.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest

CHROMIUM = os.environ.get("REGFRAME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WORKTREE = Path(__file__).resolve().parent.parent


def chromium_path() -> str:
    """The Chromium binary, or a skip (a failure under CI) saying how to install it."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path:
        return path
    message = f"Chromium not found at {CHROMIUM}: run scripts/setup.sh (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def browser(timeout_ms: int = 120_000) -> Iterator[Any]:
    """A headless Chromium (Playwright ``Browser``) for one test module.

    ``timeout_ms`` also bounds every ``expect``: a cold read on a busy machine is slow.
    """
    path = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=timeout_ms)
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for a server child: this worktree's regframe, a private HOME and Jupyter dirs."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(WORKTREE), env.get("PYTHONPATH", "")])),
        HOME=str(home),
        DOCKER_CONFIG=str(home / ".docker"),
        REGFRAME_CACHE_DIR=str(home / ".cache" / "regframe"),
        XDG_RUNTIME_DIR=str(home / "run"),
        XDG_CONFIG_HOME=str(home / ".config"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        PYTHONUNBUFFERED="1",
    )
    env.pop("REGISTRY_AUTH_FILE", None)
    env.update(extra)
    return env


def wait_for_line(proc: subprocess.Popen[str], pattern: str, timeout: float = 120.0) -> str:
    """The first stdout line of ``proc`` matching ``pattern`` (the process must print it)."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found.group(0)
    raise AssertionError(
        f"no line matching {pattern!r} from {proc.args!r}: {''.join(seen)[-2000:]}"
    )


def family(pid: int) -> list[psutil.Process]:
    """``pid`` and every process below it that is still alive."""
    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop(proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """SIGTERM ``proc`` (and, if it leaves any, its descendants); wait for all of them."""
    members = family(proc.pid)
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
    _, alive = psutil.wait_procs(members, timeout=timeout)
    for p in alive:
        p.kill()


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]
