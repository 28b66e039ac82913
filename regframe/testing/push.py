"""Push images, indexes and tags to the sandbox registry without docker (test/demo infrastructure).

Part of :mod:`regframe.testing.sandbox`: seeds a loopback CNCF distribution registry
with synthetic images for tests, ``regframe demo`` and the benchmark.  It
speaks the distribution push protocol directly (``POST /v2/NAME/blobs/uploads/``
then ``PUT ?digest=``, then ``PUT /v2/NAME/manifests/REF``) and never goes
through the sandbox token server, so that server's recorded requests only
show what the client under test did.

Everything it builds is deterministic: equal inputs give equal bytes and so
equal digests.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal, TypeVar

import requests
from requests.adapters import HTTPAdapter

from regframe.errors import RegistryError

__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_LAYER",
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_MANIFEST",
    "Pusher",
    "canonical_json",
    "parse_platform",
    "sha256_digest",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"

_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])

Media = Literal["oci", "docker"]
T = TypeVar("T")
#: ``(digest, platform, size)`` or ``(digest, platform, size, media_type)``.
Child = tuple[str, Mapping[str, str], int] | tuple[str, Mapping[str, str], int, str]


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``.

    Example
    -------
    >>> sha256_digest(b"")[:15]
    'sha256:e3b0c442'
    """
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces) so equal inputs give equal digests.

    Example
    -------
    >>> canonical_json({"b": 1, "a": [1, 2]})
    b'{"a":[1,2],"b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_platform(platform: str | Mapping[str, str]) -> dict[str, str]:
    """``"linux/arm64/v8"`` → ``{"os": "linux", "architecture": "arm64", "variant": "v8"}``.

    Example
    -------
    >>> parse_platform("linux/amd64")
    {'os': 'linux', 'architecture': 'amd64'}
    """
    if not isinstance(platform, str):
        return dict(platform)
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"platform must look like os/arch[/variant], got {platform!r}")
    out = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        out["variant"] = parts[2]
    return out


