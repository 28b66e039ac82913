"""Debian's nginx as a TLS + HTTP/2 reverse proxy that ends connections with GOAWAY.

nginx closes an HTTP/2 connection after ``keepalive_requests`` requests by sending
GOAWAY (and an HTTP/1.1 one with ``Connection: close``), as load balancers in front
of real registries do.  :class:`GoawayProxy` runs one in front of a sandbox registry,
logs ``$connection $server_protocol $status`` per request, and stops with its context.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from regframe.testing.certs import write_tls_files

CONFIG = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format conn '$connection $server_protocol $status';
    access_log {dir}/access.log conn;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream registry {{ server {upstream}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {dir}/server.pem;
        ssl_certificate_key {dir}/server.key;
        keepalive_requests {requests};
        http2_max_concurrent_streams 128;
        location / {{
            proxy_pass http://registry;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )


class GoawayProxy:
    """nginx on ``127.0.0.1:port`` (https, h2) in front of ``upstream``; GOAWAY every N requests."""

    def __init__(self, upstream: str, *, requests_per_connection: int) -> None:
        self.upstream = upstream
        self.requests_per_connection = requests_per_connection
        self.dir = Path(tempfile.mkdtemp(prefix="regframe-nginx-"))
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> str:
        return str(self.dir / "ca.pem")

    def log(self) -> list[tuple[str, str, str]]:
        """``(connection, protocol, status)`` per request served so far."""
        path = self.dir / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        return [tuple(line.split()[:3]) for line in lines if line.strip()]  # type: ignore[misc]

    def __enter__(self) -> GoawayProxy:
        binary = nginx_binary()
        assert binary, "nginx is missing (apt-get install nginx; scripts/setup.sh does)"
        write_tls_files(self.dir, "127.0.0.1")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        # As root the master reads the key and logs, then drops workers to nobody, who
        # could not reach this private directory: keep them root (a throw-away test server).
        user = "user root;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(
            CONFIG.format(
                user=user,
                dir=self.dir,
                upstream=self.upstream,
                port=self.port,
                requests=self.requests_per_connection,
            )
        )
        self._proc = subprocess.Popen(
            [
                binary,
                "-p",
                str(self.dir),
                "-c",
                str(self.dir / "nginx.conf"),
                "-e",
                str(self.dir / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"nginx did not start: {self._proc.stderr.read().decode()[-2000:]}"
                )  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("nginx did not listen within 10 s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
