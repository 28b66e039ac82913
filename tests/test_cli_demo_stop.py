"""``regframe demo``: a missing ``sandbox`` extra is one line and exit 2; SIGTERM and SIGHUP stop
``demo --serve`` with everything it started (registry child process, temporary directory)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from regframe.testing import EXTRA_HINT


def test_demo_without_the_sandbox_extra_prints_the_hint_and_exits_2(tmp_path):
    # sys.modules[name] = None is Python's documented way to make an import fail,
    # as if the package were not installed.
    code = (
        "import sys; sys.modules['jwt'] = None\n"
        "from regframe.cli import main\n"
        f"raise SystemExit(main(['demo', '--quick', '--out', {str(tmp_path / 'o')!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"regframe: error: {EXTRA_HINT} (missing: jwt)"]
    assert not (tmp_path / "o").exists()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: fields start after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_demo_serve_stops_everything_on_signal(sig, tmp_path, registry_open):
    # registry_open: the same docker-registry binary the demo needs is installed.
    proc = subprocess.Popen(
        [sys.executable, "-m", "regframe.cli", "demo", "--quick", "--serve", "--out",
         str(tmp_path / "o")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "press Ctrl-C" in line:
                break
        else:
            pytest.fail(f"demo --serve ended early with {proc.wait()}")
        children = _children(proc.pid)
        cmdlines = {c: Path(f"/proc/{c}/cmdline").read_bytes().split(b"\0") for c in children}
        registry = [c for c, argv in cmdlines.items() if argv[0].endswith(b"docker-registry")]
        assert len(registry) == 1, cmdlines
        config = Path(os.fsdecode(cmdlines[registry[0]][2]))
        workdir = config.parent
        assert config.name == "config.yml" and workdir.is_dir()

        proc.send_signal(sig)
        rest = proc.stdout.read()
        assert proc.wait(timeout=30) == 0, rest
        assert "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [c for c in children if _alive(c)] == []
    assert not workdir.exists()
