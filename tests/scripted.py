"""A SCRIPTED HTTP server: a programmable stand-in, used ONLY where no real server exists here.

The real registry on this machine (Debian ``docker-registry``, distribution
2.8.2) covers the protocol itself.  It cannot produce behaviours that only
other servers have: paginated ``tags/list`` (it ignores ``n``/``last``), Docker
Hub's and Quay's own JSON APIs, or hostile and buggy registries (pagination
loops, cross-host ``Link`` headers, endless bodies, wrong lengths).  Tests that
need those script them here; every answer is whatever the test says, so a
passing test against this server proves client behaviour against the *script*,
not against the real service.

Example
-------
>>> with ScriptedServer() as server:
...     server.route("GET", r"/v2/", lambda req: json_response({}))
...     requests.get(f"{server.url}/v2/").status_code  # doctest: +SKIP
200
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from requests.structures import CaseInsensitiveDict

__all__ = [
    "Request",
    "Response",
    "ScriptedServer",
    "hub_namespace",
    "json_response",
    "paginated_tags",
    "registry_error",
]

Headers = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass
class Request:
    """What a handler sees (and what ``ScriptedServer.requests`` records)."""

    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict[str]
    body: bytes = b""
    target: str = ""
    match: re.Match[str] | None = field(default=None, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Response:
    """What a handler returns.

    ``body`` may be bytes, str (UTF-8) or a dict/list (sent as JSON).  With
    ``chunks`` the body is sent with ``Transfer-Encoding: chunked`` from the
    iterable instead (may be endless).  ``delay`` seconds pass before the
    status line.  A ``Content-Length`` given in ``headers`` is sent as is,
    even when it is wrong.  ``headers`` may be a list of pairs to repeat a
    header (several ``WWW-Authenticate`` challenges).  ``close`` ends the
    connection after the response.
    """

    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: Headers | None = None
    chunks: Iterable[bytes] | None = None
    delay: float = 0.0
    close: bool = False


Handler = Callable[[Request], Response]


def json_response(obj: Any, headers: Headers | None = None, status: int = 200) -> Response:
    """A JSON response (``Content-Type: application/json``)."""
    return Response(status, json.dumps(obj).encode(), _with_json_type(headers))


def registry_error(
    status: int, code: str, message: str, *, headers: Headers | None = None, detail: Any = None
) -> Response:
    """A distribution-spec error: ``{"errors": [{"code", "message", "detail"}]}``."""
    error = {"code": code, "message": message, "detail": detail}
    return json_response({"errors": [error]}, headers, status)


def _with_json_type(headers: Headers | None) -> list[tuple[str, str]]:
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("Content-Type", "application/json"))
    return pairs


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many concurrent connects from proxies and benchmarks must not be refused.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that resets its connection (the fault tests do it on
        # purpose) is not worth a traceback on stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)
    scripted: ScriptedServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body would
    # wait for a delayed ACK (~40 ms) on every response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def setup(self) -> None:
        super().setup()
        self.server.scripted._opened(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.scripted._closed(self.connection)

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        scripted = self.server.scripted
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        request = Request(
            method=self.command,
            path=parts.path,
            query=query,
            headers=CaseInsensitiveDict(self.headers.items()),
            body=self._read_body(),
            target=self.path,
        )
        scripted.requests.append(request)
        try:
            response = scripted._dispatch(request)
        except Exception as exc:  # a broken script must show up as a 500, not a hang
            response = registry_error(500, "UNKNOWN", f"scripted handler raised {exc!r}")
        try:
            self._send(response, head_only=self.command == "HEAD")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, response: Response, *, head_only: bool) -> None:
        if response.delay:
            time.sleep(response.delay)
        body = response.body
        pairs: list[tuple[str, str]]
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            pairs = _with_json_type(response.headers)
        else:
            headers = response.headers
            pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        if isinstance(body, str):
            body = body.encode()
        names = {name.lower() for name, _ in pairs}
        self.send_response_only(response.status, _phrase(response.status))
        self.send_header("Date", self.date_time_string())
        for name, value in pairs:
            self.send_header(name, value)
        if response.chunks is not None:
            if "transfer-encoding" not in names:
                self.send_header("Transfer-Encoding", "chunked")
        elif "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        if response.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head_only or response.status in (204, 304):
            return
        if response.chunks is None:
            self.wfile.write(body)
            return
        for chunk in response.chunks:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Scripted"


class ScriptedServer:
    """Threaded HTTP/1.1 (keep-alive) server whose answers are scripted per route.

    Parameters
    ----------
    host : str, default "127.0.0.1"
        Loopback address to listen on; the port is a free one.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:PORT``.
    host : str
        ``127.0.0.1:PORT`` — the registry host as written in an image reference.
    ip, port : str, int
        Listening address.
    requests : list of Request
        Every request received, in order.
    connections : int
        TCP connections accepted so far (to check keep-alive).

    Examples
    --------
    >>> with ScriptedServer() as server:  # doctest: +SKIP
    ...     server.route("GET", r"/v2/(?P<name>.+)/tags/list", lambda r: json_response(
    ...         {"name": r.match["name"], "tags": ["1.0"]}))
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.ip = host
        self.port = 0
        self.requests: list[Request] = []
        self.connections = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        """``ip:port`` (bracketed for IPv6), as in an image reference."""
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{ip}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL, ``http://ip:port``."""
        return f"http://{self.host}"

    @property
    def address(self) -> tuple[str, int]:
        """``(ip, port)``, e.g. as a proxy's upstream."""
        return (self.ip, self.port)

    def route(self, method: str, path_regex: str, handler: Handler) -> None:
        """Answer *method* (``"*"`` for any) on paths fully matching *path_regex*.

        Later routes take precedence, so a test can re-script a path.  HEAD
        falls back to a GET route and sends no body.  ``request.match`` holds
        the regex match (named groups for path parameters).
        """
        self._routes.append((method.upper(), re.compile(path_regex), handler))

    def _dispatch(self, request: Request) -> Response:
        methods = {request.method, "*"} | ({"GET"} if request.method == "HEAD" else set())
        for wanted in (request.method, *sorted(methods - {request.method})):
            for method, pattern, handler in reversed(self._routes):
                if method != wanted:
                    continue
                match = pattern.fullmatch(request.path)
                if match:
                    request.match = match
                    return handler(request)
        return registry_error(
            404,
            "NAME_UNKNOWN",
            "repository name not known to registry (no scripted route)",
            detail={"method": request.method, "path": request.path},
        )

    def _opened(self, sock: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self._sockets.add(sock)

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def start(self) -> ScriptedServer:
        """Listen and serve in a background thread."""
        httpd = _Server((self.ip, 0), _Handler)
        httpd.scripted = self
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="ScriptedServer",
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and cut idle keep-alive connections."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


LinkStyle = Literal["relative", "absolute", "cursor", "loop", "crosshost"]


def paginated_tags(
    server: ScriptedServer,
    repo: str,
    tags: Sequence[str],
    page_size: int,
    link_style: LinkStyle = "relative",
    ignore_n: bool = False,
) -> None:
    """Serve ``/v2/`` and ``/v2/<repo>/tags/list`` with distribution-spec pagination.

    Tags are served in the order given.  A page holds ``min(n, page_size)``
    tags (``page_size`` when ``n`` is absent, or always with
    ``ignore_n=True``), continues after ``last`` and carries
    ``Link: <URL>; rel="next"`` while tags remain.  ``link_style`` picks the
    Link form and the misbehaviour:

    * ``"relative"`` – ``</v2/repo/tags/list?n=N&last=TAG>`` (spec).
    * ``"absolute"`` – the same with ``http://host:port`` (same host: fine).
    * ``"cursor"`` – an opaque ``next_page=`` token instead of ``last`` (Quay-like).
    * ``"loop"`` – the last page links back to the second page's URL: a
      client must stop on the repeated URL (having seen every tag once).
    * ``"crosshost"`` – every Link points to another host (127.0.0.2, same
      port): a client must not follow it; only page 1 is reachable.

    ``n`` that is not a non-negative integer answers 400 ``PAGINATION_NUMBER_INVALID``.

    Examples
    --------
    >>> paginated_tags(server, "library/app", ["1.0", "1.1", "2.0"], 2)  # doctest: +SKIP
    """
    tag_list = list(tags)
    path = f"/v2/{repo}/tags/list"

    def ping(request: Request) -> Response:
        return json_response({}, {"Docker-Distribution-API-Version": "registry/2.0"})

    def start_of(request: Request) -> int | None:
        if "next_page" in request.query:
            try:
                return int(base64.urlsafe_b64decode(request.query["next_page"].encode()))
            except ValueError:
                return None
        last = request.query.get("last")
        if last is None:
            return 0
        if last in tag_list:
            return tag_list.index(last) + 1
        # An unknown ``last`` continues with the tags sorting after it.
        later = [i for i, tag in enumerate(tag_list) if tag > last]
        return later[0] if later else len(tag_list)

    def link(start: int, requested_n: str | None) -> str:
        params: dict[str, str] = {}
        if requested_n is not None:
            params["n"] = requested_n
        if link_style == "cursor":
            params["next_page"] = base64.urlsafe_b64encode(str(start).encode()).decode()
        else:
            params["last"] = tag_list[start - 1]
        relative = f"{path}?{urlencode(params)}"
        if link_style == "absolute":
            return f"{server.url}{relative}"
        if link_style == "crosshost":
            return f"http://127.0.0.2:{server.port}{relative}"
        return relative

    def tags_list(request: Request) -> Response:
        raw_n = request.query.get("n")
        size = page_size
        if raw_n is not None and not ignore_n:
            if not raw_n.isdigit():
                return registry_error(
                    400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested"
                )
            size = min(int(raw_n), page_size)
        start = start_of(request)
        if start is None:
            return registry_error(400, "PAGINATION_NUMBER_INVALID", "invalid next_page cursor")
        page = tag_list[start : start + size]
        end = start + len(page)
        headers: dict[str, str] = {"Docker-Distribution-API-Version": "registry/2.0"}
        if end < len(tag_list) and page:
            headers["Link"] = f'<{link(end, raw_n)}>; rel="next"'
        elif link_style == "loop" and len(tag_list) > size and page:
            headers["Link"] = f'<{link(size, raw_n)}>; rel="next"'
        return json_response({"name": repo, "tags": page}, headers)

    server.route("GET", r"/v2/", ping)
    server.route("GET", re.escape(path), tags_list)


def hub_namespace(
    server: ScriptedServer, namespace: str, names: Sequence[str], page_size: int = 100
) -> None:
    """Serve Docker Hub's ``/v2/namespaces/<ns>/repositories`` as documented (SCRIPTED).

    ``?page_size=&page=`` pages of ``{"count", "next", "previous", "results":
    [{"name", "namespace", "repository_type", ...}]}``, ``next`` an absolute
    URL while names remain; other namespaces answer 404 like Hub does.
    """
    path = f"/v2/namespaces/{namespace}/repositories"

    def listing(request: Request) -> Response:
        size = min(int(request.query.get("page_size", "10")), page_size)
        page = int(request.query.get("page", "1"))
        chunk = list(names)[(page - 1) * size : page * size]
        more = page * size < len(names)
        return json_response(
            {
                "count": len(names),
                "next": f"{server.url}{path}?page_size={size}&page={page + 1}" if more else None,
                "previous": None,
                "results": [
                    {"name": n, "namespace": namespace, "repository_type": "image",
                     "is_private": False, "last_updated": "2024-08-01T00:00:00Z"}
                    for n in chunk
                ],
            }
        )

    def unknown(request: Request) -> Response:
        return json_response({"message": "object not found", "errinfo": {}}, status=404)

    server.route("GET", r"/v2/namespaces/[^/]+/repositories", unknown)
    server.route("GET", re.escape(path), listing)
