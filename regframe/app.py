"""``regframe app``: the explorer as a web page, served by Voila on 127.0.0.1 until a signal.

:func:`serve` writes a one-cell notebook calling :func:`page` into a private
temporary folder and runs Voila on it as a child process, with a random token
in the URL.  Ctrl-C, SIGTERM and SIGHUP stop Voila and every process it started
(its kernels run in their own sessions, so they are collected by walking the
process tree rather than by signalling a process group).  Needs the ``app``
extra (``pip install 'regframe[app]'``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

from regframe.errors import AppError

__all__ = ["ENV_DIR", "ENV_IMAGE", "page", "serve"]

logger = logging.getLogger(__name__)

#: The image the page loads first (empty: the page waits for one).
ENV_IMAGE = "REGFRAME_APP_IMAGE"
#: Folder the page's exports are written to (where ``regframe app`` was started).
ENV_DIR = "REGFRAME_APP_DIR"

_INSTALL = "regframe app needs Voila: pip install 'regframe[app]'"
_STARTUP_TIMEOUT = 60.0
_STOP_GRACE = 5.0
_HEADING = (
    '<h2 style="margin:0 0 4px 0">regframe</h2>'
    '<div style="color:#555;margin-bottom:8px">Tags, versions, release dates and release '
    "cadence of a container image. Enter an image and press Load.</div>"
)


def page(image: str | None = None) -> Any:
    """The app's page: a heading and an :class:`~regframe.widgets.Explorer` with an image box.

    Parameters
    ----------
    image
        Image to load; by default ``$REGFRAME_APP_IMAGE`` (empty: wait for the
        user to type one and press Load).  Inside a running kernel the load
        starts once the page is shown, so its progress bar is seen moving.

    Returns
    -------
    ipywidgets.VBox
        The heading above the explorer.

    Examples
    --------
    >>> box = page("")
    >>> type(box.children[1]).__name__
    'Explorer'
    """
    import ipywidgets as widgets

    from regframe.widgets import explore

    folder = os.environ.get(ENV_DIR)
    if folder:
        os.chdir(folder)  # exports land where the user started the app, not in a temp dir
    if image is None:
        image = os.environ.get(ENV_IMAGE, "")
    explorer = explore("")
    assert explorer.image is not None
    explorer.image.value = image
    if image:
        _after_display(explorer.reload)
    return widgets.VBox([widgets.HTML(_HEADING), explorer])


def _after_display(job: Any) -> None:
    """Run ``job`` once the current cell has finished (and its output is shown), else now."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no kernel event loop (a script, a test): nothing to wait for
        loop = None
    if loop is None:
        job()
    else:
        loop.call_soon(job)


def _notebook(path: Path) -> None:
    """Write the one-cell notebook Voila serves (nbformat 4, written as plain JSON)."""
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "id": "regframe-app",
        "metadata": {},
        "outputs": [],
        "source": "from regframe.app import page\n\npage()",
    }
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {
        "cells": [cell],
        "metadata": {"kernelspec": kernelspec, "title": "regframe"},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _listening(port: int) -> bool:
    # a TCP connect, not a page request: requesting the page would start a kernel
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stop_tree(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``proc`` and all its descendants: SIGTERM, a grace period, then SIGKILL."""
    import psutil

    try:
        parent = psutil.Process(proc.pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        family = []
    for p in family:
        with suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(family, timeout=_STOP_GRACE)
    for p in alive:
        logger.debug("killing %s, still running after SIGTERM", p.pid)
        with suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=_STOP_GRACE)
    proc.wait()


class _Stop(Exception):
    """A signal asked the server to stop."""


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`_Stop` (Ctrl-C already raises KeyboardInterrupt)."""

    def handler(signum: int, _: FrameType | None) -> None:
        raise _Stop(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(
    image: str = "",
    *,
    port: int | None = None,
    open_browser: bool = True,
    ready: Any = None,
) -> int:
    """Serve the explorer page until Ctrl-C, SIGTERM or SIGHUP stops it and its kernels.

    Parameters
    ----------
    image
        Image the page loads first; empty for an empty image box.
    port
        Loopback port; by default a free one.
    open_browser
        Open the page in the default browser once it answers.
    ready
        Called with the page URL once it answers (the URL is also printed).

    Returns
    -------
    int
        1 when Voila could not start or exited on its own.

    Raises
    ------
    AppError
        Voila is not installed or the port is taken.
    KeyboardInterrupt
        Ctrl-C, SIGTERM or SIGHUP stopped it, after Voila and its kernels.

    Examples
    --------
    >>> serve("quay.io/prometheus/prometheus", port=8866)  # doctest: +SKIP
    regframe app: http://127.0.0.1:8866/?token=...
    """
    try:
        import psutil  # noqa: F401 - checked here so a missing extra fails before anything starts
        import voila  # noqa: F401
    except ImportError:
        raise AppError(_INSTALL) from None
    if port is None:
        port = _free_port()
    elif _port_taken(port):
        raise AppError(f"port {port} on 127.0.0.1 is already in use")
    token = secrets.token_urlsafe(24)
    workdir = Path(tempfile.mkdtemp(prefix="regframe-app-"))
    notebook = workdir / "regframe.ipynb"
    _notebook(notebook)
    env = dict(os.environ, **{ENV_IMAGE: image, ENV_DIR: os.getcwd()})
    command = [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        f"--token={token}", "--strip_sources=True", "--show_tracebacks=False",
        f"--Voila.root_dir={workdir}",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/?token={token}"
    log_path = workdir / "voila.log"
    with log_path.open("wb") as log_file, _stopped_by_signals():
        # its own session: a terminal's Ctrl-C reaches only us, and we stop Voila in order
        proc = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + _STARTUP_TIMEOUT
            while not _listening(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                    print(
                        "regframe app: Voila did not start" + (f": {tail[0]}" if tail else ""),
                        file=sys.stderr,
                    )
                    return 1
                time.sleep(0.2)
            print(f"regframe app: {url}", flush=True)
            print("regframe app: press Ctrl-C to stop", file=sys.stderr, flush=True)
            if ready is not None:
                ready(url)
            if open_browser:
                webbrowser.open(url)
            proc.wait()
            print("regframe app: Voila exited", file=sys.stderr)
            return 1
        except (KeyboardInterrupt, _Stop) as why:
            logger.debug("stopping on %s", why)
            print("regframe app: stopping", file=sys.stderr, flush=True)
            raise KeyboardInterrupt from None  # the command line's "interrupted" (status 130)
        finally:
            # no signal may cut the clean-up short and leave a kernel behind
            with _ignoring_signals():
                _stop_tree(proc)
                shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _ignoring_signals() -> Iterator[None]:
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
