"""A SCRIPTED Docker Hub tags API for the benchmark, served from its own process.

Docker Hub cannot be reached from the benchmark machine, so this plays its
``GET /v2/namespaces/{ns}/repositories/{repo}/tags?page=N&page_size=M`` answer
for any repository: ``count`` tags named ``1.0.0``, ``1.0.1``, ... each with the
fields the real API sends (``digest``, ``media_type``, ``tag_last_pushed``, an
``images`` list with one entry per platform).  Pages are rendered once and
served with HTTP/1.1 keep-alive, so the server's own CPU stays out of the
client's timings; like :mod:`bench.proxy_proc`, it runs in a child process so
that it does not compete with the client for the GIL either.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["HubAPIProcess", "hub_page", "hub_tag_doc"]

_CHILD = """
import sys
from bench.hub_api import serve
serve(int(sys.argv[1]))
"""


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def hub_tag_doc(i: int) -> dict[str, Any]:
    """The ``i``-th tag as Docker Hub lists it (two platform images).

    Examples
    --------
    >>> hub_tag_doc(0)["name"], len(hub_tag_doc(0)["images"])
    ('1.0.0', 2)
    """
    name = f"{1 + i // 10_000}.{(i // 100) % 100}.{i % 100}"
    day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00.{i % 1000:03d}Z"
    images = [
        {
            "architecture": arch,
            "os": "linux",
            "variant": variant,
            "digest": _digest(f"{name}/{arch}"),
            "size": 30_000_000 + i,
            "last_pushed": day,
            "status": "active",
            "features": "",
            "os_features": "",
        }
        for arch, variant in (("amd64", None), ("arm64", "v8"))
    ]
    return {
        "name": name,
        "digest": _digest(name),
        "media_type": "application/vnd.oci.image.index.v1+json",
        "content_type": "image",
        "full_size": 30_000_000 + i,
        "last_updated": day,
        "tag_last_pushed": day,
        "tag_status": "active",
        "images": images,
    }


def hub_page(base: str, path: str, count: int, page: int, size: int) -> bytes:
    """One page of ``count`` tags as JSON bytes (``next`` absolute, as Hub sends it).

    Examples
    --------
    >>> doc = json.loads(hub_page("http://h", "/v2/x", 250, 3, 100))
    >>> doc["count"], len(doc["results"]), doc["next"]
    (250, 50, None)
    """
    start = (page - 1) * size
    results = [hub_tag_doc(i) for i in range(start, min(count, start + size))]
    nxt = f"{base}{path}?page={page + 1}&page_size={size}" if start + size < count else None
    prev = f"{base}{path}?page={page - 1}&page_size={size}" if page > 1 else None
    doc = {"count": count, "next": nxt, "previous": prev, "results": results}
    return json.dumps(doc).encode()


def serve(count: int) -> None:
    """Serve ``count`` tags on 127.0.0.1 (port printed on stdout) until stdin closes."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    pages: dict[tuple[str, int, int], bytes] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if parts.path == "/ping":  # for measuring the round trip
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            if not parts.path.endswith("/tags"):
                self.send_error(404)
                return
            page = int(query.get("page", ["1"])[0])
            size = min(100, int(query.get("page_size", ["10"])[0]))
            key = (parts.path, page, size)
            with lock:
                body = pages.get(key)
            if body is None:
                host = self.headers.get("Host", "127.0.0.1")
                body = hub_page(f"http://{host}", parts.path, count, page, size)
                with lock:
                    pages[key] = body
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


class HubAPIProcess:
    """The scripted Hub API in a child process; ``url`` is its base URL.

    Examples
    --------
    >>> with HubAPIProcess(10_000) as hub:  # doctest: +SKIP
    ...     os.environ["REGFRAME_DOCKERHUB_API"] = hub.url
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.port = 0
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubAPIProcess:
        root = str(Path(__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(self.count)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"scripted Hub API did not start (said {line!r})")
        self.port = int(line)
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.communicate(input="", timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> HubAPIProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
