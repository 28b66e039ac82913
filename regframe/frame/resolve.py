"""``dates=True``: resolve every tag to its manifest chain and read build dates, concurrently.

:class:`Resolver` organises the work in phases so the thread pool stays full and each unique
digest is fetched once however many tags share it:

1. *tags* — one request per tag: ``GET`` the manifest by tag (its body is the first link of
   the chain, and its sha256 is the digest) or, when the tag's previous digest is known and
   its facts are cached, a ``HEAD`` that only confirms the digest.  On Docker Hub always
   ``HEAD`` (a ``GET`` counts against the pull limit) and fetch the body by digest.
2. *top manifests* — for each unique digest, its manifest; for an index, the chosen
   platform's image manifest.
3. *configs* — for each unique image manifest, its config blob.

Everything addressed by digest is verified and kept in the
:class:`~regframe.client.cache.DigestCache`; the facts derived for a digest and platform are
cached too, so a warm run costs one ``HEAD`` per tag and nothing else.  A failure fills that
tag's ``error`` and never loses the frame.  Tags a registry's own tag API already described
(:mod:`regframe.client.tag_apis`) arrive as ``prefetched`` :class:`TagMetadata` and are not
requested again.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

import pandas as pd

from regframe.client.cache import DigestCache, facts_key
from regframe.client.digests import (
    compute_digest,
    is_digest,
    validate_digest,
    verify_digest,
    verify_manifest_digest,
)
from regframe.client.jobs import JobRunner
from regframe.client.manifests import (
    ACCEPT_MANIFESTS,
    DOCKER_SCHEMA1_SIGNED,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    ImageManifest,
    Index,
    Schema1,
    created_from,
    image_size,
    parse_config,
    parse_manifest,
)
from regframe.client.platforms import (
    has_attestation,
    index_platforms,
    parse_platform,
    select_child,
)
from regframe.client.progress import Progress, ProgressOption
from regframe.client.registry import RegistryClient
from regframe.client.tag_metadata import TagMetadata
from regframe.errors import (
    AuthenticationError,
    MetadataWarning,
    NotFoundError,
    RateLimitError,
    RegframeError,
    ResponseTooLarge,
)
from regframe.frame.columns import assemble_metadata
from regframe.parsing.reference import validate_tag
from regframe.parsing.timestamps import rfc3339_ns

__all__ = [
    "LABEL_KEYS",
    "ListedPush",
    "Resolver",
    "add_metadata",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedPush:
    """A push time a tag listing gave for the digest a tag pointed at when it was listed.

    Examples
    --------
    >>> ListedPush("sha256:" + "c" * 64, 1583475321879000000, "gcr").source
    'gcr'
    """

    digest: str
    pushed_ns: int
    source: str


#: ``labels=True`` columns and the OCI key each one reads.
LABEL_KEYS = {
    "revision": "org.opencontainers.image.revision",
    "source": "org.opencontainers.image.source",
    "image_version": "org.opencontainers.image.version",
}


@dataclass
class _TagLookup:
    """Phase 1's answer for one tag: its digest (or why there is none)."""

    digest: str | None = None
    media_type: str | None = None
    error: str | None = None
    exc: RegframeError | None = None


@dataclass
class _DigestWalk:
    """One top-level manifest digest followed down to its image's config."""

    digest: str
    facts: TagMetadata = field(default_factory=TagMetadata)
    manifest: ImageManifest | None = None
    index_annotations: dict[str, str] = field(default_factory=dict)
    done: bool = False


def _oci_values(
    labels: dict[str, str], manifest: dict[str, str], index: dict[str, str]
) -> dict[str, str | None]:
    """``revision``/``source``/``image_version``: config label, else manifest, else index."""
    out: dict[str, str | None] = {}
    for column, key in LABEL_KEYS.items():
        value = next((w[key] for w in (labels, manifest, index) if w.get(key)), None)
        out[column] = value
    return out


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ResponseTooLarge):
        return f"manifest or config too large ({exc})"
    if isinstance(exc, NotFoundError):
        return f"not found: {exc}"
    return str(exc) or type(exc).__name__


