"""SIGTERM and SIGHUP end a command the way Ctrl-C does, so everything it started is cleaned up.

Python's default for SIGTERM and SIGHUP is to die on the spot: ``finally`` blocks,
context managers and ``atexit`` hooks never run, so a registry child process or a
temporary directory would outlive the command.  Raising :class:`KeyboardInterrupt`
instead unwinds the stack like Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["STOP_SIGNALS", "stop_like_ctrl_c"]

log = logging.getLogger(__name__)

#: The signals turned into :class:`KeyboardInterrupt` (those this platform has).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    log.debug("received %s; stopping", signal.Signals(signum).name)
    raise KeyboardInterrupt


@contextlib.contextmanager
def stop_like_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`KeyboardInterrupt` (main thread only).

    Examples
    --------
    >>> with stop_like_ctrl_c():
    ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
