"""Loopback network proxies that make a local registry behave like a distant, flaky one.

Test and benchmark infrastructure only.  Loopback has no kernel latency
shaping (``tc netem`` is missing on these machines), so latency and faults are
injected in user space:

* :class:`LatencyProxy` forwards TCP and delays every chunk by ``delay / 2`` in
  each direction, so one request/response round trip costs about ``delay``
  while throughput and concurrency are preserved.
* :class:`FaultProxy` speaks just enough HTTP/1.1 to inject per-request faults:
  connection resets, stalls, bursts of 503, 429 with ``Retry-After`` and
  truncated bodies, drawn from a seeded RNG so that counts are reproducible.

Both run an asyncio event loop in a background daemon thread and refuse to
listen on or connect to anything outside 127.0.0.0/8 and ``::1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import json
import random
import re
import socket
import struct
import threading
import time
from collections.abc import Coroutine
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal

__all__ = ["FaultProxy", "LatencyProxy"]

_CHUNK = 65536
# Bounds the bytes a slow reader can make a pipe hold (64 KiB chunks); the
# bandwidth-delay product of a loopback link at 50 ms fits comfortably.
_QUEUE_CHUNKS = 1024
_HEAD_LIMIT = 1 << 20
_FAULT_KINDS = ("reset", "stall", "error503", "rate429", "truncate")


def _require_loopback(host: str, what: str) -> None:
    """Raise ``ValueError`` unless *host* is a loopback literal or ``localhost``.

    Names other than ``localhost`` are refused rather than resolved, so no DNS
    lookup can ever route test traffic off the machine.
    """
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"{what} {host!r} is not a loopback IP address") from None
    if not address.is_loopback:
        raise ValueError(f"{what} {host!r} is outside 127.0.0.0/8 and ::1 (loopback only)")


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close *writer*'s socket with an RST instead of a FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.close()


class _LoopServer:
    """A TCP server on its own asyncio loop in a daemon thread; subclasses handle clients."""

    def __init__(self, upstream: tuple[str, int], listen_host: str) -> None:
        _require_loopback(listen_host, "listen host")
        _require_loopback(upstream[0], "upstream host")
        self.upstream: tuple[str, int] = (upstream[0], int(upstream[1]))
        self._listen_host = listen_host
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.host = listen_host
        self.port = 0

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the proxy listens on."""
        return (self.host, self.port)

    @property
    def netloc(self) -> str:
        """``host:port`` as it appears in a URL or an image reference."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port`` of the proxy."""
        return f"http://{self.netloc}"

    def start(self) -> None:
        """Start listening on a free port (idempotent)."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        self._call(self._start_server())

    def close(self) -> None:
        """Stop listening, drop every open connection and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            self._call(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> _LoopServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=15)

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _start_server(self) -> None:
        # A deep backlog so hundreds of simultaneous connects are not refused.
        self._server = await asyncio.start_server(
            self._track, self._listen_host, 0, backlog=1024, limit=_HEAD_LIMIT
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only close() cancels these; ending quietly keeps asyncio's stream
            # callback from logging the cancellation as an error.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            _close(writer)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class LatencyProxy(_LoopServer):
    """TCP proxy that adds ``delay / 2`` to every chunk in each direction.

    A request/response round trip through it costs about ``delay`` more than
    direct, like a link with that RTT.  Chunks are queued with release
    timestamps, so reading continues while earlier data waits: throughput is
    kept and hundreds of concurrent connections do not serialise.

    Parameters
    ----------
    upstream : tuple of (str, int)
        Loopback ``(host, port)`` to forward to.
    delay : float
        Added round-trip time in seconds (``0.050`` for 50 ms).
    handshake : bool, default False
        Also charge one extra round trip per new connection, as a TCP
        handshake to a distant host would.
    listen_host : str, default "127.0.0.1"
        Loopback address to listen on.

    Examples
    --------
    >>> with LatencyProxy(("127.0.0.1", 5000), delay=0.05) as proxy:  # doctest: +SKIP
    ...     requests.get(f"{proxy.url}/v2/")
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        delay: float,
        handshake: bool = False,
        listen_host: str = "127.0.0.1",
    ) -> None:
        super().__init__(upstream, listen_host)
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self.delay = float(delay)
        self.handshake = handshake
        self._stats = {"connections": 0, "active": 0, "bytes_to_upstream": 0, "bytes_to_client": 0}

    def __enter__(self) -> LatencyProxy:
        self.start()
        return self

    @property
    def stats(self) -> dict[str, int]:
        """Counts: ``connections`` accepted, ``active`` now, bytes each way."""
        return dict(self._stats)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream, limit=_CHUNK)
        except OSError:
            _rst(writer)
            return
        self._stats["connections"] += 1
        self._stats["active"] += 1
        # SYN and SYN-ACK each take delay/2 before the client can send its first byte.
        first_release = accepted + (1.5 * self.delay if self.handshake else 0.0)
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, "bytes_to_upstream", first_release),
                self._pipe(up_reader, writer, "bytes_to_client", 0.0),
            )
        finally:
            self._stats["active"] -= 1
            _close(up_writer)

    async def _pipe(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        counter: str,
        not_before: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        # b"" is EOF, None is a reset/error on the reading side.
        queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue(_QUEUE_CHUNKS)

        async def pump() -> None:
            data: bytes | None
            while True:
                try:
                    data = await src.read(_CHUNK)
                except (ConnectionError, OSError):
                    data = None
                await queue.put((max(loop.time() + self.delay / 2, not_before), data))
                if not data:
                    return

        pumper = asyncio.ensure_future(pump())
        try:
            while True:
                release, data = await queue.get()
                wait = release - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    _rst(dst)
                    return
                if not data:
                    with contextlib.suppress(OSError, RuntimeError):
                        if dst.can_write_eof():
                            dst.write_eof()
                    return
                dst.write(data)
                await dst.drain()
                self._stats[counter] += len(data)
        except (ConnectionError, OSError):
            _rst(dst)
        finally:
            pumper.cancel()


class _Request:
    """One parsed HTTP/1.1 request, kept as raw bytes for verbatim forwarding."""

    __slots__ = ("body", "close", "head", "method", "target")

    def __init__(self, method: str, target: str, head: bytes, body: bytes, close: bool) -> None:
        self.method = method
        self.target = target
        self.head = head
        self.body = body
        self.close = close


def _parse_headers(lines: list[bytes]) -> dict[str, str]:
    # Later duplicates win; only framing headers are consulted here.
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """Read a chunked body and return it raw (sizes, data and trailers)."""
    raw = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        raw += line
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:
                trailer = await reader.readuntil(b"\r\n")
                raw += trailer
                if trailer == b"\r\n":
                    return bytes(raw)
        raw += await reader.readexactly(size + 2)


def _status_response(status: int, *, head_only: bool, extra: dict[str, str]) -> bytes:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Status"
    code = {
        401: "UNAUTHORIZED",
        403: "DENIED",
        404: "NAME_UNKNOWN",
        429: "TOOMANYREQUESTS",
    }.get(status, "UNAVAILABLE" if status >= 500 else "UNKNOWN")
    body = json.dumps(
        {"errors": [{"code": code, "message": f"injected by FaultProxy: {status} {phrase}"}]}
    ).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
        "Docker-Distribution-Api-Version": "registry/2.0",
        **extra,
    }
    lines = [f"HTTP/1.1 {status} {phrase}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)


class FaultProxy(_LoopServer):
    """HTTP/1.1 proxy that injects faults per request, drawn from a seeded RNG.

    Each request whose target matches ``paths`` draws one uniform number; the
    fault probabilities partition ``[0, 1)`` in the order reset, stall,
    error503, rate429, truncate, so each fault fires at its own rate and
    their sum must be at most 1.  Sequential requests with the same seed give
    the same faults.  Requests and responses are otherwise relayed verbatim
    (keep-alive on both sides, chunked bodies, HEAD, redirects).

    Parameters
    ----------
    upstream : tuple of (str, int)
        Loopback ``(host, port)`` of a plain-HTTP server.
    seed : int, default 0
        Seed of the fault RNG.
    reset : float
        Probability of resetting the client connection (RST, SO_LINGER 0).
    reset_when : {"either", "before", "after"}
        Reset before forwarding, after the upstream has answered (the request
        took effect but the client never learns), or either at random.
    stall : float
        Probability of holding the request ``stall_seconds`` and then closing.
    stall_seconds : float, default 5.0
    error503 : float
        Probability of starting a burst of 503 answers.
    burst503 : int, default 1
        Number of consecutive matching requests answered 503 per burst.
    rate429 : float
        Probability of answering 429.
    retry_after : str or None, default "1"
        ``Retry-After`` on 429: seconds as given, ``"date"`` for an HTTP-date
        ``retry_after_date_in`` seconds from now, ``None`` for no header.
    retry_after_date_in : float, default 2.0
    truncate : float
        Probability of cutting the response body in half (headers promise the
        full length, then the connection closes).  Only counted when the
        response has a body to cut.
    paths : str or None
        Regex searched in the request target; other requests pass untouched
        and draw nothing from the RNG.
    listen_host : str, default "127.0.0.1"

    Examples
    --------
    >>> with FaultProxy(("127.0.0.1", 5000), reset=0.1, error503=0.1, rate429=0.03) as p:
    ...     requests.get(f"{p.url}/v2/")  # doctest: +SKIP
    >>> p.stats["reset"]  # doctest: +SKIP
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        seed: int = 0,
        reset: float = 0.0,
        reset_when: Literal["either", "before", "after"] = "either",
        stall: float = 0.0,
        stall_seconds: float = 5.0,
        error503: float = 0.0,
        burst503: int = 1,
        rate429: float = 0.0,
        retry_after: str | None = "1",
        retry_after_date_in: float = 2.0,
        truncate: float = 0.0,
        paths: str | None = None,
        listen_host: str = "127.0.0.1",
    ) -> None:
        super().__init__(upstream, listen_host)
        self._lock = threading.Lock()
        # Reproducible fault schedules are the point; this is not security-relevant.
        self._rng = random.Random(seed)
        self._knobs: dict[str, Any] = {}
        self._paths: re.Pattern[str] | None = None
        self._burst_left = 0
        self._always: int | None = None
        self._stats: dict[str, int] = dict.fromkeys(
            (
                "requests",
                "forwarded",
                *_FAULT_KINDS,
                "always",
                "client_connections",
                "upstream_connections",
            ),
            0,
        )
        self.set(
            reset=reset,
            reset_when=reset_when,
            stall=stall,
            stall_seconds=stall_seconds,
            error503=error503,
            burst503=burst503,
            rate429=rate429,
            retry_after=retry_after,
            retry_after_date_in=retry_after_date_in,
            truncate=truncate,
            paths=paths,
        )

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    @property
    def stats(self) -> dict[str, int]:
        """Counts per fault kind plus ``requests``, ``forwarded`` and connections."""
        with self._lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        """Zero every counter."""
        with self._lock:
            for key in self._stats:
                self._stats[key] = 0

    def set(self, **knobs: Any) -> None:
        """Change fault knobs at runtime (same names as the constructor).

        Examples
        --------
        >>> proxy.set(error503=0.0, rate429=0.5, retry_after="date")  # doctest: +SKIP
        """
        allowed = {
            "reset",
            "reset_when",
            "stall",
            "stall_seconds",
            "error503",
            "burst503",
            "rate429",
            "retry_after",
            "retry_after_date_in",
            "truncate",
            "paths",
            "seed",
        }
        unknown = set(knobs) - allowed
        if unknown:
            raise TypeError(f"unknown FaultProxy knob(s): {', '.join(sorted(unknown))}")
        with self._lock:
            merged = {**self._knobs, **knobs}
            if sum(float(merged.get(kind, 0.0)) for kind in _FAULT_KINDS) > 1.0 + 1e-9:
                raise ValueError("fault probabilities must sum to at most 1")
            if any(float(merged.get(kind, 0.0)) < 0 for kind in _FAULT_KINDS):
                raise ValueError("fault probabilities must be >= 0")
            if merged.get("reset_when") not in ("either", "before", "after"):
                raise ValueError("reset_when must be 'either', 'before' or 'after'")
            if int(merged.get("burst503", 1)) < 1:
                raise ValueError("burst503 must be >= 1")
            if "seed" in knobs:
                self._rng.seed(knobs["seed"])
                merged.pop("seed")
            if "paths" in knobs:
                self._paths = re.compile(knobs["paths"]) if knobs["paths"] else None
            self._knobs = merged

    def always(self, status: int | None) -> None:
        """Answer every request with *status* (``None`` returns to normal).

        Examples
        --------
        >>> proxy.always(503)  # a registry that always fails  # doctest: +SKIP
        """
        with self._lock:
            self._always = None if status is None else int(status)

    def _decide(self, target: str) -> tuple[str | None, bool]:
        """Return the fault for one request and, for resets, whether to forward first."""
        with self._lock:
            self._stats["requests"] += 1
            if self._always is not None:
                return "always", False
            if self._paths is not None and not self._paths.search(target):
                return None, False
            if self._burst_left > 0:
                self._burst_left -= 1
                return "error503", False
            draw = self._rng.random()
            for kind in _FAULT_KINDS:
                probability = float(self._knobs[kind])
                if draw < probability:
                    after = False
                    if kind == "reset":
                        when = self._knobs["reset_when"]
                        after = when == "after" or (when == "either" and self._rng.random() < 0.5)
                    if kind == "error503":
                        self._burst_left = int(self._knobs["burst503"]) - 1
                    return kind, after
                draw -= probability
            return None, False

    def _count(self, key: str) -> None:
        with self._lock:
            self._stats[key] += 1

    def _retry_after(self) -> dict[str, str]:
        value = self._knobs["retry_after"]
        if value is None:
            return {}
        if value == "date":
            when = time.time() + float(self._knobs["retry_after_date_in"])
            return {"Retry-After": email.utils.formatdate(when, usegmt=True)}
        return {"Retry-After": str(value)}

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise
            return None
        lines = head.split(b"\r\n")
        method, target, version = lines[0].decode("latin-1").split(" ", 2)
        headers = _parse_headers(lines[1:])
        connection = headers.get("connection", "").lower()
        close = "close" in connection or version.strip() == "HTTP/1.0"
        if headers.get("expect", "").lower() == "100-continue":
            # We read the body before the upstream sees the request, so answer
            # the expectation ourselves and do not forward it.
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            head = b"\r\n".join(line for line in lines if not line.lower().startswith(b"expect:"))
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body = b""
        return _Request(method.upper(), target, head, body, close)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._count("client_connections")
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                request = await self._read_request(reader, writer)
                if request is None:
                    return
                fault, after = self._decide(request.target)
                head_only = request.method == "HEAD"
                if fault == "reset" and not after:
                    self._count("reset")
                    _rst(writer)
                    return
                if fault == "stall":
                    self._count("stall")
                    await asyncio.sleep(float(self._knobs["stall_seconds"]))
                    return
                if fault in ("always", "error503", "rate429"):
                    if fault == "always":
                        status = self._always if self._always is not None else 503
                    else:
                        status = 503 if fault == "error503" else 429
                    extra = self._retry_after() if status == 429 else {}
                    self._count(fault)
                    writer.write(_status_response(status, head_only=head_only, extra=extra))
                    await writer.drain()
                    if request.close:
                        return
                    continue
                upstream, keep = await self._forward(request, upstream, writer, fault, after)
                if not keep or request.close:
                    return
        finally:
            if upstream is not None:
                _close(upstream[1])

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        connection = await asyncio.open_connection(*self.upstream, limit=_HEAD_LIMIT)
        self._count("upstream_connections")
        return connection

    async def _send_upstream(
        self,
        request: _Request,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], int, dict[str, str], bytes]:
        """Send *request* and read the final response head, reconnecting once if stale."""
        for attempt in (0, 1):
            reused = upstream is not None
            if upstream is None:
                upstream = await self._open_upstream()
            up_reader, up_writer = upstream
            try:
                up_writer.write(request.head + request.body)
                await up_writer.drain()
                return (upstream, *await self._read_response_head(up_reader))
            except (ConnectionError, asyncio.IncompleteReadError):
                # An idle keep-alive connection the upstream already closed.
                _close(up_writer)
                upstream = None
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    async def _read_response_head(
        reader: asyncio.StreamReader,
    ) -> tuple[int, dict[str, str], bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        return status, _parse_headers(lines[1:]), head

    async def _forward(
        self,
        request: _Request,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
        writer: asyncio.StreamWriter,
        fault: str | None,
        reset_after: bool,
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, bool]:
        """Relay one request; return the upstream connection to reuse and keep-alive."""
        try:
            upstream, status, headers, head = await self._send_upstream(request, upstream)
            up_reader, up_writer = upstream
            # Interim 1xx answers are relayed; the final response follows.
            while 100 <= status < 200 and status != 101:
                writer.write(head)
                status, headers, head = await self._read_response_head(up_reader)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            if upstream is not None:
                _close(upstream[1])
            writer.write(_status_response(502, head_only=request.method == "HEAD", extra={}))
            await writer.drain()
            return None, False
        self._count("forwarded")
        if fault == "reset" and reset_after:
            self._count("reset")
            _rst(up_writer)
            _rst(writer)
            return None, False

        no_body = request.method == "HEAD" or status in (204, 304) or 100 <= status < 200
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = None if chunked else headers.get("content-length")
        upstream_close = "close" in headers.get("connection", "").lower()
        to_eof = not no_body and not chunked and length is None
        want_cut = fault == "truncate"

        writer.write(head)
        if no_body:
            cut = False
        elif chunked:
            cut = await self._relay_chunked(up_reader, writer, want_cut)
        elif length is not None:
            cut = want_cut and int(length) > 0
            await self._relay_exact(up_reader, writer, int(length), cut)
        else:
            cut = await self._relay_to_eof(up_reader, writer, want_cut)
        await writer.drain()
        if cut:
            self._count("truncate")
            _close(up_writer)
            return None, False
        if upstream_close or to_eof:
            _close(up_writer)
            return None, not to_eof
        return upstream, True

    @staticmethod
    async def _relay_exact(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, length: int, cut: bool
    ) -> None:
        remaining = length // 2 if cut else length
        while remaining > 0:
            data = await reader.read(min(remaining, _CHUNK))
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            writer.write(data)
            remaining -= len(data)
            await writer.drain()

    @staticmethod
    async def _relay_chunked(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: bool
    ) -> bool:
        """Relay a chunked body; with *cut*, stop half-way through the first chunk."""
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            writer.write(line)
            if size == 0:
                while True:
                    trailer = await reader.readuntil(b"\r\n")
                    writer.write(trailer)
                    if trailer == b"\r\n":
                        return False
            data = await reader.readexactly(size + 2)
            if cut:
                # The size line promised the whole chunk; deliver half and stop.
                writer.write(data[: size // 2])
                return True
            writer.write(data)
            await writer.drain()

    @staticmethod
    async def _relay_to_eof(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: bool
    ) -> bool:
        """Relay a body framed by connection close; with *cut*, send half the first read."""
        while True:
            data = await reader.read(_CHUNK)
            if not data:
                return False
            writer.write(data[: max(1, len(data) // 2)] if cut else data)
            await writer.drain()
            if cut:
                return True
