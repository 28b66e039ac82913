"""A product's face in front of the real sandbox registry: its challenge, tokens and tag API.

Harbor, ACR, GitLab, GHCR and ECR Public cannot run here, but the registry protocol they
speak is the one the sandbox's CNCF distribution registry speaks.  An :class:`ApiShim`
stands on its own loopback port in front of a token-auth :class:`~regframe.testing.sandbox.Sandbox`:

* ``/v2/…`` is forwarded to the real registry unchanged, except that a 401's challenge
  names the product's realm and service (Harbor ``…/service/token`` +
  ``harbor-registry``; ACR ``/oauth2/token`` + its own host; GitLab ``…/jwt/auth`` +
  ``container_registry``; GHCR ``…/token`` + ``ghcr.io``; ECR Public ``…/token/`` +
  ``public.ecr.aws``);
* that realm is served by the shim, which signs tokens the real registry accepts (and
  ``metadata_read`` for ACR), granting what the sandbox's private list allows;
* the product's tag API — on the same host for Harbor, ACR and GitLab, on a second
  "API host" (127.0.0.4) for GitHub's and the ECR gallery's — is answered from what the
  registry really stores (:mod:`regframe.testing.stored`, :mod:`regframe.testing.product_apis`).

Every request is recorded, per host, so tests can count them and check where credentials
went.  ``fault`` makes the API answer disagree with itself.  Test infrastructure only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from regframe.testing.product_apis import (
    Fault,
    Page,
    acr_page,
    ecr_page,
    github_page,
    gitlab_page,
    harbor_page,
)
from regframe.testing.recording import QuietHandler, RecordedRequest, RecordingHTTPServer
from regframe.testing.sandbox import Sandbox
from regframe.testing.stored import StoredRepository
from regframe.testing.token import is_private, parse_scope

__all__ = ["API_HOST", "PRODUCTS", "ApiShim"]

#: Loopback address of the separate API host (GitHub's API, the ECR gallery).
API_HOST = "127.0.0.4"
#: The products a shim can play, and the token path of each one's realm.
PRODUCTS = {
    "harbor": "/service/token",
    "acr": "/oauth2/token",
    "gitlab": "/jwt/auth",
    "ghcr": "/token",
    "ecr-public": "/token/",
}
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "www-authenticate",
                         "content-length", "date", "server"})  # fmt: skip


@dataclass
class _Role:
    """Which face of the shim a listener shows: the registry host or the API host."""

    shim: ApiShim
    name: str


class _Handler(QuietHandler):
    def _serve(self) -> None:
        role = self.server.owner
        assert isinstance(role, _Role)
        path, query = self.record()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = role.shim.answer(role.name, self, path, query, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


Answer = tuple[int, dict[str, str], bytes]


def _error(status: int, code: str) -> Answer:
    body = json.dumps({"errors": [{"code": code}]}).encode()
    return status, {"Content-Type": "application/json"}, body


def _json(page: Page) -> Answer:
    return (
        page.status,
        {"Content-Type": "application/json", **page.headers},
        json.dumps(page.body).encode(),
    )


class ApiShim:
    """Play ``product`` in front of a token-auth sandbox registry (loopback only).

    Parameters
    ----------
    sandbox
        A started :class:`~regframe.testing.sandbox.Sandbox` with ``auth="token"``.
    product
        One of :data:`PRODUCTS`.
    github_token
        GHCR: the token GitHub's API accepts (``Authorization: Bearer …``).
    github_owner
        GHCR: whether owners are ``"orgs"`` or ``"users"`` (the other answers 404).

    Attributes
    ----------
    host, url
        The registry face (``127.0.0.1:PORT``): use ``f"{shim.host}/{repo}"`` as reference.
    api_url
        GHCR and ECR Public: the API host's base URL (``$REGFRAME_GITHUB_API`` /
        ``$REGFRAME_ECR_PUBLIC_API``).
    requests, api_requests
        Requests seen by each face.
    fault
        ``None`` or a :data:`~regframe.testing.product_apis.Fault` for the API answers.
    max_page
        Cap on the page size the cursor-paged APIs (ACR, GitLab, GitHub, ECR) grant,
        whatever the client asks (servers may page by less than they document).
    frozen
        ``True`` once nothing more will be pushed: the storage is then read once per
        repository instead of on every request (benchmarks).

    Examples
    --------
    >>> with Sandbox(auth="token") as sb, ApiShim(sb, "harbor") as shim:  # doctest: +SKIP
    ...     sb.pusher.push_image("library/app", ["1.0"], created="2024-01-01T00:00:00Z")
    ...     regframe.read_tags(f"{shim.host}/library/app", dates=True)
    """

    def __init__(
        self,
        sandbox: Sandbox,
        product: str,
        *,
        github_token: str | None = None,
        github_owner: str = "orgs",
    ) -> None:
        if product not in PRODUCTS:
            raise ValueError(f"product must be one of {sorted(PRODUCTS)}, not {product!r}")
        self.sandbox = sandbox
        self.product = product
        self.github_token = github_token
        self.github_owner = github_owner
        self.fault: Fault | None = None
        self.max_page = 1000
        self.frozen = False
        self._frozen_repos: dict[str, StoredRepository] = {}
        self._issued: dict[str, tuple[str, frozenset[str]]] = {}
        self._registry = RecordingHTTPServer("127.0.0.1", _Handler, owner=_Role(self, "registry"))
        self._api = RecordingHTTPServer(API_HOST, _Handler, owner=_Role(self, "api"))
        self._session = requests.Session()
        self._session.trust_env = False

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> ApiShim:
        # Short polls: tests start and stop a shim each, and stop waits one poll.
        self._registry.start_background(f"regframe-shim-{self.product}", poll_interval=0.05)
        self._api.start_background(f"regframe-shim-{self.product}-api", poll_interval=0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._registry.stop()
        self._api.stop()
        self._session.close()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._registry.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def api_url(self) -> str:
        return f"http://{API_HOST}:{self._api.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._registry.requests

    @property
    def api_requests(self) -> list[RecordedRequest]:
        return self._api.requests

    def challenge(self, scope: str | None = None, host: str | None = None) -> str:
        """The ``WWW-Authenticate`` value the product sends to a client that asked ``host``.

        Like the products (which put their external URL there), the realm is on the host
        the client addressed — a proxy in front of the shim included.
        """
        host = host or self.host
        service = {"harbor": "harbor-registry", "acr": host, "gitlab": "container_registry",
                   "ghcr": "ghcr.io", "ecr-public": "public.ecr.aws"}[self.product]  # fmt: skip
        text = f'Bearer realm="http://{host}{PRODUCTS[self.product]}",service="{service}"'
        return text + (f',scope="{scope}"' if scope else "")

    # -- dispatch ---------------------------------------------------------------------------

    def answer(
        self, role: str, handler: _Handler, path: str, query: dict[str, str], body: bytes
    ) -> Answer:
        """Route one request of either face."""
        if role == "api":
            return self._api_answer(handler, path, query, body)
        if path == "/v2" or path.startswith("/v2/"):
            return self._forward(handler, body)
        if path == PRODUCTS[self.product] and handler.command == "GET":
            return self._token(handler, query)
        return self._registry_api(handler, path, query)

    def _forward(self, handler: _Handler, body: bytes) -> Answer:
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "host"}
        upstream = self._session.request(
            handler.command, self.sandbox.url + handler.path, headers=headers, data=body or None,
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        if upstream.status_code == 401:
            out["WWW-Authenticate"] = self.challenge(host=handler.headers.get("Host"))
        if handler.command == "HEAD" and "Content-Length" in upstream.headers:
            out["Content-Length"] = upstream.headers["Content-Length"]
        return upstream.status_code, out, upstream.content

    def _token(self, handler: _Handler, query: dict[str, str]) -> Answer:
        user = self._basic_user(handler)
        if user is False:
            return 401, {"WWW-Authenticate": 'Basic realm="shim"'}, b'{"details":"bad login"}'
        token = ""
        for scope in (query.get("scope") or "").split():
            parsed = parse_scope(scope)
            if parsed is None or parsed[0] != "repository":
                continue
            _kind, name, actions = parsed
            allowed = [a for a in actions if a in ("pull", "metadata_read")]
            if is_private(name, self.sandbox.private) and not user:
                allowed = []
            token = self.sandbox.mint_token(name, allowed or ["none"])
            self._issued[token] = (name, frozenset(allowed))
        if not token:  # ECR Public's "aws" scope and scope-less asks: an anonymous token
            token = secrets.token_urlsafe(24)
            self._issued[token] = ("", frozenset())
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode(),
        )

    def _basic_user(self, handler: _Handler) -> str | bool | None:
        scheme, _, value = (handler.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = self.sandbox.users.get(user)
        return user if expected is not None and hmac.compare_digest(expected, password) else False

    def _granted(self, handler: _Handler, repo: str, action: str) -> bool:
        scheme, _, token = (handler.headers.get("Authorization") or "").partition(" ")
        grant = self._issued.get(token) if scheme.lower() == "bearer" else None
        return grant is not None and grant[0] == repo and action in grant[1]

    def _repository(self, name: str) -> StoredRepository | None:
        if self.frozen and name in self._frozen_repos:
            return self._frozen_repos[name]
        repo = StoredRepository(self.sandbox.storage_root, name, frozen=self.frozen)
        if not repo.exists():
            return None
        if self.frozen:
            self._frozen_repos[name] = repo
        return repo

    # -- the products' APIs -----------------------------------------------------------------

    def _registry_api(self, handler: _Handler, path: str, query: dict[str, str]) -> Answer:
        parts = path.split("/")
        # /api/v2.0/projects/{p}/repositories/{r}/artifacts, r encoded twice
        if (
            self.product == "harbor"
            and parts[:4] == ["", "api", "v2.0", "projects"]
            and (len(parts) == 8 and parts[5] == "repositories" and parts[7] == "artifacts")
        ):
            name = f"{unquote(parts[4])}/{unquote(unquote(parts[6]))}"
            return self._harbor(name, query)
        if self.product == "acr" and path.startswith("/acr/v1/") and path.endswith("/_tags"):
            name = unquote(path[len("/acr/v1/") : -len("/_tags")])
            if not self._granted(handler, name, "metadata_read"):
                return self._unauthorized(handler, f"repository:{name}:metadata_read")
            n = min(int(query.get("n", "100")), self.max_page)
            return self._paged(name, lambda r: acr_page(r, query.get("last"), n, self.fault))
        prefix, suffix = "/gitlab/v1/repositories/", "/tags/list/"
        if self.product == "gitlab" and path.startswith(prefix) and path.endswith(suffix):
            name = path[len(prefix) : -len(suffix)]
            if not self._granted(handler, name, "pull"):
                return self._unauthorized(handler, f"repository:{name}:pull")
            n = min(int(query.get("n", "100")), self.max_page)
            base = f"http://{handler.headers.get('Host') or self.host}"
            return self._paged(
                name, lambda r: gitlab_page(r, base, query.get("last"), n, self.fault)
            )
        return _error(404, "NOT_FOUND")

    def _harbor(self, name: str, query: dict[str, str]) -> Answer:
        if is_private(name, self.sandbox.private):
            return _error(401, "UNAUTHORIZED")
        size = int(query.get("page_size", "10"))
        if size > 100:
            return _error(422, "UNPROCESSABLE_ENTITY")
        page = int(query.get("page", "1"))
        return self._paged(name, lambda r: harbor_page(r, page, size, self.fault))

    def _paged(self, name: str, make: Any) -> Answer:
        repo = self._repository(name)
        if repo is None:
            return _error(404, "NAME_UNKNOWN")
        return _json(make(repo))

    def _unauthorized(self, handler: _Handler, scope: str) -> Answer:
        challenge = self.challenge(scope, host=handler.headers.get("Host"))
        return (
            401,
            {"Content-Type": "application/json", "WWW-Authenticate": challenge},
            (b'{"errors":[{"code":"UNAUTHORIZED"}]}'),
        )

    def _api_answer(
        self, handler: _Handler, path: str, query: dict[str, str], body: bytes
    ) -> Answer:
        if self.product == "ecr-public" and path == "/describeImageTags":
            request = json.loads(body or b"{}")
            request["maxResults"] = min(int(request.get("maxResults") or 100), self.max_page)
            name = f"{request.get('registryAliasName')}/{request.get('repositoryName')}"
            return self._paged(name, lambda r: ecr_page(r, request, self.fault))
        parts = path.split("/")
        # /{orgs|users}/{owner}/packages/container/{package}/versions
        if self.product == "ghcr" and len(parts) == 7 and parts[3:5] == ["packages", "container"]:
            if handler.headers.get("Authorization") != f"Bearer {self.github_token}":
                return (
                    401,
                    {"Content-Type": "application/json"},
                    b'{"message":"Requires authentication"}',
                )
            if parts[1] != self.github_owner or parts[6] != "versions":
                return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'
            name = f"{parts[2]}/{unquote(parts[5])}"
            url = (
                f"http://{handler.headers.get('Host') or self.api_url[7:]}"
                + urlsplit(handler.path).path
            )
            page = int(query.get("page", "1"))
            per_page = min(int(query.get("per_page", "30")), self.max_page)
            return self._paged(name, lambda r: github_page(r, url, page, per_page, self.fault))
        return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'