def _created_text(created: str | dt.datetime | None) -> str | None:
    if created is None or isinstance(created, str):
        return created
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    text = created.astimezone(dt.timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def _default_layer(platform: Mapping[str, str]) -> bytes:
    """A tiny gzip'd tar, identical for identical platforms (mtime 0 everywhere)."""
    payload = "/".join(
        platform.get(k, "") for k in ("os", "architecture", "variant")
    ).encode() + b"\n"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("etc/regframe-sandbox")
        info.size = len(payload)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    return gzip.compress(raw.getvalue(), mtime=0)


def _diff_id(layer: bytes) -> str:
    if layer[:2] == b"\x1f\x8b":
        try:
            return sha256_digest(gzip.decompress(layer))
        except (OSError, EOFError):
            pass
    return sha256_digest(layer)


class Pusher:
    """Uploads blobs and manifests to one registry; safe to use from many threads.

    Parameters
    ----------
    base_url
        ``http://127.0.0.1:PORT`` (or https).
    auth_header
        Callable ``repo -> Authorization header value or None``; the sandbox
        gives it a directly minted push token or admin Basic credentials.
    verify
        ``requests`` ``verify`` (the sandbox CA path for TLS).
    workers
        Default thread-pool size for :meth:`run_parallel`.

    Example
    -------
    >>> with Sandbox() as sb:  # doctest: +SKIP
    ...     sb.pusher.push_image("demo/app", ["1.0.0"], created="2024-01-02T03:04:05Z")
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth_header: Callable[[str], str | None] | None = None,
        verify: bool | str = True,
        workers: int = 8,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.workers = workers
        self.timeout = timeout
        self._auth_header = auth_header
        self.session = requests.Session()
        self.session.verify = verify
        self.session.trust_env = False  # proxies from the environment must not see loopback
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(workers, 4) * 2)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._lock = threading.Lock()
        # distribution's filesystem driver rewrites link files in place (truncate, then
        # write), so two concurrent pushes of the same blob or manifest can make a third
        # request read an empty link and answer "blob unknown".  Each (repo, digest) is
        # therefore uploaded once, and writers of one manifest digest are serialised.
        self._blobs: dict[tuple[str, str], Future[str]] = {}
        self._stored: set[tuple[str, str]] = set()
        self._manifest_locks: dict[str, threading.Lock] = {}
        #: digest -> (media_type, size) of every manifest pushed, for building indexes.
        self.manifests: dict[str, tuple[str, int]] = {}

    # -- HTTP -------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        repo: str,
        *,
        expected: Iterable[int],
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        hdrs = dict(headers or {})
        if self._auth_header is not None:
            value = self._auth_header(repo)
            if value:
                hdrs["Authorization"] = value
        if not url.startswith(("http://", "https://")):
            url = self.base_url + url
        try:
            resp = self.session.request(
                method, url, data=data, headers=hdrs, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise RegistryError(f"sandbox push {method} failed: {exc}", url=url) from exc
        if resp.status_code not in set(expected):
            try:
                errors = resp.json().get("errors") or []
            except ValueError:
                errors = []
            raise RegistryError(
                f"sandbox push {method} {url} answered {resp.status_code}: {resp.text[:300]}",
                status_code=resp.status_code,
                url=url,
                errors=errors if isinstance(errors, list) else [],
            )
        return resp

    # -- primitives -------------------------------------------------------------------------

    def push_blob(self, repo: str, data: bytes) -> str:
        """Upload ``data`` as a blob of ``repo`` (POST then PUT ``?digest=``).

        distribution 2.8 ignores ``?digest=`` on the POST (it opens a session
        instead of a monolithic upload), so two requests are the minimum.
        Blobs already pushed to ``repo`` by this pusher are skipped.

        Returns
        -------
        str
            The blob digest.

        Example
        -------
        >>> sb.pusher.push_blob("demo/app", b"hello")  # doctest: +SKIP
        'sha256:2cf24dba...'
        """
        digest = sha256_digest(data)
        key = (repo, digest)
        with self._lock:
            pending = self._blobs.get(key)
            if pending is None:
                mine: Future[str] = Future()
                self._blobs[key] = mine
        if pending is not None:
            return pending.result()
        try:
            self._upload(repo, digest, data)
        except BaseException as exc:
            with self._lock:
                del self._blobs[key]
            mine.set_exception(exc)
            raise
        mine.set_result(digest)
        return digest

    def _upload(self, repo: str, digest: str, data: bytes) -> None:
        start = self._request("POST", f"/v2/{repo}/blobs/uploads/", repo, expected=(202,))
        location = start.headers.get("Location")
        if not location:
            raise RegistryError("upload session without Location", url=start.url)
        sep = "&" if "?" in location else "?"
        self._request(
            "PUT",
            f"{location}{sep}digest={digest}",
            repo,
            expected=(201,),
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def push_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        """PUT a manifest (or index) under ``reference`` (a tag or its digest).

        Example
        -------
        >>> sb.pusher.push_manifest("demo/app", "1.0", body, OCI_MANIFEST)  # doctest: +SKIP
        """
        digest = sha256_digest(body)
        with self._lock:
            lock = self._manifest_locks.setdefault(digest, threading.Lock())
        with lock:
            if reference == digest and (repo, digest) in self._stored:
                return digest
            resp = self._request(
                "PUT",
                f"/v2/{repo}/manifests/{reference}",
                repo,
                expected=(201,),
                data=body,
                headers={"Content-Type": media_type},
            )
            with self._lock:
                self._stored.add((repo, digest))
        echoed = resp.headers.get("Docker-Content-Digest")
        if echoed and echoed != digest:
            raise RegistryError(f"registry stored {echoed}, expected {digest}", url=resp.url)
        with self._lock:
            self.manifests[digest] = (media_type, len(body))
        return digest

    def _put_tags(
        self, repo: str, tags: str | Sequence[str], body: bytes, media_type: str
    ) -> str:
        names = [tags] if isinstance(tags, str) else list(tags)
        digest = sha256_digest(body)
        for ref in names or [digest]:
            self.push_manifest(repo, ref, body, media_type)
        return digest

    def get_manifest(self, repo: str, reference: str) -> tuple[bytes, str]:
        """Fetch a manifest's exact bytes and media type.

        Example
        -------
        >>> body, media_type = sb.pusher.get_manifest("demo/app", "1.0")  # doctest: +SKIP
        """
        resp = self._request(
            "GET",
            f"/v2/{repo}/manifests/{reference}",
            repo,
            expected=(200,),
            headers={"Accept": _ACCEPT},
        )
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        return resp.content, media_type

    def tag(self, repo: str, source: str, new_tags: str | Sequence[str]) -> str:
        """Point ``new_tags`` at the manifest ``source`` (tag or digest) by re-PUTting its bytes.

        Example
        -------
        >>> sb.pusher.tag("demo/app", "1.0.0", ["1.0", "1", "latest"])  # doctest: +SKIP
        """
        body, media_type = self.get_manifest(repo, source)
        return self._put_tags(repo, new_tags, body, media_type)

    # -- images -----------------------------------------------------------------------------

    @staticmethod
    def image_config(
        *,
        created: str | dt.datetime | None,
        architecture: str = "amd64",
        os: str = "linux",
        variant: str | None = None,
        labels: Mapping[str, str] | None = None,
        diff_ids: Sequence[str] = (),
        config_extra: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The image config JSON (``created`` omitted when None), canonical bytes.

        Example
        -------
        >>> Pusher.image_config(created=None, architecture="arm64")[:30]
        b'{"architecture":"arm64","confi'
        """
        config: dict[str, Any] = {
            "architecture": architecture,
            "os": os,
            "config": {"Labels": dict(labels or {})},
            "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        }
        if variant:
            config["variant"] = variant
        text = _created_text(created)
        if text is not None:
            config["created"] = text
        for key, value in (config_extra or {}).items():
            config[key] = value
        return canonical_json(config)

    def push_image(
        self,
        repo: str,
        tags: str | Sequence[str],
        *,
        created: str | dt.datetime | None,
        architecture: str = "amd64",
        os: str = "linux",
        variant: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        layers: Sequence[bytes] | None = None,
        media: Media = "oci",
        config_extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Push config + layers + a single-platform manifest and tag it.

        Parameters
        ----------
        repo
            Repository name, e.g. ``"demo/app"``.
        tags
            Tag or tags to PUT the manifest under; empty pushes by digest only.
        created
            Config ``created`` (datetime → RFC 3339 UTC; str used verbatim; None omits it).
        architecture, os, variant
            The config's platform.
        labels
            ``config.Labels``.
        annotations
            Manifest annotations (OCI only; Docker v2 manifests have none).
        layers
            Layer blobs (gzip'd tars or any bytes); default: one tiny tar per platform.
        media
            ``"oci"`` or ``"docker"`` media types.
        config_extra
            Extra top-level config members (override the built ones).

        Returns
        -------
        str
            The manifest digest.

        Example
        -------
        >>> sb.pusher.push_image(  # doctest: +SKIP
        ...     "demo/app", ["1.0.0", "1.0"], created="2024-05-01T00:00:00Z")
        """
        platform = {"os": os, "architecture": architecture}
        if variant:
            platform["variant"] = variant
        blobs = list(layers) if layers is not None else [_default_layer(platform)]
        config = self.image_config(
            created=created,
            architecture=architecture,
            os=os,
            variant=variant,
            labels=labels,
            diff_ids=[_diff_id(b) for b in blobs],
            config_extra=config_extra,
        )
        layer_type = OCI_LAYER if media == "oci" else DOCKER_LAYER
        config_type = OCI_CONFIG if media == "oci" else DOCKER_CONFIG
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST if media == "oci" else DOCKER_MANIFEST,
            "config": {
                "mediaType": config_type,
                "digest": self.push_blob(repo, config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": layer_type, "digest": self.push_blob(repo, b), "size": len(b)}
                for b in blobs
            ],
        }
        if annotations and media == "oci":
            manifest["annotations"] = dict(annotations)
        return self._put_tags(repo, tags, canonical_json(manifest), manifest["mediaType"])

    def push_attestation(self, repo: str, subject: str) -> tuple[str, int]:
        """Push a BuildKit-style attestation manifest for ``subject``; returns (digest, size).

        The in-toto statement and config blobs are the same for every subject
        (so a repository uploads them once: seeding stays fast); the manifest
        names its subject in an annotation, so each child gets its own
        attestation digest as with BuildKit.

        Example
        -------
        >>> sb.pusher.push_attestation("demo/app", child_digest)  # doctest: +SKIP
        """
        statement = canonical_json(
            {
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": "https://spdx.dev/Document",
                "subject": [{"name": f"pkg:docker/{repo}"}],
                "predicate": {"spdxVersion": "SPDX-2.3", "name": "regframe-sandbox"},
            }
        )
        config = canonical_json(
            {
                "architecture": "unknown",
                "os": "unknown",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [sha256_digest(statement)]},
            }
        )
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": self.push_blob(repo, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": IN_TOTO,
                    "digest": self.push_blob(repo, statement),
                    "size": len(statement),
                    "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"},
                }
            ],
            "annotations": {
                "vnd.docker.reference.digest": subject,
                "vnd.docker.reference.type": "attestation-manifest",
            },
        }
        body = canonical_json(manifest)
        return self.push_manifest(repo, sha256_digest(body), body, OCI_MANIFEST), len(body)

    def push_index(
        self,
        repo: str,
        tags: str | Sequence[str],
        children: Sequence[Child],
        *,
        attestations: bool = True,
        media: Media = "oci",
        annotations: Mapping[str, str] | None = None,
    ) -> str:
        """Push an image index / manifest list over already pushed ``children``.

        Parameters
        ----------
        children
            ``(digest, platform_dict, size)`` tuples, optionally with a fourth
            media type (otherwise taken from what this pusher pushed, else the
            ``media`` default).
        attestations
            Add one BuildKit attestation entry per child: platform
            ``unknown/unknown``, annotations ``vnd.docker.reference.type:
            attestation-manifest`` and ``vnd.docker.reference.digest``.
        annotations
            Index annotations (OCI only).

        Returns
        -------
        str
            The index digest.

        Example
        -------
        >>> d = sb.pusher.push_image(  # doctest: +SKIP
        ...     "demo/app", [], created=None, architecture="arm64")
        >>> arm = {"os": "linux", "architecture": "arm64"}
        >>> size = sb.pusher.manifests[d][1]  # doctest: +SKIP
        >>> sb.pusher.push_index("demo/app", "1.0", [(d, arm, size)])  # doctest: +SKIP
        """
        default_child = OCI_MANIFEST if media == "oci" else DOCKER_MANIFEST
        entries: list[dict[str, Any]] = []
        for child in children:
            digest, platform, size = child[0], child[1], child[2]
            known = self.manifests.get(digest)
            child_type = child[3] if len(child) == 4 else (known[0] if known else default_child)
            entries.append(
                {
                    "mediaType": child_type,
                    "digest": digest,
                    "size": size,
                    "platform": dict(platform),
                }
            )
        if attestations:
            for child in children:
                att_digest, att_size = self.push_attestation(repo, child[0])
                entries.append(
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": att_digest,
                        "size": att_size,
                        "platform": {"architecture": "unknown", "os": "unknown"},
                        "annotations": {
                            "vnd.docker.reference.digest": child[0],
                            "vnd.docker.reference.type": "attestation-manifest",
                        },
                    }
                )
        index: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX if media == "oci" else DOCKER_LIST,
            "manifests": entries,
        }
        if annotations and media == "oci":
            index["annotations"] = dict(annotations)
        return self._put_tags(repo, tags, canonical_json(index), index["mediaType"])

    def push_multiarch(
        self,
        repo: str,
        tags: str | Sequence[str],
        *,
        created: str | dt.datetime | None,
        platforms: Sequence[str | Mapping[str, str]] = ("linux/amd64", "linux/arm64/v8"),
        attestations: bool = True,
        media: Media = "oci",
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        index_annotations: Mapping[str, str] | None = None,
        config_extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Push one image per platform (same ``created``) and an index over them.

        Returns
        -------
        str
            The index digest.

        Example
        -------
        >>> sb.pusher.push_multiarch(  # doctest: +SKIP
        ...     "demo/app", ["2.0.0", "latest"], created="2024-06-01T00:00:00Z")
        """
        children: list[Child] = []
        for spec in platforms:
            plat = parse_platform(spec)
            digest = self.push_image(
                repo,
                [],
                created=created,
                architecture=plat["architecture"],
                os=plat["os"],
                variant=plat.get("variant"),
                labels=labels,
                annotations=annotations,
                media=media,
                config_extra=config_extra,
            )
            media_type, size = self.manifests[digest]
            children.append((digest, plat, size, media_type))
        return self.push_index(
            repo,
            tags,
            children,
            attestations=attestations,
            media=media,
            annotations=index_annotations,
        )

    # -- concurrency ------------------------------------------------------------------------

    def run_parallel(
        self, calls: Iterable[Callable[[], T]], *, workers: int | None = None
    ) -> list[T]:
        """Run zero-argument callables on a thread pool; results in input order.

        The first exception is re-raised after the pool drains.

        Example
        -------
        >>> sb.pusher.run_parallel(  # doctest: +SKIP
        ...     [lambda i=i: sb.pusher.push_image("r", f"1.{i}", created=None) for i in range(9)])
        """
        with ThreadPoolExecutor(max_workers=workers or self.workers) as pool:
            futures = [pool.submit(call) for call in calls]
            return [f.result() for f in futures]

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

