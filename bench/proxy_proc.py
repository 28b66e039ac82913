"""Run :class:`regframe.testing.latency_proxy.LatencyProxy` in its own process.

The proxy plays the network.  In the benchmark's own interpreter its event
loop would compete for the GIL with the 16 client threads it is timing, so the
"network" would slow the client down (and vice versa) in a way no real link
does; a child process keeps the two apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["ProxyProcess"]

_CHILD = """
import json, sys
from regframe.testing.latency_proxy import LatencyProxy
host, port, delay, handshake = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1"
proxy = LatencyProxy((host, port), delay=delay, handshake=handshake)
proxy.start()
print(proxy.port, flush=True)
sys.stdin.read()  # runs until the parent closes our stdin
print(json.dumps(proxy.stats), flush=True)
proxy.close()
"""


class ProxyProcess:
    """A ``LatencyProxy((host, port), delay=..., handshake=...)`` in a child process.

    Examples
    --------
    >>> with ProxyProcess(("127.0.0.1", 5000), delay=0.05) as proxy:  # doctest: +SKIP
    ...     requests.get(f"{proxy.url}/v2/")
    >>> proxy.stats["connections"]  # doctest: +SKIP
    1
    """

    def __init__(self, upstream: tuple[str, int], *, delay: float, handshake: bool = False) -> None:
        self.upstream = upstream
        self.delay = delay
        self.handshake = handshake
        self.host = "127.0.0.1"
        self.port = 0
        self.stats: dict[str, Any] = {}
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        """The proxy process's id while it runs (benchmarks read its CPU time)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}"

    def start(self) -> ProxyProcess:
        args = [self.upstream[0], str(self.upstream[1]), repr(self.delay), str(int(self.handshake))]
        root = str(Path(__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"latency proxy process did not start (said {line!r})")
        self.port = int(line)
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            out, _ = proc.communicate(input="", timeout=15)
            if out.strip():
                self.stats = json.loads(out.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError):
            proc.kill()
            proc.wait()

    def __enter__(self) -> ProxyProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
