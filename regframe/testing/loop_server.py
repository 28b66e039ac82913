"""Run a loopback-only asyncio TCP server in a daemon thread: the base of the test proxies.

:class:`LoopServer` owns the event loop, the listening socket and the per-connection tasks;
:class:`~regframe.testing.latency_proxy.LatencyProxy` and
:class:`~regframe.testing.fault_proxy.FaultProxy` only say what to do with one connection.
Every address is checked with :func:`require_loopback`, so test traffic cannot leave the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from regframe.parsing.reference import is_loopback_host

__all__ = ["CHUNK", "HEAD_LIMIT", "LoopServer", "close_quietly", "require_loopback",
           "reset_connection"]

#: Read size of the relays.
CHUNK = 65536
#: Longest HTTP head (and stream buffer) accepted.
HEAD_LIMIT = 1 << 20


def require_loopback(host: str, what: str) -> None:
    """Raise ``ValueError`` unless *host* is a loopback literal or ``localhost``.

    Names other than ``localhost`` are refused rather than resolved, so no DNS
    lookup can ever route test traffic off the machine.
    """
    if not is_loopback_host(host):
        raise ValueError(
            f"{what} {host!r} is not localhost or an address in 127.0.0.0/8 or ::1 (loopback only)"
        )


def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Close *writer*'s socket with an RST instead of a FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def close_quietly(writer: asyncio.StreamWriter | None) -> None:
    """Close *writer* (if any), ignoring errors from an already broken connection."""
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.close()


_Server = TypeVar("_Server", bound="LoopServer")


class LoopServer:
    """A TCP server on its own asyncio loop in a daemon thread; subclasses handle clients.

    Subclasses implement :meth:`_handle` for one client connection.  Both the listening
    address and the upstream must be loopback.

    Parameters
    ----------
    upstream
        Loopback ``(host, port)`` the subclass forwards to.
    listen_host
        Loopback address to listen on (the port is picked by the kernel).
    """

    def __init__(self, upstream: tuple[str, int], listen_host: str) -> None:
        require_loopback(listen_host, "listen host")
        require_loopback(upstream[0], "upstream host")
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

    def __enter__(self: _Server) -> _Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
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
            self._track, self._listen_host, 0, backlog=1024, limit=HEAD_LIMIT
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
            close_quietly(writer)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError
