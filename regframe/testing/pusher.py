"""Upload blobs, manifests and indexes to a registry over the distribution push protocol.

:class:`Pusher` seeds a loopback CNCF distribution registry for tests, ``regframe demo`` and
the benchmark without docker: ``POST /v2/NAME/blobs/uploads/``, ``PUT ?digest=``, then
``PUT /v2/NAME/manifests/REF``.  The documents themselves come from
:mod:`regframe.testing.documents`.  It never goes through the sandbox token server (the sandbox
hands it a directly minted token), so that server's recorded requests only show what the
client under test did.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from regframe.errors import RegistryError
from regframe.testing.documents import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    AttestationDocuments,
    ImageDocuments,
    Media,
    PlatformSpec,
    attestation_documents,
    image_documents,
    index_document,
    platform_json,
    sha256_digest,
)

__all__ = ["Child", "Pusher"]

_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])

T = TypeVar("T")
#: ``(digest, platform, size)`` or ``(digest, platform, size, media_type)``.
Child = tuple[str, Mapping[str, str], int] | tuple[str, Mapping[str, str], int, str]


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

    Examples
    --------
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

        Examples
        --------
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

        Examples
        --------
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

        Examples
        --------
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

        Examples
        --------
        >>> sb.pusher.tag("demo/app", "1.0.0", ["1.0", "1", "latest"])  # doctest: +SKIP
        """
        body, media_type = self.get_manifest(repo, source)
        return self._put_tags(repo, new_tags, body, media_type)

    # -- images -----------------------------------------------------------------------------

    def push_documents(
        self, repo: str, tags: str | Sequence[str], doc: ImageDocuments | AttestationDocuments
    ) -> str:
        """Upload ``doc``'s blobs, then its manifest under ``tags`` (by digest when empty).

        Examples
        --------
        >>> doc = image_documents(created="2024-05-01T00:00:00Z")
        >>> sb.pusher.push_documents("demo/app", "1.0", doc) == doc.digest  # doctest: +SKIP
        True
        """
        for blob in doc.blobs:
            self.push_blob(repo, blob)
        return self._put_tags(repo, tags, doc.manifest, doc.media_type)

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
        created, labels, annotations, layers, media, config_extra
            As in :func:`~regframe.testing.documents.image_documents`.
        architecture, os, variant
            The image's platform.

        Returns
        -------
        str
            The manifest digest.

        Examples
        --------
        >>> sb.pusher.push_image(  # doctest: +SKIP
        ...     "demo/app", ["1.0.0", "1.0"], created="2024-05-01T00:00:00Z")
        """
        platform = {"os": os, "architecture": architecture}
        if variant:
            platform["variant"] = variant
        doc = image_documents(
            created=created,
            platform=platform,
            labels=labels,
            annotations=annotations,
            layers=layers,
            media=media,
            config_extra=config_extra,
        )
        return self.push_documents(repo, tags, doc)

    def push_attestation(self, repo: str, subject: str) -> tuple[str, int]:
        """Push a BuildKit-style attestation manifest for ``subject``; returns (digest, size).

        See :func:`~regframe.testing.documents.attestation_documents`.

        Examples
        --------
        >>> sb.pusher.push_attestation("demo/app", child_digest)  # doctest: +SKIP
        """
        doc = attestation_documents(repo, subject)
        return self.push_documents(repo, [], doc), len(doc.manifest)

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

        Examples
        --------
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
                att = attestation_documents(repo, child[0])
                self.push_documents(repo, [], att)
                entries.append(att.index_entry())
        body, media_type = index_document(entries, media=media, annotations=annotations)
        return self._put_tags(repo, tags, body, media_type)

    def push_multiarch(
        self,
        repo: str,
        tags: str | Sequence[str],
        *,
        created: str | dt.datetime | None,
        platforms: Sequence[PlatformSpec] = ("linux/amd64", "linux/arm64/v8"),
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

        Examples
        --------
        >>> sb.pusher.push_multiarch(  # doctest: +SKIP
        ...     "demo/app", ["2.0.0", "latest"], created="2024-06-01T00:00:00Z")
        """
        children: list[Child] = []
        for spec in platforms:
            plat = platform_json(spec)
            doc = image_documents(
                created=created,
                platform=plat,
                labels=labels,
                annotations=annotations,
                media=media,
                config_extra=config_extra,
            )
            digest = self.push_documents(repo, [], doc)
            children.append((digest, plat, len(doc.manifest), doc.media_type))
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

        Examples
        --------
        >>> sb.pusher.run_parallel(  # doctest: +SKIP
        ...     [lambda i=i: sb.pusher.push_image("r", f"1.{i}", created=None) for i in range(9)])
        """
        with ThreadPoolExecutor(max_workers=workers or self.workers) as pool:
            futures = [pool.submit(call) for call in calls]
            return [f.result() for f in futures]

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

