"""Registry authentication: ping, challenge, bearer tokens, Basic — and where credentials may go.

The flow mirrors go-containerregistry's transport: ``GET /v2/`` once; a 401
names the scheme in ``WWW-Authenticate``; for Bearer we fetch a token from the
realm (often another host: ``docker.elastic.co`` → ``docker-auth.elastic.co``)
and cache it per scope until it expires; a later 401 triggers exactly one
re-authentication.

Credential rules enforced here:

* Basic credentials go only to the realm (Bearer) or to the registry that
  itself challenged with Basic — never anywhere else;
* a realm that is plain http for an https registry, carries userinfo, or is a
  literal loopback/link-local/private address while the registry is not, is
  refused before anything is sent;
* no credential or token ever appears in a log line, repr or error message.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit, urlunsplit

from regframe.client.credentials import Credentials
from regframe.client.green import TaskLock
from regframe.client.headers import Challenge, parse_www_authenticate, pick_challenge
from regframe.client.redact import redact_host, redact_url
from regframe.client.transport import Reply, Transport, json_errors
from regframe.errors import (
    AuthenticationError,
    NotFoundOrUnauthorizedError,
    RateLimitError,
    RegistryError,
    ResponseTooLarge,
)
from regframe.parsing.reference import is_loopback_host

__all__ = ["Authenticator", "check_realm"]

log = logging.getLogger(__name__)

MAX_TOKEN_BYTES = 1024 * 1024
MIN_TOKEN_LIFETIME = 60.0
# Refresh a little early so a token does not expire between check and use.
EXPIRY_MARGIN = 5.0


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


def _is_private_address(host: str) -> bool:
    if is_loopback_host(host) or host.lower() == "localhost.localdomain":
        return True
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return bool(
        addr.is_loopback
        or addr.is_link_local
        or addr.is_private
        or addr.is_reserved
        or addr.is_unspecified
        or addr.is_multicast
    )


def check_realm(realm: str, registry_url: str) -> str:
    """Validate a Bearer ``realm`` against the registry that named it.

    Parameters
    ----------
    realm
        The ``realm`` parameter of the registry's challenge.
    registry_url
        The registry's base URL (``https://host``).

    Returns
    -------
    str
        The realm, unchanged, when it is safe to send credentials to.

    Raises
    ------
    AuthenticationError
        When the realm is not http(s), is plain http for an https registry,
        carries userinfo, or is a literal private/loopback address while the
        registry is not.

    Examples
    --------
    >>> check_realm("https://auth.docker.io/token", "https://registry-1.docker.io")
    'https://auth.docker.io/token'
    """
    reg = urlsplit(registry_url)
    where = redact_host(registry_url)
    try:
        parts = urlsplit(realm)
        parts.hostname  # noqa: B018 - raises ValueError on a broken IPv6 literal
    except ValueError:
        raise AuthenticationError(f"{where} named an unusable token realm (not a URL)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AuthenticationError(f"{where} named an unusable token realm (not an http(s) URL)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise AuthenticationError(f"{where} named a token realm with userinfo; refusing it")
    if reg.scheme == "https" and parts.scheme != "https":
        raise AuthenticationError(
            f"{where} is https but its token realm {parts.hostname} is plain http; "
            "refusing to send credentials in clear text"
        )
    if _is_private_address(parts.hostname) and not _is_private_address(reg.hostname or ""):
        raise AuthenticationError(
            f"{where} pointed its token realm at a private or loopback address "
            f"({parts.hostname}); refusing it"
        )
    return realm


class Authenticator:
    """Per-registry authentication state shared by all worker threads.

    Parameters
    ----------
    transport
        The transport every request goes through.
    base_url
        ``scheme://host[:port]`` of the registry.
    display
        The registry name to use in messages (``docker.io`` for Docker Hub).
    credentials
        Explicit credentials, or ``None``.
    lookup
        Called at most once, and only when the registry challenges, to find
        default credentials (docker config, helpers, auth.json).
    docker_hub
        Word 401s the way Docker Hub means them.

    Examples
    --------
    >>> from regframe.client.transport import Transport
    >>> auth = Authenticator(Transport(), "https://ghcr.io", display="ghcr.io")
    >>> auth.headers_for("repository:o/r:pull")  # doctest: +SKIP
    {'Authorization': 'Bearer ...'}
    """

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        *,
        display: str,
        credentials: Credentials | None = None,
        lookup: Callable[[], Credentials | None] | None = None,
        docker_hub: bool = False,
    ) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.display = display
        self.docker_hub = docker_hub
        self._explicit = credentials
        self._lookup = lookup
        self._credentials: Credentials | None = credentials
        self._looked_up = credentials is not None
        self._challenges: list[Challenge] | None = None
        self._tokens: dict[str, _Token] = {}
        # Held across the ping and token requests, which a job greenlet parks in.
        self._lock = TaskLock()
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"Authenticator({self.display!r}, scheme={self.scheme!r})"

    # -- ping --------------------------------------------------------------

    @property
    def scheme(self) -> str | None:
        ch = self._challenge()
        return ch.scheme if ch else None

    @property
    def challenge(self) -> Challenge | None:
        """The ping's Bearer (else Basic) challenge, or ``None`` for an anonymous registry.

        Its ``realm`` and ``service`` are what :mod:`regframe.client.tag_apis` reads to
        tell which product answers (Harbor, GitLab, ACR...) without trusting host names.
        """
        return self._challenge()

    def ping(self) -> None:
        """``GET /v2/`` once and remember the challenge (thread-safe, idempotent)."""
        with self._lock:
            if self._challenges is None:
                self.accept_ping(self.transport.request("GET", f"{self.base_url}/v2/"))

    def accept_ping(self, reply: Reply) -> None:
        """Remember the challenge of a ``GET /v2/`` answer someone else already sent."""
        with self._lock:
            if reply.status == 401:
                self._challenges = parse_www_authenticate(
                    ", ".join(_header_values(reply, "WWW-Authenticate"))
                )
            elif reply.status == 404:
                raise RegistryError(
                    f"{self.display} does not speak the registry v2 API (GET /v2/ answered 404)",
                    status_code=404,
                    url=f"{self.base_url}/v2/",
                )
            elif reply.status == 429 or reply.status >= 500:
                # Still failing after the transport's retries: the registry is
                # down or throttling, and every later request would say so again.
                cls = RateLimitError if reply.status == 429 else RegistryError
                raise cls(
                    f"{self.display} answered HTTP {reply.status} to GET /v2/ after retries",
                    status_code=reply.status,
                    url=f"{self.base_url}/v2/",
                )
            else:
                # 200 means anonymous access; some registries answer 403 on
                # /v2/ yet serve repositories, so let the real request decide.
                if reply.status not in (200, 204):
                    log.debug("ping %s answered %s", self.display, reply.status)
                self._challenges = []

    def _challenge(self, reply: Reply | None = None) -> Challenge | None:
        challenges: list[Challenge] = []
        if reply is not None:
            challenges = parse_www_authenticate(
                ", ".join(_header_values(reply, "WWW-Authenticate"))
            )
        if not challenges:
            challenges = self._challenges or []
        return pick_challenge(challenges, "bearer", "basic")

    # -- credentials -------------------------------------------------------

    def _creds(self) -> Credentials | None:
        with self._lock:
            if not self._looked_up:
                self._looked_up = True
                self._credentials = self._lookup() if self._lookup else None
            return self._credentials

    # -- headers -----------------------------------------------------------

    def headers_for(self, scope: str) -> dict[str, str]:
        """The ``Authorization`` header (if any) to send to the registry for ``scope``."""
        self.ping()
        ch = self._challenge()
        if ch is None:
            return {}
        if ch.scheme == "basic":
            creds = self._creds()
            if creds is None:
                raise self._needs_credentials(scope)
            return {"Authorization": _basic(creds)}
        if ch.scheme == "bearer":
            token = self._token(scope, ch, stale=None)
            return {"Authorization": f"Bearer {token.value}"}
        # Unknown schemes (Negotiate, AWS4...) cannot be answered; try anonymously.
        return {}

    def refresh(self, reply: Reply, scope: str, used: dict[str, str]) -> dict[str, str] | None:
        """Headers for one retry after a 401/403 ``reply``; ``None`` when retrying is pointless."""
        ch = self._challenge(reply)
        if ch is None:
            return None
        if ch.scheme == "basic":
            if "Authorization" in used:
                return None
            creds = self._creds()
            return {"Authorization": _basic(creds)} if creds else None
        if ch.scheme == "bearer":
            stale = used.get("Authorization", "").removeprefix("Bearer ")
            token = self._token(scope, ch, stale=stale or None, force=True)
            return {"Authorization": f"Bearer {token.value}"}
        return None

    def _token(
        self, scope: str, ch: Challenge, *, stale: str | None, force: bool = False
    ) -> _Token:
        with self._lock:
            cached = self._tokens.get(scope)
            now = time.monotonic()
            if cached is not None:
                fresh = cached.expires_at - EXPIRY_MARGIN > now
                # Another thread may already have replaced the token this
                # request was rejected with: use that instead of fetching again.
                if fresh and not force:
                    return cached
                if force and stale is not None and cached.value != stale and fresh:
                    return cached
            token = self._fetch_token(scope, ch)
            self._tokens[scope] = token
            return token

    def _fetch_token(self, scope: str, ch: Challenge) -> _Token:
        url = self._token_url(scope, ch)
        creds = self._creds()
        self.token_requests += 1
        reply = self._ask_token_server(url, scope, creds)
        return self._read_token(reply, url, scope)

    def _token_url(self, scope: str, ch: Challenge) -> str:
        """The realm's URL with ``service`` and ``scope`` added, once the realm passed its check."""
        realm = ch.params.get("realm", "")
        if not realm:
            raise AuthenticationError(f"{self.display} sent a Bearer challenge without a realm")
        check_realm(realm, self.base_url)
        params: list[tuple[str, str]] = []
        if ch.params.get("service"):
            params.append(("service", ch.params["service"]))
        params.append(("scope", scope))
        parts = urlsplit(realm)
        query = "&".join(q for q in (parts.query, urlencode(params)) if q)
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))

    def _ask_token_server(self, url: str, scope: str, creds: Credentials | None) -> Reply:
        """The token server's 200 answer; anything else becomes an ``AuthenticationError``."""
        realm_host = urlsplit(url).hostname
        try:
            reply = self.transport.request(
                "GET",
                url,
                auth=(creds.username, creds.password) if creds else None,
                limit=MAX_TOKEN_BYTES,
            )
        except ResponseTooLarge:
            raise AuthenticationError(
                f"token server {realm_host} for {self.display} sent an oversized answer"
            ) from None
        except RegistryError as exc:
            raise AuthenticationError(
                f"could not get a token for {self.display} from {realm_host}: {exc}",
                status_code=exc.status_code,
                url=exc.url,
            ) from None
        if reply.status in (401, 403):
            if creds is not None:
                raise AuthenticationError(
                    f"credentials for {self.display} (from {creds.source}) were rejected by "
                    f"the token server {realm_host}",
                    status_code=reply.status,
                    url=redact_url(url),
                )
            raise self._needs_credentials(scope, status=reply.status)
        if reply.status != 200:
            raise self._token_error(url, reply, f"answered HTTP {reply.status}")
        return reply

    def _read_token(self, reply: Reply, url: str, scope: str) -> _Token:
        """The token and its lifetime from the token server's JSON answer."""
        try:
            doc = json.loads(reply.body)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise self._token_error(url, reply, "did not answer with a JSON object")
        value = doc.get("token") or doc.get("access_token")
        if not isinstance(value, str) or not value.strip():
            raise self._token_error(url, reply, "answered without a token")
        if any(c in value for c in "\r\n"):
            realm_host = urlsplit(url).hostname
            raise AuthenticationError(
                f"token server {realm_host} for {self.display} sent a malformed token"
            )
        lifetime = _lifetime(doc.get("expires_in"), doc.get("issued_at"))
        log.debug("got a token for %s scope %s valid %.0fs", self.display, scope, lifetime)
        return _Token(value.strip(), time.monotonic() + lifetime)

    def _token_error(self, url: str, reply: Reply, what: str) -> AuthenticationError:
        return AuthenticationError(
            f"token server {urlsplit(url).hostname} for {self.display} {what}",
            status_code=reply.status,
            url=redact_url(url),
        )

    # -- errors ------------------------------------------------------------

    def _needs_credentials(self, scope: str, status: int | None = 401) -> AuthenticationError:
        repo = scope.split(":")[1] if scope.count(":") >= 2 else scope
        return AuthenticationError(
            f"{self.display} requires credentials for {repo}: pass auth=(username, password), "
            f"run `docker login {self.display}`, or set REGISTRY_AUTH_FILE",
            status_code=status,
        )

    def unauthorized(self, reply: Reply, scope: str) -> AuthenticationError:
        """The error for a 401/403 that survived the one re-authentication."""
        repo = scope.split(":")[1] if scope.count(":") >= 2 else scope
        creds = self._creds()
        ch = self._challenge(reply)
        errors = json_errors(reply.body)
        url = redact_url(reply.url)
        if reply.status == 403:
            return AuthenticationError(
                f"{self.display} denied access to {repo} (HTTP 403)",
                status_code=403,
                url=url,
                errors=errors,
            )
        if ch is not None and ch.scheme == "basic" and creds is None:
            err = self._needs_credentials(scope)
            err.url = url
            err.errors = errors
            return err
        if creds is None:
            hint = (
                "Docker Hub answers this way for both"
                if self.docker_hub
                else "the registry does not say which"
            )
            return NotFoundOrUnauthorizedError(
                f"{self.display}/{repo}: repository not found or not authorized ({hint}); if it is "
                f"private, pass auth=(username, password) or run `docker login {self.display}`",
                status_code=reply.status,
                url=url,
                errors=errors,
            )
        return NotFoundOrUnauthorizedError(
            f"{self.display}/{repo}: not found or not authorized for the credentials from "
            f"{creds.source}",
            status_code=reply.status,
            url=url,
            errors=errors,
        )


