"""SCRIPTED stand-ins for the tag APIs beside Harbor, ECR Public, GHCR, ACR and GitLab.

None of these services is reachable here.  Each ``serve_*`` function below scripts one
API on a :class:`~tests.scripted.ScriptedServer` in the shape the product documents and —
where one could be found — the shape of a real answer recorded in a public repository
(``tests/data/apis/``, origins in ``tests/data/README.md``):

* Harbor: ``api/v2.0/swagger.yaml`` of goharbor/harbor (``listArtifacts``: ``X-Total-Count``,
  ``Link``, ``page_size`` ≤ 100) and the artifact body of goharbor/harbor's
  ``src/controller/artifact/model_test.go`` (captured from a Harbor instance); challenge
  from ``src/server/middleware/v2auth/auth.go`` (``realm=…/service/token``,
  ``service="harbor-registry"``).
* ECR Public: the documented ``DescribeImageTags`` response, the real body in
  NASA-IMPACT/veda-jh-environments ``docs/2i2c_singleuser_image.md``; challenge
  ``realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"`` as quoted by
  several clients' tests.
* GHCR: GitHub's REST packages API (``per_page``, ``Link`` ``next``/``last``) and the real
  version list in shaneapowell/ghaction-package-admin's README; challenge
  ``realm="https://ghcr.io/token",service="ghcr.io"``.
* ACR: Azure/azure-rest-api-specs ``GetTagList`` examples and the recorded traffic of
  Azure/azure-sdk-for-js ``recording_should_list_tags_by_pages.json`` (challenge, relative
  ``Link`` with ``orderby=``, ``metadata_read`` scope); ``n`` capped at 1,000 (Azure/acr#749).
* GitLab: gitlab-org/container-registry ``docs/spec/gitlab/api.md`` (``n`` ≤ 1,000, ``last``,
  absolute ``Link``), whose example body is the only one available; challenge realm
  ``…/jwt/auth``, service ``container_registry``.

A passing test proves regframe's behaviour against these scripts, not against the services.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pandas as pd

from regframe.client.credentials import Credentials
from regframe.client.platforms import parse_platform
from regframe.client.registry import RegistryClient
from regframe.client.tag_apis import ApiListing, fetch_registry_listing
from regframe.client.transport import Transport
from regframe.parsing.reference import parse_reference
from tests.scripted import Request, Response, ScriptedServer, json_response, registry_error

__all__ = [
    "ECR_CHALLENGE",
    "GHCR_CHALLENGE",
    "acr_tags",
    "dg",
    "ecr_details",
    "ghcr_versions",
    "gitlab_tags",
    "harbor_artifacts",
    "listing_of",
    "load",
    "ns",
    "serve_acr",
    "serve_ecr_gallery",
    "serve_ghcr_api",
    "serve_gitlab",
    "serve_harbor",
    "serve_ping",
]

DATA = Path(__file__).parent / "data" / "apis"
ECR_CHALLENGE = 'Bearer realm="{url}/token/",service="public.ecr.aws",scope="aws"'
GHCR_CHALLENGE = 'Bearer realm="{url}/token",service="ghcr.io",scope="repository:{repo}:pull"'


def load(name: str) -> Any:
    """A recorded body from ``tests/data/apis``."""
    return json.loads((DATA / name).read_text())


def ns(text: str) -> int:
    """A time as the integer nanoseconds (UTC) :class:`TagMetadata` carries."""
    return int(pd.Timestamp(text).tz_convert("UTC").value)


def listing_of(
    server: ScriptedServer,
    repo: str,
    platform: str | None = "linux/amd64",
    *,
    auth: Credentials | None = None,
) -> ApiListing | None:
    """Ping ``server`` for ``repo`` as ``read_tags`` does, then ask the registry-hosted API."""
    ref = parse_reference(f"{server.host}/{repo}")
    client = RegistryClient.open(ref, Transport(timeout=5), auth=auth)
    try:
        return fetch_registry_listing(client, platform=parse_platform(platform), credentials=auth)
    finally:
        client.close()


def dg(n: object) -> str:
    """A well-formed sha256 digest, distinct per ``n``."""
    return "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()


def serve_ping(server: ScriptedServer, challenge: str, token_path: str) -> None:
    """``GET /v2/`` answers 401 with ``challenge``; ``token_path`` hands out tokens.

    Tokens are ``"tok-<scope>"`` so a test can see which scope a request carried.
    """

    def ping(request: Request) -> Response:
        return registry_error(401, "UNAUTHORIZED", "authentication required",
                              headers={"WWW-Authenticate": challenge.format(url=server.url)})  # fmt: skip

    def token(request: Request) -> Response:
        scope = request.query.get("scope", "")
        return json_response({"token": f"tok-{scope}", "access_token": f"tok-{scope}"})

    server.route("GET", r"/v2/", ping)
    server.route("GET", token_path, token)


# --------------------------------------------------------------------------------- Harbor


def harbor_artifacts(n: int, *, tags_per: int = 1) -> list[dict[str, Any]]:
    """``n`` artifacts shaped like the recorded redis artifact, ``tags_per`` tags each."""
    template = load("harbor_artifacts_redis.json")[0]
    out = []
    for i in range(n):
        art = copy.deepcopy(template)
        art["id"] = i + 1
        art["digest"] = dg(f"harbor-{i}")
        art["tags"] = [
            dict(template["tags"][0], id=i * 10 + k, name=f"1.{i}.{k}",
                 push_time=f"2022-01-{1 + i % 28:02d}T09:18:{k:02d}.303Z")
            for k in range(tags_per)
        ]  # fmt: skip
        out.append(art)
    return out


def serve_harbor(server: ScriptedServer, repository: str, artifacts: list[Any],
                 *, total: int | None = None) -> None:  # fmt: skip
    """Harbor's registry challenge, token service and ``listArtifacts`` for ``repository``.

    ``total`` overrides ``X-Total-Count`` (a count that disagrees with the pages).
    """
    serve_ping(server, 'Bearer realm="{url}/service/token",service="harbor-registry"',
               r"/service/token")  # fmt: skip
    project, _, repo = repository.partition("/")
    path = f"/api/v2.0/projects/{project}/repositories/{quote(quote(repo, safe=''), safe='')}/artifacts"

    def listing(request: Request) -> Response:
        size = int(request.query.get("page_size", "10"))
        if size > 100:
            return json_response({"errors": [{"code": "UNPROCESSABLE_ENTITY"}]}, status=422)
        page = int(request.query.get("page", "1"))
        chunk = artifacts[(page - 1) * size : page * size]
        count = len(artifacts) if total is None else total
        headers = {"X-Total-Count": str(count)}
        if page * size < count:
            headers["Link"] = f'<{path}?page={page + 1}&page_size={size}>; rel="next"'
        return json_response(chunk, headers)

    # The server sees the path once decoded by its own HTTP layer: match the raw form too.
    server.route("GET", _path_regex(path), listing)


def _path_regex(path: str) -> str:
    import re

    return "(?:" + re.escape(path) + "|" + re.escape(unquote(path)) + ")"


# ----------------------------------------------------------------------------- ECR Public


def ecr_details(n: int) -> list[dict[str, Any]]:
    """``n`` tag details shaped like the recorded NASA VEDA ones (ISO times, offsets kept)."""
    template = load("ecr_public_nasa_veda_singleuser.json")["imageTagDetails"][0]
    out = []
    for i in range(n):
        entry = copy.deepcopy(template)
        entry["imageTag"] = f"2023.{i // 100}.{i % 100}"
        entry["createdAt"] = f"2023-08-14T09:{i % 60:02d}:23.753000-07:00"
        entry["imageDetail"]["imageDigest"] = dg(f"ecr-{i}")
        entry["imageDetail"]["imagePushedAt"] = f"2023-08-14T09:{i % 60:02d}:22.678000-07:00"
        out.append(entry)
    return out


def serve_ecr_gallery(server: ScriptedServer, repository: str, details: list[Any],
                      *, token_repeats: bool = False) -> None:  # fmt: skip
    """``POST /describeImageTags`` for ``alias/name``: ``maxResults`` ≤ 1000, ``nextToken``.

    ``token_repeats`` hands out the same ``nextToken`` forever (a cursor that repeats).
    """
    alias, _, name = repository.partition("/")

    def describe(request: Request) -> Response:
        body = request.json()
        if (body.get("registryAliasName"), body.get("repositoryName")) != (alias, name):
            return json_response({"__type": "RepositoryNotFoundException"}, status=400)
        size = int(body.get("maxResults", 100))
        if not 1 <= size <= 1000:
            return json_response({"__type": "InvalidParameterException"}, status=400)
        token = body.get("nextToken")
        start = int(base64.b64decode(token)) if token else 0
        answer: dict[str, Any] = {"imageTagDetails": details[start : start + size]}
        if start + size < len(details):
            following = size if token_repeats else start + size
            answer["nextToken"] = base64.b64encode(str(following).encode()).decode()
        return json_response(answer)

    server.route("POST", r"/describeImageTags", describe)


# ------------------------------------------------------------------------------------ GHCR


def ghcr_versions(n: int, *, untagged: int = 0) -> list[dict[str, Any]]:
    """``n`` tagged and ``untagged`` untagged versions shaped like the recorded pysim list."""
    template = load("ghcr_versions_airstriptech_pysim.json")[0]
    out = []
    for i in range(n + untagged):
        version = copy.deepcopy(template)
        version["id"] = 200_000_000 - i
        version["name"] = dg(f"ghcr-{i}")
        version["created_at"] = version["updated_at"] = f"2024-03-{1 + i % 28:02d}T01:36:20Z"
        version["metadata"]["container"]["tags"] = [f"DEVELOP-{i}"] if i < n else []
        out.append(version)
    return out


def serve_ghcr_api(server: ScriptedServer, owner: str, package: str, versions: list[Any],
                   *, token: str, kind: str = "orgs", link_loop: bool = False,
                   link_host: str | None = None) -> None:  # fmt: skip
    """GitHub's ``/{orgs|users}/{owner}/packages/container/{package}/versions``.

    Only ``Authorization: Bearer <token>`` is accepted (401 otherwise, as GitHub answers
    without ``read:packages``); the other owner kind answers 404.  ``link_loop`` makes
    the next link of every page after the first point at that page itself; ``link_host``
    puts the links on another host.
    """
    path = f"/{kind}/{owner}/packages/container/{quote(package, safe='')}/versions"

    def listing(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return json_response({"message": "Requires authentication"}, status=401)
        per_page = min(int(request.query.get("per_page", "30")), 100)
        page = int(request.query.get("page", "1"))
        last = max(1, -(-len(versions) // per_page))
        links = []
        if page < last:
            nxt = page if link_loop and page > 1 else page + 1
            host = link_host or server.url
            links.append(f'<{host}{path}?per_page={per_page}&page={nxt}>; rel="next"')
            links.append(f'<{host}{path}?per_page={per_page}&page={last}>; rel="last"')
        headers = {"Link": ", ".join(links)} if links else {}
        return json_response(versions[(page - 1) * per_page : page * per_page], headers)

    def missing(request: Request) -> Response:
        return json_response({"message": "Not Found"}, status=404)

    server.route("GET", r"/(orgs|users)/.*", missing)
    server.route("GET", _path_regex(path), listing)


# ------------------------------------------------------------------------------------- ACR


def acr_tags(n: int) -> list[dict[str, Any]]:
    """``n`` tags shaped like the recorded hello-world page (names sort like ``n`` order)."""
    template = load("acr_tags_hello_world.json")["pages"][0]["body"]["tags"][0]
    return [
        dict(copy.deepcopy(template), name=f"v{i:05d}", digest=dg(f"acr-{i}"),
             createdTime=f"2021-06-{1 + i % 28:02d}T17:44:40.8107647Z",
             lastUpdateTime=f"2021-07-{1 + i % 28:02d}T17:44:40.8107647Z")
        for i in range(n)
    ]  # fmt: skip


def serve_acr(server: ScriptedServer, repository: str, tags: list[Any],
              *, link_loop: bool = False, max_n: int = 1000,
              image_name: str | None = None) -> None:  # fmt: skip
    """ACR's challenge (realm ``/oauth2/token`` on the registry, service = its host) and
    ``/acr/v1/{repo}/_tags`` with ``last``/``n`` (at most ``max_n``) and a relative
    ``Link``; the API wants a token scoped ``metadata_read`` and answers 401 with that
    scope otherwise.  ``image_name`` makes the answer name another repository."""
    serve_ping(server, 'Bearer realm="{url}/oauth2/token",service="' + server.host + '"',
               r"/oauth2/token")  # fmt: skip
    path = f"/acr/v1/{quote(repository, safe='')}/_tags"
    scope = f"repository:{repository}:metadata_read"

    def listing(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer tok-{scope}":
            challenge = (f'Bearer realm="{server.url}/oauth2/token",service="{server.host}",'
                         f'scope="{scope}"')  # fmt: skip
            return registry_error(401, "UNAUTHORIZED", "authentication required",
                                  headers={"WWW-Authenticate": challenge})  # fmt: skip
        n = min(int(request.query.get("n", "100")), max_n)
        last = request.query.get("last")
        rest = [t for t in tags if last is None or t["name"] > last]
        headers = {}
        if len(rest) > n:
            # A loop hands a page's own cursor back.
            cursor = last if link_loop and last else rest[n - 1]["name"]
            query = urlencode({"last": cursor, "n": n, "orderby": ""})
            headers["Link"] = f'<{path}?{query}>; rel="next"'
        body = {"registry": server.host, "imageName": image_name or repository, "tags": rest[:n]}
        return json_response(body, headers)

    server.route("GET", _path_regex(path), listing)


# ---------------------------------------------------------------------------------- GitLab


def gitlab_tags(n: int) -> list[dict[str, Any]]:
    """``n`` tags shaped like the spec's example (names sort like ``n`` order)."""
    template = load("gitlab_tags_spec_example.json")[1]
    return [
        dict(copy.deepcopy(template), name=f"v{i:05d}", digest=dg(f"gitlab-{i}"),
             created_at=f"2022-06-{1 + i % 28:02d}T12:11:13.633Z",
             updated_at=f"2022-07-{1 + i % 28:02d}T14:37:49.251Z",
             published_at=f"2022-07-{1 + i % 28:02d}T14:37:49.251Z")
        for i in range(n)
    ]  # fmt: skip


