"""A threaded loopback HTTP server that records every request, for test helper servers.

The token server and the CDN stand-in are built on it: each request is kept as a
:class:`RecordedRequest` so a test can check what a client sent (which headers, which scopes)
after the fact.  Handlers derive from :class:`QuietHandler`, which keeps stderr clean.
"""

from __future__ import annotations

import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, NamedTuple

__all__ = ["QuietHandler", "RecordedRequest", "RecordingHTTPServer", "RecordingService"]


class RecordedRequest(NamedTuple):
    """One request seen by a sandbox helper server (token server or CDN).

    Attributes
    ----------
    path
        URL path without the query, e.g. ``/token``.
    query
        Query parameters; a repeated key (``scope=a&scope=b``) is joined with a
        space, the OAuth2 spelling of several scopes.
    headers
        Request headers exactly as the client named them.
    """

    path: str
    query: dict[str, str]
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup.

        Examples
        --------
        >>> RecordedRequest("/t", {}, {"authorization": "Basic x"}).header("Authorization")
        'Basic x'
        """
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


class RecordingHTTPServer(ThreadingHTTPServer):
    """A threaded loopback HTTP server that runs in a daemon thread and records requests.

    Parameters
    ----------
    host
        Loopback address to bind; the port is picked by the kernel.
    handler
        A :class:`QuietHandler` subclass.

    Examples
    --------
    >>> class Hello(QuietHandler):
    ...     def do_GET(self) -> None:
    ...         self.record()
    ...         self.send_body(200, b"hi", "text/plain")
    >>> server = RecordingHTTPServer("127.0.0.1", Hello)
    >>> server.start_background("hello")
    >>> import urllib.request
    >>> urllib.request.urlopen(f"http://127.0.0.1:{server.port}/x?a=1").read()
    b'hi'
    >>> server.requests[0].path, server.requests[0].query
    ('/x', {'a': '1'})
    >>> server.stop()
    """

    daemon_threads = True
    # Many short-lived keep-alive connections from thread pools: avoid refused SYNs.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that resets its connection (the fault tests do it on
        # purpose) is not worth a traceback on stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def __init__(
        self, host: str, handler: type[BaseHTTPRequestHandler], owner: object = None
    ) -> None:
        super().__init__((host, 0), handler)
        self.requests: list[RecordedRequest] = []
        #: The object whose state the handler reads (a :class:`RecordingService`).
        self.owner = owner
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the kernel picked."""
        return int(self.server_address[1])

    def start_background(self, name: str, *, poll_interval: float = 0.5) -> None:
        """Serve in a daemon thread until :meth:`stop` (which waits up to ``poll_interval``)."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": poll_interval}, name=name,
            daemon=True,
        )  # fmt: skip
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """Base handler for :class:`RecordingHTTPServer`: records requests, logs nothing to stderr.

    Subclasses implement ``do_GET`` etc. with :meth:`record` and :meth:`send_body`.
    """

    protocol_version = "HTTP/1.1"
    server: RecordingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        # Test output stays readable; the recorded requests are the log.
        return

    def record(self) -> tuple[str, dict[str, str]]:
        """Append this request to the server's :attr:`~RecordingHTTPServer.requests`.

        Returns
        -------
        tuple of (str, dict)
            The path and the query (a repeated key's values joined with a space).
        """
        split = urllib.parse.urlsplit(self.path)
        query: dict[str, str] = {}
        for key, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
            query[key] = f"{query[key]} {value}" if key in query else value
        headers = {k: v for k, v in self.headers.items()}
        self.server.requests.append(RecordedRequest(split.path, query, headers))
        return split.path, query

    def send_body(self, status: int, body: bytes, content_type: str, **extra: str) -> None:
        """Answer with ``body`` (omitted for HEAD); ``extra`` names use ``_`` for ``-``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class RecordingService:
    """A helper server (token server, CDN) that owns a :class:`RecordingHTTPServer`.

    Subclasses set :attr:`handler` (whose requests reach the service as
    ``self.server.owner``) and :attr:`thread_name`.

    Parameters
    ----------
    host
        Loopback address to listen on.
    """

    handler: ClassVar[type[QuietHandler]]
    thread_name: ClassVar[str] = "regframe-recording-server"

    def __init__(self, host: str) -> None:
        self.host = host
        self._server: RecordingHTTPServer | None = None

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests recorded so far (the live list: ``clear()`` it between checks)."""
        return [] if self._server is None else self._server.requests

    @property
    def port(self) -> int:
        """The port the server listens on (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._server.port

    def start(self) -> None:
        """Bind a free port on :attr:`host` and serve in a daemon thread."""
        server = RecordingHTTPServer(self.host, self.handler, owner=self)
        server.start_background(self.thread_name)
        self._server = server

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