class Resolver:
    """Resolves tags of one repository to :class:`TagMetadata` through their manifest chains.

    One instance serves one :func:`add_metadata` call: it holds the bodies fetched so far
    (so a manifest shared by many tags is read once), the per-tag lookups and the per-digest
    walks.  Its job methods run on a thread pool and never raise for a registry's answer:
    a failure lands in that tag's or digest's ``error``.

    Parameters
    ----------
    client
        An open client for the repository.
    platform
        The platform to describe, e.g. ``"linux/amd64"``; ``None`` for an index's first image.
    store
        The digest cache (possibly disabled).
    labels
        Also read each image's config labels and the OCI revision/source/version.

    Examples
    --------
    >>> from regframe.client.cache import DigestCache
    >>> store = DigestCache.from_option(False)
    >>> resolver = Resolver(client, platform="linux/arm64", store=store)  # doctest: +SKIP
    >>> resolver.resolve(["1.0", "latest"], max_workers=8, progress=False)  # doctest: +SKIP
    >>> resolver.metadata_for("latest").created_ns  # doctest: +SKIP
    """

    def __init__(
        self,
        client: RegistryClient,
        *,
        platform: str | None,
        store: DigestCache,
        labels: bool = False,
    ) -> None:
        self.client = client
        self.labels = labels
        self.store = store
        self.want = parse_platform(platform)
        self.platform_key = str(self.want) if self.want is not None else None
        self.prefer_head = client.reference.is_docker_hub
        self.lookups: dict[str, _TagLookup] = {}
        self.walks: dict[str, _DigestWalk] = {}
        self._hints_key = f"tags|{client.base_url}|{client.reference.repository}"
        self._hints: dict[str, str] = {}
        if store.enabled:
            loaded = store.facts_get(self._hints_key) or {}
            self._hints = {k: v for k, v in loaded.items() if isinstance(v, str) and is_digest(v)}
        self._bodies: dict[str, bytes] = {}
        # The Content-Type each manifest came with: parse_manifest checks it against mediaType.
        self._content_types: dict[str, str] = {}
        self._lock = threading.Lock()
        # A warm run asks about each digest once per tag sharing it: read each facts file
        # once (a miss is remembered too; writes happen after the run).
        self._facts_seen: dict[str, TagMetadata | None] = {}

    # -- the phases --------------------------------------------------------

    def resolve(
        self, tags: Sequence[str], *, max_workers: int, progress: ProgressOption | Progress
    ) -> None:
        """Run the three phases for *tags* on up to *max_workers* threads.

        An interrupt (Ctrl-C, a kernel interrupt) cancels the requests still queued and
        re-raises once those in flight are answered; nothing is written to the cache then
        but verified documents.
        """
        self._run(tags, [], max_workers=max_workers, progress=progress)

    def walk_digests(
        self, digests: Sequence[str], *, max_workers: int, progress: ProgressOption | Progress
    ) -> None:
        """Phases 2 and 3 only, for digests known without asking per tag (a tag API's)."""
        self._run([], digests, max_workers=max_workers, progress=progress)

    def walk_for(self, digest: str) -> TagMetadata | None:
        """The facts a :meth:`walk_digests` walk found for *digest*."""
        walk = self.walks.get(digest)
        return walk.facts if walk is not None else None

    def _run(
        self,
        tags: Sequence[str],
        digests: Sequence[str],
        *,
        max_workers: int,
        progress: ProgressOption | Progress,
    ) -> None:
        runner = JobRunner(
            max_workers,
            progress=Progress.of(progress),
            cancel=self.client.transport.cancelled,
        )
        runner.run(tags, self.lookup_tag)
        # Which digests still need work?  (Cached facts finish a walk at once.)
        found = [self.lookups[tag].digest for tag in tags]
        for digest in [*found, *digests]:
            if digest is None or digest in self.walks:
                continue
            walk = _DigestWalk(digest)
            known = self.cached_facts(digest)
            if known is not None:
                walk.facts, walk.done = known, True
            self.walks[digest] = walk
        pending = [w for w in self.walks.values() if not w.done]
        log.debug("%d tags, %d digests, %d not in the facts cache", len(tags),
                  len(self.walks), len(pending))  # fmt: skip
        runner.run(pending, self.read_top_manifest)
        runner.run([w for w in pending if not w.done], self.read_config)
        # Cache files on a few threads: their system calls release the GIL and overlap,
        # where one after another on this thread they were a large part of a cold read.
        writer = JobRunner(8, cancel=self.client.transport.cancelled)
        writer.run([w for w in pending if w.facts.error is None], self._save_facts)
        if self.store.enabled:
            fresh = {t: r.digest for t, r in self.lookups.items() if r.digest is not None}
            if fresh:
                self.store.facts_put(self._hints_key, {**self._hints, **fresh})

    def _save_facts(self, walk: _DigestWalk) -> None:
        self.store.facts_put(facts_key(walk.digest, self.platform_key), walk.facts.to_json())

    def metadata_for(self, tag: str) -> TagMetadata:
        """The resolved facts of *tag* (after :meth:`resolve`)."""
        lookup = self.lookups[tag]
        if lookup.digest is None:
            return TagMetadata(media_type=lookup.media_type, error=lookup.error)
        facts = self.walks[lookup.digest].facts
        return replace(
            facts, digest=lookup.digest, media_type=facts.media_type or lookup.media_type
        )

    def lookup_tag(self, tag: str) -> None:
        """Phase 1: find *tag*'s digest, with a ``HEAD`` when that is enough."""
        res = _TagLookup()
        self.lookups[tag] = res
        try:
            validate_tag(tag)
        except RegframeError as exc:
            res.error = f"invalid tag name: {exc}"
            return
        client = self.client
        url = f"{client.repo_url}/manifests/{quote(tag, safe='')}"
        try:
            hint = self._hints.get(tag)
            use_head = self.prefer_head or (
                hint is not None and self.cached_facts(hint) is not None
            )
            if use_head:
                reply = client.request("HEAD", url, accept=ACCEPT_MANIFESTS)
                if reply.status == 405 or (
                    200 <= reply.status < 300 and not reply.headers.get("Docker-Content-Digest")
                ):
                    use_head = False  # HEAD unsupported or silent: the body will tell
                else:
                    client.raise_for_status(reply, f"tag {tag}")
                    res.digest = validate_digest(
                        reply.headers["Docker-Content-Digest"].strip(), what="Docker-Content-Digest"
                    )
                    res.media_type = reply.content_type or None
                    return
            reply = client.request("GET", url, accept=ACCEPT_MANIFESTS, limit=MAX_MANIFEST_BYTES)
            client.raise_for_status(reply, f"tag {tag}")
            header = reply.headers.get("Docker-Content-Digest", "").strip()
            if header:
                validate_digest(header, what="Docker-Content-Digest")
                verify_manifest_digest(reply.body, header)
                digest = header
            else:
                digest = compute_digest(reply.body)
            res.digest = digest
            res.media_type = reply.content_type or None
            self._remember(digest, reply.body, reply.content_type)
        except RegframeError as exc:
            res.error = _describe(exc)
            res.exc = exc

    def read_top_manifest(self, walk: _DigestWalk) -> None:
        """Phase 2: parse the top manifest (and for an index, the chosen image manifest)."""
        f = walk.facts
        try:
            doc = self._parse(walk.digest)
            if isinstance(doc, Index):
                f.media_type = doc.media_type
                f.platforms = index_platforms(doc) or None
                child = select_child(doc, self.want)
                if child is None:
                    f.error = (
                        f"no image for platform {self.platform_key or 'any'} "
                        f"(has: {f.platforms or 'none'})"
                    )
                    walk.done = True
                    return
                walk.index_annotations = dict(doc.annotations)
                f.attested = has_attestation(doc, child)
                child_doc = self._parse(child.digest)
                if not isinstance(child_doc, ImageManifest):
                    f.error = "index entry is not an image manifest"
                    walk.done = True
                    return
                walk.manifest = child_doc
            elif isinstance(doc, ImageManifest):
                f.media_type = doc.media_type
                f.attested = False
                walk.manifest = doc
            elif isinstance(doc, Schema1):
                f.media_type = DOCKER_SCHEMA1_SIGNED
                f.attested = False
                if self.labels:
                    f.labels = {}
                    f.revision = f.source = f.image_version = None
                f.platforms = (
                    f"{doc.os}/{doc.architecture}" if doc.os and doc.architecture else None
                )
                f.created_ns = rfc3339_ns(doc.created)
                f.created_source = "config" if f.created_ns is not None else None
                walk.done = True
        except RegframeError as exc:
            f.error = _describe(exc)
            walk.done = True

    def read_config(self, walk: _DigestWalk) -> None:
        """Phase 3: read the image config for platform, size and build time."""
        m = walk.manifest
        assert m is not None
        f = walk.facts
        try:
            config = parse_config(self._fetch_config(m.config.digest), digest=m.config.digest)
            if f.platforms is None and config.os and config.architecture:
                f.platforms = "/".join(
                    p for p in (config.os, config.architecture, config.variant) if p
                )
            f.size = image_size(m)
            f.created_ns, f.created_source = created_from(
                config, dict(m.annotations), walk.index_annotations
            )
            if self.labels:
                f.labels = dict(config.labels)
                oci = _oci_values(f.labels, dict(m.annotations), walk.index_annotations)
                f.revision, f.source = oci["revision"], oci["source"]
                f.image_version = oci["image_version"]
        except RegframeError as exc:
            f.error = _describe(exc)
        walk.done = True

    # -- fetching, each digest once ---------------------------------------

    def cached_facts(self, digest: str) -> TagMetadata | None:
        """The cached facts of *digest* for this platform, read at most once per run."""
        if digest not in self._facts_seen:
            doc = self.store.facts_get(facts_key(digest, self.platform_key))
            if doc is not None and (
                "attested" not in doc or (self.labels and not isinstance(doc.get("labels"), dict))
            ):
                # Written before these facts existed, or without labels: walk again (the
                # manifests and config come from the digest cache, not the network).
                doc = None
            self._facts_seen[digest] = TagMetadata.from_json(doc) if doc is not None else None
        return self._facts_seen[digest]

    def _remember(self, digest: str, body: bytes, content_type: str = "") -> None:
        with self._lock:
            self._bodies[digest] = body
            if content_type:
                self._content_types[digest] = content_type
        self.store.put(digest, body)

    def _parse(self, digest: str) -> Index | ImageManifest | Schema1:
        body = self._fetch_manifest(digest)
        return parse_manifest(body, digest=digest, content_type=self._content_types.get(digest))

    def _fetch_manifest(self, digest: str) -> bytes:
        with self._lock:
            body = self._bodies.get(digest)
        if body is None:
            body = self.store.get(digest)
        if body is None:
            client = self.client
            url = f"{client.repo_url}/manifests/{validate_digest(digest)}"
            reply = client.request("GET", url, accept=ACCEPT_MANIFESTS, limit=MAX_MANIFEST_BYTES)
            client.raise_for_status(reply, f"manifest {digest[:19]}")
            verify_manifest_digest(reply.body, digest)
            self._remember(digest, reply.body, reply.content_type)
            body = reply.body
        return body

    def _fetch_config(self, digest: str) -> bytes:
        body = self.store.get(digest)
        if body is None:
            client = self.client
            url = f"{client.repo_url}/blobs/{validate_digest(digest)}"
            reply = client.request("GET", url, limit=MAX_CONFIG_BYTES)
            client.raise_for_status(reply, f"config blob {digest[:19]}")
            verify_digest(reply.body, digest)
            self.store.put(digest, reply.body)
            body = reply.body
        return body


