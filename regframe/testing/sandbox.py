"""A real CNCF distribution registry on loopback, for tests, ``regframe demo`` and benchmarks.

This is test/demo infrastructure, not part of reading tags: it starts the
Debian ``docker-registry`` binary (CNCF distribution 2.8.2,
``docker-registry serve CONFIG.yml``) on ``127.0.0.1`` with a temporary
storage directory, optionally behind

* ``auth="htpasswd"`` — Basic auth with a bcrypt htpasswd file;
* ``auth="token"`` — a Docker Hub-like token server on ``127.0.0.2`` (the realm
  lives on *another host*, like ``docker.elastic.co`` → ``docker-auth.elastic.co``),
  see :mod:`regframe.testing.token`;
* ``redirect=True`` — blob GETs answer 307 to a recording "CDN" on ``127.0.0.3``
  that serves the storage root;
* ``tls=True`` — https with a throw-away CA (``Sandbox.ca_path``).

Everything binds loopback addresses only and lives as long as the :class:`Sandbox` context.
Images are pushed without docker by :class:`regframe.testing.pusher.Pusher`
(``Sandbox.pusher``); TLS material comes from :mod:`regframe.testing.certs`, the CDN from
:mod:`regframe.testing.cdn`.
"""

from __future__ import annotations

import atexit
import base64
import importlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import requests

from regframe.errors import SandboxError, SandboxUnavailable
from regframe.testing.cdn import CDN_HOST, CDNServer
from regframe.testing.certs import write_tls_files
from regframe.testing.pusher import Child, Pusher
from regframe.testing.token import TOKEN_HOST, SigningMaterial, TokenServer

__all__ = [
    "INSTALL_HINT",
    "REGISTRY_HOST",
    "Sandbox",
    "SandboxError",
    "SandboxUnavailable",
    "bcrypt_hash",
    "find_registry_binary",
]

logger = logging.getLogger(__name__)

Auth = Literal["none", "htpasswd", "token"]

INSTALL_HINT = (
    "the sandbox needs the CNCF distribution registry binary: install it with "
    "`sudo apt-get install docker-registry` (Debian/Ubuntu), or point "
    "$REGFRAME_REGISTRY_BIN at a `registry` binary"
)

REGISTRY_HOST = "127.0.0.1"
SERVICE = "regframe-sandbox-registry"
ISSUER = "regframe-sandbox-token-issuer"
#: Lifetime of the push tokens the pusher mints for itself.
PUSH_TOKEN_LIFETIME = 3600


