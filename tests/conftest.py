"""Shared pytest fixtures: real loopback registries from :mod:`regframe.testing.sandbox`.

Each ``registry_*`` fixture starts one CNCF distribution registry per test
session (start-up takes ~0.1 s) and skips cleanly, with the install hint,
on machines without the ``docker-registry`` binary.

With ``CI=true`` nothing may be skipped: a missing program the suite drives
(:data:`REQUIRED_PROGRAMS`) stops the run before the first test, naming the
Debian package to install, and any skip that still happens is reported as a
failure.  Otherwise a CI machine missing a binary would pass with most of the
suite skipped.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from regframe.testing.sandbox import Sandbox, SandboxUnavailable
from regframe.testing.token import TokenServer

#: Test-only password of the ``alice`` account on every authenticated sandbox.
ALICE_PASSWORD = "wonderland-4-sandbox"
USERS = {"alice": ALICE_PASSWORD}
PRIVATE = ("private/",)

_repo_counter = itertools.count(1)

#: Programs the suite drives, each with the Debian package that installs it
#: (scripts/setup.sh installs them all).
REQUIRED_PROGRAMS = {
    "docker-registry": "docker-registry",
    "skopeo": "skopeo",
    "chromium": "chromium",
    "nginx": "nginx",
}


def in_ci() -> bool:
    """True on a CI machine (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_report_header(config: pytest.Config) -> str:
    """Which transport backend the suite's reads go through ($REGFRAME_TRANSPORT)."""
    from regframe.client.transport import Transport

    transport = Transport()
    name = transport.backend.name
    transport.close()
    return f"regframe transport backend: {name} (REGFRAME_TRANSPORT={os.environ.get('REGFRAME_TRANSPORT', '')!r})"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not in_ci():
        return
    missing = [
        f"{program} (apt-get install {package})"
        for program, package in REQUIRED_PROGRAMS.items()
        # Debian puts nginx in /usr/sbin, which a non-root PATH may leave out
        if shutil.which(program) is None and not os.access(f"/usr/sbin/{program}", os.X_OK)
    ]
    if missing:
        pytest.exit(
            "CI=true and the suite cannot run whole; missing: "
            + ", ".join(missing)
            + " — scripts/setup.sh installs them",
            returncode=1,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        reason = str(reason).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped with CI=true, where every test must run: {reason}"
    return report


def _started(sandbox: Sandbox) -> Iterator[Sandbox]:
    try:
        sandbox.start()
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="session")
def registry_open() -> Iterator[Sandbox]:
    """An anonymous read/write registry (``auth="none"``)."""
    yield from _started(Sandbox())


@pytest.fixture(scope="session")
def registry_htpasswd() -> Iterator[Sandbox]:
    """Basic auth; users ``{"alice": ALICE_PASSWORD}``."""
    yield from _started(Sandbox(auth="htpasswd", users=USERS))


@pytest.fixture(scope="session")
def registry_token() -> Iterator[Sandbox]:
    """Bearer auth, realm on 127.0.0.2; repos under ``private/`` need alice's credentials."""
    yield from _started(Sandbox(auth="token", users=USERS, private=PRIVATE))


@pytest.fixture(scope="session")
def registry_redirect() -> Iterator[Sandbox]:
    """Token auth plus blob GETs redirected (307) to a recording CDN on 127.0.0.3."""
    yield from _started(Sandbox(auth="token", redirect=True, users=USERS, private=PRIVATE))


@pytest.fixture(scope="session")
def registry_tls() -> Iterator[Sandbox]:
    """https registry (``ca_path`` holds its CA) with a plain-http token realm on 127.0.0.2."""
    yield from _started(Sandbox(auth="token", tls=True, users=USERS, private=PRIVATE))


@pytest.fixture
def token_server(registry_token: Sandbox) -> Iterator[TokenServer]:
    """``registry_token``'s token server with default knobs and no recorded requests.

    Knobs a test flips are restored afterwards, so tests stay independent.
    """
    server = registry_token.token_server
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def unique_repo(request: pytest.FixtureRequest) -> str:
    """A repository name no other test uses: ``t/<test-name>-<n>``."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60].strip("-")
    return f"t/{name or 'test'}-{next(_repo_counter)}"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the machine's docker/containers credentials or writes the user's cache or history.

    Returns the temporary HOME (``$DOCKER_CONFIG`` is ``HOME/.docker``).
    """
    # Outside tmp_path, which belongs to the test itself.
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / ".docker"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "run"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("REGFRAME_CACHE_DIR", str(home / ".cache" / "regframe"))
    monkeypatch.setenv(
        "REGFRAME_HISTORY", str(home / ".local" / "share" / "regframe" / "history.sqlite")
    )
    return home


@pytest.fixture
def plain_http_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The https attempt on a loopback registry fails at once, on either backend.

    For servers that never answer a TLS ClientHello (FaultProxy and its subclasses wait
    for an HTTP head): without this, ``read_tags`` would wait one ``timeout`` for the
    https probe before falling back to plain http.
    """
    from regframe.client.transport import Transport
    from regframe.errors import NetworkError

    def refuse(self: Transport, url: str) -> None:
        raise NetworkError("https disabled in this test", url=url)

    monkeypatch.setattr(Transport, "probe", refuse)
