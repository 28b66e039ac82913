"""Each tag's manifest chain, followed step after step on one worker: tag → digest → config.

:class:`Resolver` follows each tag's chain as far as it goes, one step after another on
the same worker, while the pool's other workers follow other chains:

1. the *tag* — one request: ``GET`` the manifest by tag (its body is the first link of the
   chain, and its sha256 is the digest) or, when the tag's previous digest is known and its
   facts are cached, a ``HEAD`` that only confirms the digest.  On Docker Hub always
   ``HEAD`` (a ``GET`` counts against the pull limit) and fetch the body by digest;
2. the *top manifest* — parsed; for an index, the chosen platform's image manifest;
3. the *config* blob of that image manifest.

The first chain to reach a digest walks it (steps 2 and 3); a chain reaching a digest
already claimed stops there, so each unique digest is walked once however many tags share
it, and a child manifest or config shared by several walks is fetched once (the others wait
for it).  A chain waits for another only to share such a fetch, never for a whole phase of
other tags' steps, so one slow answer delays only the chains that need it, and the CPU work
on an answer overlaps the waits of the others.

Everything addressed by digest is verified and kept in the
:class:`~regframe.client.cache.DigestCache` (written in batches as the walks finish); the
facts derived for a digest and platform are cached too, so a warm run costs one ``HEAD``
per tag and nothing else.  A failure fills that tag's ``error`` and never loses the frame.
Tags a registry's own tag API already described (:mod:`regframe.client.tag_apis`) arrive
as ``prefetched`` :class:`TagMetadata` and are not requested again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from regframe.client import green
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
    ImageConfig,
    ImageManifest,
    Index,
    Schema1,
    created_from,
    image_size,
    parse_config,
    parse_manifest,
)
from regframe.client.platforms import has_attestation, index_platforms, parse_platform, select_child
from regframe.client.progress import Progress, ProgressOption
from regframe.client.registry import RegistryClient
from regframe.client.tag_metadata import TagMetadata
from regframe.errors import NotFoundError, RegframeError, ResponseTooLarge
from regframe.parsing.reference import validate_tag
from regframe.parsing.timestamps import rfc3339_ns

__all__ = ["LABEL_KEYS", "Resolver", "TagLookup"]


#: ``labels=True`` columns and the OCI key each one reads.
LABEL_KEYS = {
    "revision": "org.opencontainers.image.revision",
    "source": "org.opencontainers.image.source",
    "image_version": "org.opencontainers.image.version",
}


@dataclass
class TagLookup:
    """A chain's first step for one tag: its digest (or why there is none)."""

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


