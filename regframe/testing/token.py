"""A Docker-style token server on loopback that signs tokens the sandbox registry accepts.

It plays ``auth.docker.io`` / ``docker-auth.elastic.co`` in front of the local CNCF
distribution registry (on another loopback address, 127.0.0.2, so the realm is on another
host) so that tests, ``regframe demo`` and the benchmark exercise the real Bearer token dance
without the network.  It is not meant to protect anything.

The server issues ES256 JWTs in the format distribution's ``auth.token`` backend verifies: the
signing key's self-signed certificate goes into the registry's ``rootcertbundle`` and into the
JWT ``x5c`` header; the claims are ``iss, sub, aud, exp, nbf, iat, jti, access``.  Requests
are recorded (:mod:`regframe.testing.recording`) so tests can check what a client asked for.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import logging
import secrets
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from regframe.testing.certs import CertifiedKey, issue_certificate
from regframe.testing.recording import QuietHandler, RecordingService

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "TOKEN_HOST",
    "SigningMaterial",
    "TokenServer",
    "is_private",
    "parse_scope",
]

logger = logging.getLogger(__name__)

TokenField = Literal["token", "access_token", "both"]
Fault = Literal["garbage", "500", "oversized", "html"]

#: The token server's loopback address: another host than the registry's 127.0.0.1.
TOKEN_HOST = "127.0.0.2"
#: Registries assume 60 s when a token answer carries no ``expires_in``.
DEFAULT_TOKEN_LIFETIME = 60


@dataclass(frozen=True)
class SigningMaterial(CertifiedKey):
    """The token signer: an EC P-256 key and the self-signed certificate the registry trusts.

    Examples
    --------
    >>> m = SigningMaterial.generate()
    >>> m.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    True
    """

    @classmethod
    def generate(cls, common_name: str = "regframe sandbox token signer") -> SigningMaterial:
        """Create a fresh key and a one-day self-signed certificate for it."""
        made = issue_certificate(common_name, ca=True)
        return cls(key=made.key, cert=made.cert)

    @property
    def x5c(self) -> list[str]:
        """The JWT ``x5c`` header value: base64 (not url-safe) DER of the certificate."""
        return [base64.b64encode(self.cert_der).decode("ascii")]

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

        Examples
        --------
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

    Examples
    --------
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

    Examples
    --------
    >>> is_private("private/x", ["private/"]), is_private("public/x", ["private/", "a"])
    (True, False)
    """
    return any(name == p or (p.endswith("/") and name.startswith(p)) for p in private)


class _TokenHandler(QuietHandler):

    def do_GET(self) -> None:
        path, query = self.record()
        owner = self.server.owner
        assert isinstance(owner, TokenServer)
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
        # The token itself is a credential: log who asked for what, never the token.
        logger.debug("token for %r, scope %r", user or "anonymous", query.get("scope", ""))
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


class TokenServer(RecordingService):
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

    Examples
    --------
    >>> ts = TokenServer(SigningMaterial.generate(), service="svc", issuer="iss")
    >>> ts.start()
    >>> ts.realm.startswith("http://127.0.0.2:")
    True
    >>> ts.stop()
    """

    handler = _TokenHandler
    thread_name = "regframe-sandbox-token"

    def __init__(
        self,
        signing: SigningMaterial,
        service: str,
        issuer: str,
        *,
        users: Mapping[str, str] | None = None,
        private: Collection[str] = (),
        host: str = TOKEN_HOST,
    ) -> None:
        self.signing = signing
        self.service = service
        self.issuer = issuer
        self.users: dict[str, str] = dict(users or {})
        self.private: tuple[str, ...] = tuple(private)
        super().__init__(host)
        self.field: TokenField = "token"
        self.expires_in: int | None = 300
        self.issued_at = True
        self.fault: Fault | None = None

    @property
    def realm(self) -> str:
        """The URL to put in the registry's ``auth.token.realm``."""
        return f"http://{self.host}:{self.port}/token"

    def grant(self, scopes: str, user: str) -> list[dict[str, Any]]:
        """The ``access`` claim for the space-separated ``scopes`` asked by ``user``.

        Examples
        --------
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
