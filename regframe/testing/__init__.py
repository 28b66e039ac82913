"""Test and demo infrastructure: a real local registry, its token server, a pusher, network proxies.

Like ``pandas._testing`` or ``werkzeug.test``, this subpackage is importable by users' own
test suites::

    from regframe.testing import Sandbox

    with Sandbox(auth="token") as sb:
        sb.pusher.push_image("team/app", "1.0.0")
        df = regframe.read_tags(sb.ref("team/app"), insecure=True)

It needs the ``sandbox`` extra (``pip install 'regframe[sandbox]'``) and the Debian
``docker-registry`` package for the registry binary itself.
"""

from __future__ import annotations

import importlib.util

#: The one sentence shown when the ``sandbox`` extra is missing.
EXTRA_HINT = "regframe.testing needs the sandbox extra: pip install 'regframe[sandbox]'"


class SandboxExtraMissingError(ImportError):
    """The optional packages behind :mod:`regframe.testing` are not installed."""


_missing = [n for n in ("jwt", "cryptography", "bcrypt") if importlib.util.find_spec(n) is None]
if _missing:
    raise SandboxExtraMissingError(f"{EXTRA_HINT} (missing: {', '.join(_missing)})")

from regframe.testing.fault_proxy import FaultProxy  # noqa: E402
from regframe.testing.latency_proxy import LatencyProxy  # noqa: E402
from regframe.testing.pusher import Pusher  # noqa: E402
from regframe.testing.recording import RecordedRequest  # noqa: E402
from regframe.testing.sandbox import Sandbox, SandboxError, SandboxUnavailable  # noqa: E402
from regframe.testing.token import TokenServer  # noqa: E402

__all__ = [
    "EXTRA_HINT",
    "FaultProxy",
    "LatencyProxy",
    "Pusher",
    "RecordedRequest",
    "Sandbox",
    "SandboxError",
    "SandboxExtraMissingError",
    "SandboxUnavailable",
    "TokenServer",
]
