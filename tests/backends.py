"""Test helpers that watch or refuse what any transport backend sends.

Patching ``requests``' adapter only sees the ``requests`` backend; these patch the
``send`` of every backend class, so a test means the same under ``REGFRAME_TRANSPORT=curl``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from regframe.client.transport import fast_available
from regframe.client.transport_requests import RequestsBackend

Send = Callable[..., Any]

#: Both backends, or only requests where pycurl is not installed.
AVAILABLE = ["curl", "requests"] if fast_available() else ["requests"]


def backend_classes() -> list[type]:
    classes: list[type] = [RequestsBackend]
    if fast_available():
        from regframe.client.transport_curl import CurlBackend

        classes.append(CurlBackend)
    return classes


def wrap_sends(monkeypatch: pytest.MonkeyPatch, wrap: Callable[[Send], Send]) -> None:
    """Replace every backend's ``send`` with ``wrap(original_send)``."""
    for cls in backend_classes():
        monkeypatch.setattr(cls, "send", wrap(cls.send))


def refuse_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any request on any backend fails the test."""

    def wrap(original: Send) -> Send:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("network traffic before input validation")

        return refuse

    wrap_sends(monkeypatch, wrap)