class _Flight:
    """A fetch by digest under way: other walks needing that digest wait for its answer."""

    __slots__ = ("answer", "landed")

    def __init__(self) -> None:
        self.landed = threading.Event()
        self.answer: object = None


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
        self.lookups: dict[str, TagLookup] = {}
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
        # A warm run asks about each digest once per tag sharing it: read each facts entry
        # once (a miss is remembered too).
        self._facts_seen: dict[str, TagMetadata | None] = {}
        # Configs parsed so far (small: a few fields), and the fetches by digest under way.
        self._configs: dict[str, ImageConfig] = {}
        self._flights: dict[str, _Flight] = {}
        self._progress = Progress(False)

    # -- the chains --------------------------------------------------------

    def resolve(
        self, tags: Sequence[str], *, max_workers: int, progress: ProgressOption | Progress
    ) -> None:
        """Follow the chain of every tag in *tags* on up to *max_workers* threads.

        An interrupt (Ctrl-C, a kernel interrupt) cancels the requests still queued and
        re-raises once those in flight are answered; nothing is written to the cache then
        but verified documents and the facts of walks that finished.
        """
        with self.store.deferred():
            self._runner(max_workers, progress).run(tags, self.follow_tag)
            if self.store.enabled:
                fresh = {t: r.digest for t, r in self.lookups.items() if r.digest is not None}
                if fresh:
                    self.store.facts_put(self._hints_key, {**self._hints, **fresh})

    def walk_digests(
        self, digests: Sequence[str], *, max_workers: int, progress: ProgressOption | Progress
    ) -> None:
        """Walk digests known without asking per tag (a tag API's): steps 2 and 3 only."""
        pending = [w for w in map(self._claim, dict.fromkeys(digests)) if w is not None]
        with self.store.deferred():
            self._runner(max_workers, progress).run(pending, self.walk)

    def walk_for(self, digest: str) -> TagMetadata | None:
        """The facts a :meth:`walk_digests` walk found for *digest*."""
        walk = self.walks.get(digest)
        return walk.facts if walk is not None else None

    def _runner(self, max_workers: int, progress: ProgressOption | Progress) -> JobRunner:
        # The runner counts one step per job; a chain counts its further steps itself.
        self._progress = Progress.of(progress)
        transport = self.client.transport
        return JobRunner(
            max_workers,
            progress=self._progress,
            cancel=transport.cancelled,
            spawn=transport.spawner(),
        )

    def follow_tag(self, tag: str) -> None:
        """One tag's chain: its digest, then that digest's walk if no other chain has it."""
        self.lookup_tag(tag)
        digest = self.lookups[tag].digest
        walk = self._claim(digest) if digest is not None else None
        if walk is not None:
            self._progress.expect(1)
            try:
                self.read_top_manifest(walk)
            finally:
                self._progress.advance()
            self.walk(walk, first_done=True)

    def walk(self, walk: _DigestWalk, *, first_done: bool = False) -> None:
        """Steps 2 and 3 of one digest (2 only when *first_done* is false), then its facts."""
        if not first_done:
            self.read_top_manifest(walk)
        if not walk.done:
            self._progress.expect(1)
            try:
                self.read_config(walk)
            finally:
                self._progress.advance()
        if walk.facts.error is None:
            self.store.facts_put(facts_key(walk.digest, self.platform_key), walk.facts.to_json())

    def _claim(self, digest: str) -> _DigestWalk | None:
        """A new walk of *digest* for the caller, or ``None``: claimed already, or cached."""
        with self._lock:
            if digest in self.walks:
                return None
            walk = self.walks[digest] = _DigestWalk(digest)
        known = self.cached_facts(digest)
        if known is not None:
            walk.facts, walk.done = known, True
            return None
        return walk

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
        """Step 1: find *tag*'s digest, with a ``HEAD`` when that is enough."""
        res = TagLookup()
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
        """Step 2: parse the top manifest (and for an index, the chosen image manifest)."""
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
        """Step 3: read the image config for platform, size and build time."""
        m = walk.manifest
        assert m is not None
        f = walk.facts
        try:
            config = self._config(m.config.digest)
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
            known = digest in self._bodies
            self._bodies[digest] = body
            if content_type:
                self._content_types[digest] = content_type
        if not known:  # many tags share a digest: store it once
            self.store.put(digest, body)

    def _parse(self, digest: str) -> Index | ImageManifest | Schema1:
        # No digest= for parse_manifest to check again: every body here was verified already
        # (against the tag's Docker-Content-Digest, the digest asked for, or on a cache read).
        body = self._fetch_manifest(digest)
        return parse_manifest(body, content_type=self._content_types.get(digest))

    def _once(self, digest: str, fetch: Callable[[], object]) -> object:
        """``fetch()``, unless another walk is fetching *digest* now: then its answer."""
        with self._lock:
            flight = self._flights.get(digest)
            if flight is None:
                mine = self._flights[digest] = _Flight()
        if flight is not None:
            cancelled = self.client.transport.cancelled
            while not green.wait(flight.landed, 0.1) and not cancelled.is_set():
                pass
            # The other walk failed: fetch again, so that this walk gets its own error.
            return flight.answer if flight.answer is not None else fetch()
        try:
            mine.answer = fetch()
            return mine.answer
        finally:
            mine.landed.set()
            with self._lock:
                del self._flights[digest]

    def _fetch_manifest(self, digest: str) -> bytes:
        with self._lock:
            body = self._bodies.get(digest)
        if body is not None:
            return body
        answer = self._once(digest, lambda: self._manifest_by_digest(digest))
        assert isinstance(answer, bytes)
        return answer

    def _manifest_by_digest(self, digest: str) -> bytes:
        with self._lock:
            body = self._bodies.get(digest)  # another walk's fetch landed meanwhile
        if body is None:
            body = self.store.get(digest)
        if body is None:
            client = self.client
            url = f"{client.repo_url}/manifests/{validate_digest(digest)}"
            reply = client.request("GET", url, accept=ACCEPT_MANIFESTS, limit=MAX_MANIFEST_BYTES)
            client.raise_for_status(reply, f"manifest {digest[:19]}")
            verify_manifest_digest(reply.body, digest)
            self._remember(digest, reply.body, reply.content_type)
            return reply.body
        with self._lock:
            self._bodies[digest] = body
        return body

    def _config(self, digest: str) -> ImageConfig:
        """The parsed config blob *digest*: once per run, from the cache or the registry."""
        with self._lock:
            config = self._configs.get(digest)
        if config is None:
            answer = self._once(digest, lambda: self._config_by_digest(digest))
            assert isinstance(answer, ImageConfig)
            config = answer
        return config

    def _config_by_digest(self, digest: str) -> ImageConfig:
        body = self.store.get(digest)  # verified on read
        if body is None:
            client = self.client
            url = f"{client.repo_url}/blobs/{validate_digest(digest)}"
            reply = client.request("GET", url, limit=MAX_CONFIG_BYTES)
            client.raise_for_status(reply, f"config blob {digest[:19]}")
            verify_digest(reply.body, digest)
            self.store.put(digest, reply.body)
            body = reply.body
        config = parse_config(body)
        with self._lock:
            self._configs[digest] = config
        return config
