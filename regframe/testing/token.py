"""A Docker-style token server for the loopback sandbox registry (test/demo infrastructure).

This module is part of :mod:`regframe.testing.sandbox`: it plays the role of
``auth.docker.io`` / ``docker-auth.elastic.co`` in front of a local CNCF
distribution registry so that tests, ``regframe demo`` and the benchmark can
exercise the real Bearer token dance without the network.  It only ever binds
loopback addresses and is not meant to protect anything.

The server issues ES256 JWTs in the format distribution's ``auth.token``
backend verifies: the signing key's self-signed certificate goes into the
registry's ``rootcertbundle`` and into the JWT ``x5c`` header; the claims are
``iss, sub, aud, exp, nbf, iat, jti, access``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = [
    "RecordedRequest",
    "RecordingHTTPServer",
    "SigningMaterial",
    "TokenServer",
    "is_private",
    "parse_scope",
]

TokenField = Literal["token", "access_token", "both"]
Fault = Literal["garbage", "500", "oversized", "html"]

#: Registries assume 60 s when a token answer carries no ``expires_in``.
DEFAULT_TOKEN_LIFETIME = 60


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

        Example
        -------
        >>> RecordedRequest("/t", {}, {"authorization": "Basic x"}).header("Authorization")
        'Basic x'
        """
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class SigningMaterial:
    """An EC P-256 key and the self-signed certificate the registry trusts.

    Example
    -------
    >>> m = SigningMaterial.generate()
    >>> m.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    True
    """

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def generate(cls, common_name: str = "regframe sandbox token signer") -> SigningMaterial:
        """Create a fresh key and a one-day self-signed certificate for it."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = _utcnow()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, cert=cert)

    @property
    def cert_pem(self) -> bytes:
        """The certificate in PEM, for the registry's ``rootcertbundle``."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def x5c(self) -> list[str]:
        """The JWT ``x5c`` header value: base64 (not url-safe) DER of the certificate."""
        der = self.cert.public_bytes(serialization.Encoding.DER)
        return [base64.b64encode(der).decode("ascii")]

    def mint(
        self,
        *,
        issuer: str,
        audience: str,
        access: list[dict[str, Any]],
        lifetime: int = DEFAULT_TOKEN_LIFETIME,
        subject: str = "",
        now: float | None = None,
    ) -> str:
        """Sign a registry token.

        Parameters
        ----------
        issuer, audience
            Must equal the registry's ``auth.token.issuer`` and ``service``.
        access
            ``[{"type": "repository", "name": "a/b", "actions": ["pull"]}]``.
        lifetime
            Seconds until ``exp``.
        subject
            The user the token speaks for (empty for anonymous).
        now
            Issue time (epoch seconds); defaults to the current time.

        Returns
        -------
        str
            The compact JWS.

        Example
        -------
        >>> m = SigningMaterial.generate()
        >>> tok = m.mint(issuer="i", audience="svc", access=[])
        >>> tok.count(".")
        2
        """
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": issuer,
            "sub": subject,
            # distribution 2.8 declares ``aud`` as a single string, not a list.
            "aud": audience,
            "exp": issued + int(lifetime),
            "nbf": issued - 1,
            "iat": issued,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        headers = {"typ": "JWT", "x5c": self.x5c}
        token: str = jwt.encode(claims, self.key, algorithm="ES256", headers=headers)
        return token


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """Split ``type:name:actions`` (the name may itself hold colons).

    Example
    -------
    >>> parse_scope("repository:library/python:pull,push")
    ('repository', 'library/python', ['pull', 'push'])
    >>> parse_scope("nonsense") is None
    True
    """
    first, _, rest = scope.partition(":")
    name, sep, actions = rest.rpartition(":")
    if not first or not sep or not name:
        return None
    return first, name, [a for a in actions.split(",") if a]


def is_private(name: str, private: Collection[str]) -> bool:
    """Whether ``name`` is listed in ``private`` exactly or under a prefix ending in ``/``.

    Example
    -------
    >>> is_private("private/x", ["private/"]), is_private("public/x", ["private/", "a"])
    (True, False)
    """
    return any(name == p or (p.endswith("/") and name.startswith(p)) for p in private)