def find_registry_binary() -> str:
    """Path of the distribution registry binary, or raise :class:`SandboxUnavailable`.

    ``$REGFRAME_REGISTRY_BIN`` wins; then ``docker-registry`` and ``registry`` on ``PATH``.

    Examples
    --------
    >>> find_registry_binary()  # doctest: +SKIP
    '/usr/bin/docker-registry'
    """
    override = os.environ.get("REGFRAME_REGISTRY_BIN")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise SandboxUnavailable(f"$REGFRAME_REGISTRY_BIN={override!r} is not executable; "
                                 + INSTALL_HINT)
    for name in ("docker-registry", "registry"):
        found = shutil.which(name)
        if found:
            return found
    if os.access("/usr/bin/docker-registry", os.X_OK):
        return "/usr/bin/docker-registry"
    raise SandboxUnavailable("docker-registry not found; " + INSTALL_HINT)


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for an htpasswd line (distribution accepts nothing else).

    Uses the ``bcrypt`` package when installed, else the C library's crypt(3)
    through the stdlib ``crypt`` module (Python < 3.13, glibc/libxcrypt).
    Cost 4, the minimum: the registry checks it on every request and these
    are throw-away test credentials.

    Examples
    --------
    >>> bcrypt_hash("pw")[:4]  # doctest: +SKIP
    '$2b$'
    """
    try:
        bcrypt: Any = importlib.import_module("bcrypt")
    except ImportError:
        bcrypt = None
    if bcrypt is not None:
        return str(bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt

            result = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))  # noqa: S324 - bcrypt
    except (ImportError, AttributeError, OSError) as exc:
        raise SandboxUnavailable(
            "htpasswd auth needs bcrypt: `pip install bcrypt`"
        ) from exc
    if not result or not result.startswith("$2"):
        raise SandboxUnavailable("this C library cannot make bcrypt hashes: `pip install bcrypt`")
    return str(result)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Sandbox:
    """A CNCF distribution registry on loopback for tests, demos and benchmarks.

    Test/demo infrastructure only: it binds 127.0.0.1 (registry), 127.0.0.2
    (token server) and 127.0.0.3 (CDN), keeps its data in a temporary
    directory and removes it on :meth:`stop`.

    Parameters
    ----------
    auth
        ``"none"``, ``"htpasswd"`` (Basic) or ``"token"`` (Bearer via :attr:`token_server`).
    redirect
        Serve blob GETs as 307 redirects to :attr:`cdn` on 127.0.0.3.
    tls
        Serve https with a throw-away CA written to :attr:`ca_path`.
    users
        ``{username: password}`` accepted by htpasswd or the token server.
    private
        Token mode: repositories (exact names, or prefixes ending in ``/``) that
        anonymous callers may not pull.
    workdir
        Parent directory for the sandbox's temporary directory.
    startup_timeout
        Seconds to wait for ``/v2/`` to answer.

    Attributes
    ----------
    host, url, ca_path, users, token_server, cdn, pusher

    Examples
    --------
    >>> sb = Sandbox(auth="token", private=["private/"], users={"alice": "pw"})
    >>> with sb:  # doctest: +SKIP
    ...     sb.pusher.push_multiarch("demo/app", ["1.0", "latest"], created="2024-01-01T00:00:00Z")
    ...     requests.get(f"{sb.url}/v2/").status_code
    401
    """

    def __init__(
        self,
        *,
        auth: Auth = "none",
        redirect: bool = False,
        tls: bool = False,
        users: Mapping[str, str] | None = None,
        private: Collection[str] = (),
        workdir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        if auth not in ("none", "htpasswd", "token"):
            raise ValueError(f"auth must be 'none', 'htpasswd' or 'token', not {auth!r}")
        self.auth: Auth = auth
        self.redirect = redirect
        self.tls = tls
        self._users: dict[str, str] = dict(users or {})
        self.private: tuple[str, ...] = tuple(private)
        self._workdir_parent = None if workdir is None else Path(workdir)
        self.startup_timeout = startup_timeout
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._ca_path: Path | None = None
        self._cert_path: Path | None = None
        self._key_path: Path | None = None
        self._token_server: TokenServer | None = None
        self._cdn: CDNServer | None = None
        self._pusher: Pusher | None = None
        self._signing: SigningMaterial | None = None
        self._admin: tuple[str, str] | None = None
        self._push_tokens: dict[str, tuple[str, float]] = {}
        self._push_lock = threading.Lock()

    # -- public attributes ------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the registry process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The registry process's id while it runs (benchmarks read its CPU time), else ``None``."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"{REGISTRY_HOST}:{_present(self._port, 'sandbox is not started')}"

    @property
    def address(self) -> tuple[str, int]:
        """``("127.0.0.1", PORT)``: what a proxy takes as its ``upstream``.

        Examples
        --------
        >>> with LatencyProxy(sb.address, delay=0.05) as proxy:  # doctest: +SKIP
        ...     regframe.read_tags(f"{proxy.netloc}/demo/app")
        """
        return (REGISTRY_HOST, _present(self._port, "sandbox is not started"))

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with ``tls=True``)."""
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def ref(self, repo: str) -> str:
        """Image reference for ``repo`` on this registry.

        Examples
        --------
        >>> sb.ref("demo/app")  # doctest: +SKIP
        '127.0.0.1:40123/demo/app'
        """
        return f"{self.host}/{repo}"

    @property
    def ca_path(self) -> str | None:
        """PEM file of the test CA (``tls=True`` only), for ``requests`` ``verify=``."""
        return None if self._ca_path is None else str(self._ca_path)

    @property
    def verify(self) -> bool | str:
        """What to pass as ``requests`` ``verify=`` to talk to this registry."""
        return self.ca_path or True

    @property
    def users(self) -> dict[str, str]:
        """The configured ``{username: password}`` (a copy; the pusher's admin is not listed)."""
        return dict(self._users)

    @property
    def token_server(self) -> TokenServer:
        """The token server (``auth="token"`` only)."""
        return _present(self._token_server, "this sandbox has no token server (auth != 'token')")

    @property
    def cdn(self) -> CDNServer:
        """The recording CDN (``redirect=True`` only)."""
        return _present(self._cdn, "this sandbox has no CDN (redirect=False)")

    @property
    def pusher(self) -> Pusher:
        """A :class:`~regframe.testing.pusher.Pusher` with push rights on every repository."""
        return _present(self._pusher, "sandbox is not started")

    @property
    def storage_root(self) -> Path:
        """The filesystem driver's root directory."""
        return _present(self._dir, "sandbox is not started") / "storage"

    def mint_token(self, repo: str, actions: Sequence[str] = ("pull",), lifetime: int = 300) -> str:
        """Sign a registry token directly (no token server request; ``auth="token"`` only).

        Examples
        --------
        >>> tok = sb.mint_token("private/app")  # doctest: +SKIP
        """
        signing = _present(self._signing, "this sandbox does not use token auth")
        return signing.mint(
            issuer=ISSUER,
            audience=SERVICE,
            access=[{"type": "repository", "name": repo, "actions": list(actions)}],
            lifetime=lifetime,
            subject="regframe-sandbox-pusher",
        )

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Sandbox:
        """Start the helper servers and the registry; return ``self`` once ``/v2/`` answers.

        Raises
        ------
        SandboxUnavailable
            The registry binary is missing (message says how to install it).
        SandboxError
            The registry died or did not answer in time (its stderr is included).
        """
        if self._proc is not None:
            return self
        binary = find_registry_binary()
        parent = None if self._workdir_parent is None else str(self._workdir_parent)
        self._dir = Path(tempfile.mkdtemp(prefix="regframe-sandbox-", dir=parent))
        atexit.register(self.stop)
        try:
            self._prepare()
            last_error = ""
            # A free port can be taken between probing and the registry binding it: retry.
            for _ in range(3):
                self._port = _free_port(REGISTRY_HOST)
                config = self._dir / "config.yml"
                # YAML is a superset of JSON, so no YAML library is needed.
                config.write_text(json.dumps(self._config(), indent=2))
                stderr_path = self._dir / "registry.log"
                with open(stderr_path, "wb") as log:
                    self._proc = subprocess.Popen(
                        [binary, "serve", str(config)],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=self._dir,
                        start_new_session=True,
                    )
                if self._wait_ready(stderr_path):
                    break
                last_error = stderr_path.read_text(errors="replace")[-2000:]
                self._kill()
                if "address already in use" not in last_error:
                    raise SandboxError(f"docker-registry failed to start:\n{last_error}")
            else:
                raise SandboxError(f"docker-registry failed to start:\n{last_error}")
            self._pusher = Pusher(self.url, auth_header=self._push_auth, verify=self.verify)
        except BaseException:
            logger.warning("sandbox registry did not start; cleaning up %s", self._dir)
            self.stop()
            raise
        logger.info("sandbox registry %s started (auth=%s, data in %s)", self.url, self.auth,
                    self._dir)
        return self

    def stop(self) -> None:
        """Stop the registry and helper servers, delete the temporary directory (idempotent)."""
        atexit.unregister(self.stop)
        if self._pusher is not None:
            self._pusher.close()
            self._pusher = None
        self._kill()
        if self._token_server is not None:
            self._token_server.stop()
        if self._cdn is not None:
            self._cdn.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            logger.info("sandbox registry stopped; removed %s", self._dir)
            self._dir = None
        self._push_tokens.clear()

    def logs(self) -> str:
        """The registry's log output so far (errors only: it runs at log level ``error``)."""
        if self._dir is None:
            return ""
        path = self._dir / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- internals --------------------------------------------------------------------------

    def _prepare(self) -> None:
        assert self._dir is not None
        self.storage_root.mkdir()
        if self.tls:
            tls = write_tls_files(self._dir, REGISTRY_HOST)
            self._ca_path, self._cert_path, self._key_path = tls.ca, tls.cert, tls.key
        if self.auth == "htpasswd":
            # The pusher gets its own secret account so tests' users stay untouched.
            self._admin = ("regframe-sandbox-pusher", secrets.token_urlsafe(18))
            accounts = {**self._users, self._admin[0]: self._admin[1]}
            lines = [f"{user}:{bcrypt_hash(pw)}" for user, pw in accounts.items()]
            (self._dir / "htpasswd").write_text("\n".join(lines) + "\n")
        if self.auth == "token":
            self._signing = SigningMaterial.generate()
            (self._dir / "token-ca.pem").write_bytes(self._signing.cert_pem)
            self._token_server = TokenServer(
                self._signing, SERVICE, ISSUER, users=self._users, private=self.private,
                host=TOKEN_HOST,
            )
            self._start_helper(self._token_server.start, TOKEN_HOST)
        if self.redirect:
            self._cdn = CDNServer(self.storage_root)
            self._start_helper(self._cdn.start, CDN_HOST)

    @staticmethod
    def _start_helper(start: Any, host: str) -> None:
        try:
            start()
        except OSError as exc:
            raise SandboxUnavailable(
                f"cannot bind {host} ({exc}); the sandbox needs the whole 127.0.0.0/8 loopback "
                "range (Linux has it; on macOS run `sudo ifconfig lo0 alias " + host + "`)"
            ) from exc

    def _config(self) -> dict[str, Any]:
        assert self._dir is not None
        http_cfg: dict[str, Any] = {
            "addr": f"{REGISTRY_HOST}:{self._port}",
            "secret": secrets.token_hex(16),
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        }
        if self.tls:
            http_cfg["tls"] = {"certificate": str(self._cert_path), "key": str(self._key_path)}
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "error", "formatter": "text", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage_root)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
                "redirect": {"disable": not self.redirect},
            },
            "http": http_cfg,
            "health": {"storagedriver": {"enabled": False}},
        }
        if self.redirect:
            config["middleware"] = {
                "storage": [{"name": "redirect", "options": {"baseurl": self.cdn.base_url}}]
            }
        if self.auth == "htpasswd":
            config["auth"] = {
                "htpasswd": {"realm": "regframe-sandbox", "path": str(self._dir / "htpasswd")}
            }
        elif self.auth == "token":
            config["auth"] = {
                "token": {
                    "realm": self.token_server.realm,
                    "service": SERVICE,
                    "issuer": ISSUER,
                    "rootcertbundle": str(self._dir / "token-ca.pem"),
                }
            }
        return config

    def _wait_ready(self, stderr_path: Path) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        with requests.Session() as probe:
            probe.trust_env = False
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    return False
                try:
                    resp = probe.get(f"{self.url}/v2/", timeout=1.0, verify=self.verify)
                    if resp.status_code in (200, 401):
                        return True
                except requests.RequestException:
                    pass
                time.sleep(0.05)
        tail = stderr_path.read_text(errors="replace")[-2000:]
        self._kill()
        raise SandboxError(
            f"docker-registry did not answer {self.url}/v2/ within {self.startup_timeout:g} s:\n"
            f"{tail}"
        )

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def _push_auth(self, repo: str) -> str | None:
        if self.auth == "htpasswd" and self._admin is not None:
            raw = f"{self._admin[0]}:{self._admin[1]}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if self.auth == "token":
            now = time.monotonic()
            with self._push_lock:
                cached = self._push_tokens.get(repo)
                if cached is not None and cached[1] > now:
                    return f"Bearer {cached[0]}"
            token = self.mint_token(repo, ("pull", "push"), PUSH_TOKEN_LIFETIME)
            with self._push_lock:
                self._push_tokens[repo] = (token, now + PUSH_TOKEN_LIFETIME - 120)
            return f"Bearer {token}"
        return None

    # -- pushing shortcuts (see Pusher for the full documentation) --------------------------

    def push_blob(self, repo: str, data: bytes) -> str:
        """Shortcut for :meth:`Pusher.push_blob`."""
        return self.pusher.push_blob(repo, data)

    def push_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        """Shortcut for :meth:`Pusher.push_manifest`."""
        return self.pusher.push_manifest(repo, reference, body, media_type)

    def push_image(self, repo: str, tags: str | Sequence[str], **kwargs: Any) -> str:
        """Shortcut for :meth:`Pusher.push_image`."""
        return self.pusher.push_image(repo, tags, **kwargs)

    def push_index(
        self, repo: str, tags: str | Sequence[str], children: Sequence[Child], **kwargs: Any
    ) -> str:
        """Shortcut for :meth:`Pusher.push_index`."""
        return self.pusher.push_index(repo, tags, children, **kwargs)

    def push_multiarch(self, repo: str, tags: str | Sequence[str], **kwargs: Any) -> str:
        """Shortcut for :meth:`Pusher.push_multiarch`."""
        return self.pusher.push_multiarch(repo, tags, **kwargs)

    def tag(self, repo: str, source: str, new_tags: str | Sequence[str]) -> str:
        """Shortcut for :meth:`Pusher.tag`."""
        return self.pusher.tag(repo, source, new_tags)

    def __repr__(self) -> str:
        state = self.url if self.running else "stopped"
        return f"Sandbox(auth={self.auth!r}, redirect={self.redirect}, tls={self.tls}, {state})"


_T = TypeVar("_T")


def _present(part: _T | None, problem: str) -> _T:
    """``part``, or a :class:`SandboxError` saying why this sandbox has none."""
    if part is None:
        raise SandboxError(problem)
    return part
