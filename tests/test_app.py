"""``regframe app`` as a process: its URL, bad input, and a clean stop on Ctrl-C, SIGTERM, SIGHUP.

These run the real command (Voila and a kernel included) and look at the process tree with
psutil: after the signal, nothing the app started may still run.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request

import psutil
import pytest
from browser import child_env, family, python_cmd, stop, wait_for_line

from regframe.cli import main

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_signal_stops_the_app_and_its_kernel(sig, tmp_path):
    proc = subprocess.Popen(
        python_cmd("-m", "regframe.cli", "app", "--no-browser"),
        cwd=tmp_path, env=child_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        url = wait_for_line(proc, r"http://127\.0\.0\.1:\d+/\?token=\S+")
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=60) as response:  # the page starts a kernel
            assert response.status == 200
        members = family(proc.pid)
        kernels = [p for p in members if "ipykernel" in " ".join(p.cmdline())]
        assert kernels, "opening the page should have started a kernel"
        assert any("voila" in " ".join(p.cmdline()) for p in members)
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 130  # "interrupted", as every command
        _, alive = psutil.wait_procs(members, timeout=10)
        assert not alive, f"left behind after {sig.name}: {[p.cmdline() for p in alive]}"
        assert "stopping" in (proc.stdout.read() if proc.stdout else "")
    finally:
        if proc.poll() is None:
            stop(proc)


def test_wrong_token_is_refused(tmp_path):
    proc = subprocess.Popen(
        python_cmd("-m", "regframe.cli", "app", "--no-browser"),
        cwd=tmp_path, env=child_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        url = wait_for_line(proc, r"http://127\.0\.0\.1:\d+/\?token=\S+")
        forged = url.split("?token=")[0] + "?token=guess"
        with urllib.request.urlopen(forged, timeout=30) as response:
            assert "/login" in response.geturl()  # sent to the login form, not the page
        assert not [p for p in family(proc.pid) if "ipykernel" in " ".join(p.cmdline())]
    finally:
        stop(proc)


def test_bad_input_is_exit_2_before_anything_starts(capsys):
    assert main(["app", "--no-browser", "Not A Reference!"]) == 2
    assert "regframe: error:" in capsys.readouterr().err
    assert main(["app", "--port", "70000"]) == 2


def test_a_taken_port_is_one_line(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--no-browser", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"port {port}" in err and "Traceback" not in err
