"""Test helpers for code that reads registries: a real local registry, its servers, proxies.

Like ``pandas._testing`` or ``werkzeug.test``, this subpackage is meant for test suites — the
project's own, ``regframe demo``, the benchmark, and users' tests.  The library itself never
imports it.

* :class:`Sandbox` starts the CNCF distribution registry (Debian ``docker-registry``) on
  127.0.0.1, optionally behind Basic auth, a Docker Hub-like :class:`TokenServer` on
  127.0.0.2, blob redirects to a recording CDN on 127.0.0.3, or TLS.
* :class:`Pusher` (``Sandbox.pusher``) pushes images, indexes and tags without docker; the
  documents it uploads come from :mod:`regframe.testing.documents`.
* :class:`LatencyProxy` adds a round-trip time; :class:`FaultProxy` injects resets, stalls,
  503/429 answers and truncated bodies from a seeded RNG.
* :class:`ApiShim` gives a token-auth :class:`Sandbox` the face of Harbor, ACR, GitLab, GHCR
  or ECR Public (their challenge, realm and tag API, answered from what the registry stores).
* :mod:`regframe.testing.histories` holds the seeded release histories of the demo.

It needs the ``sandbox`` extra (``pip install 'regframe[sandbox]'``); without it, importing
this package raises :class:`SandboxExtraMissingError` with that one line.  The registry binary
itself comes from the ``docker-registry`` system package.

Examples
--------
>>> import regframe
>>> from regframe.testing import FaultProxy, Sandbox
>>> with Sandbox(auth="token") as sb:  # doctest: +SKIP
...     sb.pusher.push_multiarch("team/app", ["1.0.0", "latest"], created="2024-05-01T00:00:00Z")
...     with FaultProxy(sb.address, error503=0.2) as proxy:
...         df = regframe.read_tags(f"{proxy.netloc}/team/app", dates=True)
>>> sorted(df["tag"])  # doctest: +SKIP
['1.0.0', 'latest']
"""

from __future__ import annotations

import importlib.util

from regframe.errors import SandboxError, SandboxExtraMissingError, SandboxUnavailable

#: The one sentence shown when the ``sandbox`` extra is missing.
EXTRA_HINT = "regframe.testing needs the sandbox extra: pip install 'regframe[sandbox]'"

_missing = [n for n in ("jwt", "cryptography", "bcrypt") if importlib.util.find_spec(n) is None]
if _missing:
    raise SandboxExtraMissingError(f"{EXTRA_HINT} (missing: {', '.join(_missing)})")

from regframe.testing.api_shim import ApiShim  # noqa: E402
from regframe.testing.fault_proxy import FaultProxy  # noqa: E402
from regframe.testing.latency_proxy import LatencyProxy  # noqa: E402
from regframe.testing.pusher import Pusher  # noqa: E402
from regframe.testing.recording import RecordedRequest  # noqa: E402
from regframe.testing.sandbox import Sandbox  # noqa: E402
from regframe.testing.token import TokenServer  # noqa: E402

__all__ = [
    "EXTRA_HINT",
    "ApiShim",
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