def serve_gitlab(server: ScriptedServer, repository: str, tags: Sequence[Any],
                 *, link_loop: bool = False) -> None:  # fmt: skip
    """GitLab's challenge (realm ``…/jwt/auth``, service ``container_registry``) and
    ``/gitlab/v1/repositories/{path}/tags/list/``: ``n`` 1–1000 (400 otherwise), ``last``,
    absolute ``Link``; a ``pull`` token is required."""
    serve_ping(server, 'Bearer realm="{url}/jwt/auth",service="container_registry"',
               r"/jwt/auth")  # fmt: skip
    path = f"/gitlab/v1/repositories/{repository}/tags/list/"

    def listing(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer tok-repository:{repository}:pull":
            return registry_error(401, "UNAUTHORIZED", "authentication required")
        n = int(request.query.get("n", "100"))
        if not 1 <= n <= 1000:
            return registry_error(400, "INVALID_QUERY_PARAMETER_VALUE", "n out of range")
        last = request.query.get("last")
        rest = [t for t in tags if last is None or t["name"] > last]
        headers = {}
        if len(rest) > n:
            cursor = last if link_loop and last else rest[n - 1]["name"]
            headers["Link"] = (
                f'<{server.url}{path}?{urlencode({"n": n, "last": cursor})}>; rel="next"'
            )
        return json_response(list(rest[:n]), headers)

    server.route("GET", _path_regex(path), listing)