def _header_values(reply: Reply, name: str) -> list[str]:
    # requests folds repeated headers into one comma-joined value already.
    value = reply.headers.get(name)
    return [value] if value else []


def _basic(creds: Credentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _lifetime(expires_in: object, issued_at: object) -> float:
    """Seconds the token stays valid from now, per the token spec's defaults and minimum."""
    seconds = MIN_TOKEN_LIFETIME
    if isinstance(expires_in, int | float | str) and not isinstance(expires_in, bool):
        try:
            seconds = float(expires_in)
        except ValueError:
            seconds = MIN_TOKEN_LIFETIME
    if math.isnan(seconds) or seconds < MIN_TOKEN_LIFETIME:
        seconds = MIN_TOKEN_LIFETIME
    seconds = min(seconds, 24 * 3600.0)
    if isinstance(issued_at, str):
        try:
            issued = datetime.fromisoformat(issued_at.replace("Z", "+00:00"))
            if issued.tzinfo is None:
                issued = issued.replace(tzinfo=timezone.utc)
            age = (datetime.now(timezone.utc) - issued).total_seconds()
            # Only trust issued_at when it is plausible: clocks drift, and a
            # token server minutes ahead must not make every token "expired".
            if 0 < age < seconds:
                seconds -= age
        except ValueError:
            pass
    return max(seconds, 1.0)