class RecordingHTTPServer(ThreadingHTTPServer):
    """A threaded loopback HTTP server that runs in a daemon thread and records requests."""

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

    def __init__(self, host: str, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__((host, 0), handler)
        self.requests: list[RecordedRequest] = []
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the kernel picked."""
        return int(self.server_address[1])

    def start_background(self, name: str) -> None:
        """Serve in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self.serve_forever, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        # Test output stays readable; the recorded requests are the log.
        return

    def record(self) -> tuple[str, dict[str, str]]:
        split = urllib.parse.urlsplit(self.path)
        query: dict[str, str] = {}
        for key, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
            query[key] = f"{query[key]} {value}" if key in query else value
        headers = {k: v for k, v in self.headers.items()}
        self.server.requests.append(RecordedRequest(split.path, query, headers))
        return split.path, query

    def send_body(self, status: int, body: bytes, content_type: str, **extra: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _TokenHandler(_QuietHandler):
    server: _TokenHTTPServer

    def do_GET(self) -> None:
        path, query = self.record()
        owner = self.server.owner
        if path != "/token":
            self.send_body(404, b'{"details":"not found"}', "application/json")
            return
        fault = owner.fault
        if fault == "500":
            self.send_body(500, b'{"details":"internal error"}', "application/json")
            return
        if fault == "garbage":
            self.send_body(200, b"\x00\xffnot json {{", "application/json")
            return
        if fault == "html":
            page = b"<!doctype html><html><body><form>Please log in</form></body></html>"
            self.send_body(200, page, "text/html; charset=utf-8")
            return
        user = self._authenticate(owner)
        if user is False:
            self.send_body(
                401,
                b'{"details":"incorrect username or password"}',
                "application/json",
                WWW_Authenticate='Basic realm="regframe sandbox"',
            )
            return
        body = owner.answer(query.get("scope", ""), user or "")
        if fault == "oversized":
            # A valid answer buried in > 1 MiB: only a bounded reader notices.
            body["padding"] = "x" * (1024 * 1024 + 512)
        self.send_body(200, json.dumps(body).encode(), "application/json")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        # The OAuth2 POST flow is not offered: clients must fall back to GET, as with Elastic's.
        self.record()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        self.send_body(405, b'{"details":"method not allowed"}', "application/json")

    def _authenticate(self, owner: TokenServer) -> str | Literal[False] | None:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = owner.users.get(user)
        if not sep or expected is None or not hmac.compare_digest(expected, password):
            return False
        return user


class _TokenHTTPServer(RecordingHTTPServer):
    owner: TokenServer


class TokenServer:
    """Docker Hub-like token endpoint for the sandbox registry (loopback only).

    Access policy: anonymous callers get ``pull`` on public repositories;
    repositories in ``private`` (exact names or prefixes ending in ``/``)
    need valid Basic credentials, otherwise the token is issued with an empty
    ``access`` list so the registry answers 401 ``insufficient_scope``.  Wrong
    credentials get a 401 from the token server itself.  Authenticated users
    get ``pull``/``push`` as asked and ``registry:catalog:*``.

    The knobs below may be changed while the server runs (tests flip them).

    Attributes
    ----------
    field
        Which member carries the token: ``"token"``, ``"access_token"`` or ``"both"``.
    expires_in
        Seconds announced as ``expires_in`` and used for ``exp``; ``None`` omits
        the member (the token then lives the default 60 s).
    issued_at
        Whether to include ``issued_at`` (RFC 3339).
    fault
        ``None`` or one of ``"garbage"``, ``"500"``, ``"oversized"`` (> 1 MiB body),
        ``"html"`` to misbehave.
    requests
        Every request seen, as :class:`RecordedRequest`; ``requests.clear()`` resets.

    Example
    -------
    >>> ts = TokenServer(SigningMaterial.generate(), service="svc", issuer="iss")
    >>> ts.start()
    >>> ts.realm.startswith("http://127.0.0.2:")
    True
    >>> ts.stop()
    """

    def __init__(
        self,
        signing: SigningMaterial,
        service: str,
        issuer: str,
        *,
        users: Mapping[str, str] | None = None,
        private: Collection[str] = (),
        host: str = "127.0.0.2",
    ) -> None:
        self.signing = signing
        self.service = service
        self.issuer = issuer
        self.users: dict[str, str] = dict(users or {})
        self.private: tuple[str, ...] = tuple(private)
        self.host = host
        self.field: TokenField = "token"
        self.expires_in: int | None = 300
        self.issued_at = True
        self.fault: Fault | None = None
        self._server: _TokenHTTPServer | None = None

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests recorded so far (the live list: ``clear()`` it between checks)."""
        if self._server is None:
            return []
        return self._server.requests

    @property
    def port(self) -> int:
        """The port the server listens on (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("token server is not running")
        return self._server.port

    @property
    def realm(self) -> str:
        """The URL to put in the registry's ``auth.token.realm``."""
        return f"http://{self.host}:{self.port}/token"

    def start(self) -> None:
        """Bind a free port on :attr:`host` and serve in a daemon thread."""
        server = _TokenHTTPServer(self.host, _TokenHandler)
        server.owner = self
        server.start_background("regframe-sandbox-token")
        self._server = server

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def grant(self, scopes: str, user: str) -> list[dict[str, Any]]:
        """The ``access`` claim for the space-separated ``scopes`` asked by ``user``.

        Example
        -------
        >>> ts = TokenServer(SigningMaterial.generate(), "svc", "iss", private=["p/"])
        >>> ts.grant("repository:p/x:pull repository:o/x:pull,push", "")
        [{'type': 'repository', 'name': 'o/x', 'actions': ['pull']}]
        """
        access: list[dict[str, Any]] = []
        for scope in scopes.split():
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            kind, name, actions = parsed
            if kind == "registry" and name == "catalog" and user:
                access.append({"type": kind, "name": name, "actions": ["*"]})
                continue
            if kind != "repository":
                continue
            if user:
                allowed = [a for a in actions if a in ("pull", "push")]
            elif is_private(name, self.private):
                allowed = []
            else:
                allowed = [a for a in actions if a == "pull"]
            if allowed:
                access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def answer(self, scopes: str, user: str) -> dict[str, Any]:
        """The JSON body of a successful token response, honouring the knobs."""
        now = time.time()
        lifetime = DEFAULT_TOKEN_LIFETIME if self.expires_in is None else self.expires_in
        token = self.signing.mint(
            issuer=self.issuer,
            audience=self.service,
            access=self.grant(scopes, user),
            lifetime=lifetime,
            subject=user,
            now=now,
        )
        body: dict[str, Any] = {}
        if self.field in ("token", "both"):
            body["token"] = token
        if self.field in ("access_token", "both"):
            body["access_token"] = token
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if self.issued_at:
            stamp = dt.datetime.fromtimestamp(int(now), dt.timezone.utc)
            body["issued_at"] = stamp.isoformat().replace("+00:00", "Z")
        return body

    def reset(self) -> None:
        """Restore the default knobs and forget recorded requests."""
        self.field = "token"
        self.expires_in = 300
        self.issued_at = True
        self.fault = None
        self.requests.clear()