def add_metadata(
    df: pd.DataFrame,
    client: RegistryClient,
    *,
    platform: str | None = "linux/amd64",
    cache: bool | str | os.PathLike[str] = True,
    progress: ProgressOption | Progress = None,
    max_workers: int = 16,
    prefetched: dict[str, TagMetadata] | None = None,
    labels: bool = False,
    pushes: dict[str, ListedPush] | None = None,
) -> pd.DataFrame:
    """Add the ``dates=True`` columns (and with ``labels`` the label columns) to a tags frame.

    Parameters
    ----------
    df
        A frame with a ``tag`` column (from :func:`regframe.parse_tags`).
    client
        An open :class:`~regframe.client.registry.RegistryClient` for the repository.
    platform, cache, progress, max_workers
        As in :func:`regframe.read_tags`.
    prefetched
        Per-tag facts already known from a registry's own tag API; those tags are not
        requested again (with ``labels``, only their images' manifests and configs are
        read, each digest once, and the config's build time fills ``created``).
    labels
        Also add ``revision, source, image_version, labels``.
    pushes
        Push times a listing gave for tags it left to the walk (GCR's manifest lists): a
        walked tag takes its ``pushed`` only when the walk reached the listed digest, so
        a tag moved since the listing never shows the other digest's time.

    Returns
    -------
    pandas.DataFrame
        ``df`` with ``digest, media_type, platforms, created, created_source, pushed,
        pushed_source, size, resolves_to, error, date_note, attested`` appended.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.read_tags("localhost:5000/app", dates=True)  # doctest: +SKIP
    >>> df[["tag", "created", "resolves_to"]]  # doctest: +SKIP
    """
    resolver = Resolver(
        client, platform=platform, store=DigestCache.from_option(cache), labels=labels
    )
    tags = [str(t) for t in df["tag"].tolist()]
    wanted = set(tags)  # once: a set per item made this quadratic (20 s for 10,000 tags)
    prefetched = {t: m for t, m in (prefetched or {}).items() if t in wanted}
    resolver.resolve(
        [t for t in tags if t not in prefetched], max_workers=max_workers, progress=progress
    )
    if labels and prefetched:
        prefetched = _with_labels(resolver, prefetched, max_workers, progress)
    pushes = pushes or {}
    rows = [
        prefetched[t] if t in prefetched else _with_push(t, resolver.metadata_for(t), pushes.get(t))
        for t in tags
    ]
    out = assemble_metadata(df, rows, labels=labels)
    _raise_if_all_failed(out, resolver.lookups)
    failed = int(out["error"].notna().sum())
    if failed:
        warnings.warn(
            f"{failed} of {len(out)} tags could not be fully described; see the 'error' column",
            MetadataWarning,
            stacklevel=3,
        )
    return out


def _with_push(tag: str, meta: TagMetadata, listed: ListedPush | None) -> TagMetadata:
    """``meta`` with the listed push time, when the walk found the digest that was listed."""
    if listed is None or meta.pushed_ns is not None:
        return meta
    if meta.digest != listed.digest:
        log.debug("tag %s moved from %s to %s after it was listed: no %s push time", tag,
                  listed.digest[:19], (meta.digest or "nothing")[:19], listed.source)  # fmt: skip
        return meta
    return replace(meta, pushed_ns=listed.pushed_ns, pushed_source=listed.source)


def _with_labels(
    resolver: Resolver,
    prefetched: dict[str, TagMetadata],
    max_workers: int,
    progress: ProgressOption | Progress,
) -> dict[str, TagMetadata]:
    """Tag-API facts completed with labels read from each unique digest's image config."""
    digests = list(dict.fromkeys(m.digest for m in prefetched.values() if m.digest))
    resolver.walk_digests(digests, max_workers=max_workers, progress=progress)
    out: dict[str, TagMetadata] = {}
    for tag, meta in prefetched.items():
        walked = resolver.walk_for(meta.digest) if meta.digest else None
        if walked is None:
            out[tag] = meta
            continue
        # The tag API's push time stays; the walk adds what only the image itself knows,
        # its build time first (a config's ``created`` outranks GCR's copy of it).
        built = walked.created_ns is not None
        out[tag] = replace(
            meta,
            created_ns=walked.created_ns if built else meta.created_ns,
            created_source=walked.created_source if built else meta.created_source,
            platforms=meta.platforms or walked.platforms,
            attested=walked.attested,
            labels=walked.labels,
            revision=walked.revision,
            source=walked.source,
            image_version=walked.image_version,
            error=meta.error or walked.error,
        )
    return out


def _raise_if_all_failed(out: pd.DataFrame, results: dict[str, _TagLookup]) -> None:
    """When no tag at all could be resolved for an account-level reason, raise that reason.

    A frame in which every row says "rate limited" or "not authorized" hides
    the one thing the user must act on; per-tag problems (a missing manifest,
    a bad digest) still come back as rows.
    """
    if out.empty or not results or any(r.exc is None for r in results.values()):
        return
    first = next(iter(results.values())).exc
    if isinstance(first, AuthenticationError | RateLimitError) and all(
        type(r.exc) is type(first) for r in results.values()
    ):
        raise first
