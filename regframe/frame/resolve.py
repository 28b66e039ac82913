"""``dates=True``: resolve every tag to its manifest chain and read build dates, concurrently.

The work is organised in phases so the thread pool stays full and each unique
digest is fetched once however many tags share it (DESIGN §6):

1. *tags* — one request per tag: ``GET`` the manifest by tag (its body is the
   first link of the chain, and its sha256 is the digest) or, when the tag's
   previous digest is known and its facts are cached, a ``HEAD`` that only
   confirms the digest.  On Docker Hub always ``HEAD`` (a ``GET`` counts
   against the pull limit) and fetch the body by digest.
2. *children* — for each unique index, the chosen platform's manifest.
3. *configs* — for each unique image manifest, its config blob.

Everything addressed by digest is verified and kept in the
:class:`~regframe.client.cache.DigestCache`; the facts derived for a digest and
platform are cached too, so a warm run costs one ``HEAD`` per tag and nothing
else.  A failure fills that tag's ``error`` and never loses the frame.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import pandas as pd

from regframe.cadence import RELEASE_SCHEMES
from regframe.client.cache import DigestCache, facts_key
from regframe.client.manifests import (
    ACCEPT_MANIFESTS,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    ImageManifest,
    Index,
    Schema1,
    compute_digest,
    created_from,
    image_size,
    index_platforms,
    is_digest,
    parse_config,
    parse_manifest,
    parse_platform,
    schema1_payload,
    select_child,
    validate_digest,
    verify_digest,
)
from regframe.client.registry import RegistryClient
from regframe.client.transport import ResponseTooLarge
from regframe.errors import (
    AuthenticationError,
    ManifestError,
    NotFoundError,
    RateLimitError,
    RegframeError,
)
from regframe.parsing.reference import validate_tag

__all__ = ["MetadataWarning", "add_metadata", "resolve_aliases"]

log = logging.getLogger("regframe")

T = TypeVar("T")
CREATED_SOURCES = ["config", "annotation", "label", "hub", "quay", "gcr"]
# A bar for a handful of requests is noise; 64 is about a second of work.
PROGRESS_THRESHOLD = 64


class MetadataWarning(UserWarning):
    """Some tags' metadata could not be read; their ``error`` column says why."""


@dataclass
class Facts:
    """What a top-level manifest digest says about the image for one platform."""

    media_type: str | None = None
    platforms: str | None = None
    created: pd.Timestamp | None = None
    created_source: str | None = None
    size: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "media_type": self.media_type,
            "platforms": self.platforms,
            "created_ns": None if self.created is None else int(self.created.value),
            "created_source": self.created_source,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Facts:
        ns = doc.get("created_ns")
        return cls(
            media_type=doc.get("media_type"),
            platforms=doc.get("platforms"),
            created=pd.Timestamp(int(ns), tz="UTC") if isinstance(ns, int) else None,
            created_source=doc.get("created_source"),
            size=doc.get("size") if isinstance(doc.get("size"), int) else None,
        )


@dataclass
class _TagResult:
    digest: str | None = None
    media_type: str | None = None
    error: str | None = None
    exc: RegframeError | None = None


@dataclass
class _Chain:
    """A top-level digest in progress through the phases."""

    digest: str
    facts: Facts = field(default_factory=Facts)
    manifest: ImageManifest | None = None
    index_annotations: dict[str, str] = field(default_factory=dict)
    done: bool = False


def _verify_manifest(body: bytes, digest: str) -> None:
    """Check a manifest against its digest, allowing for signed schema 1.

    Registries compute a libtrust-signed schema 1 manifest's digest over the
    document without its ``signatures`` block, so the raw bytes never match.
    """
    try:
        verify_digest(body, digest)
    except ManifestError:
        payload = schema1_payload(body)
        if payload is body:
            raise
        verify_digest(payload, digest)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ResponseTooLarge):
        return f"manifest or config too large ({exc})"
    if isinstance(exc, NotFoundError):
        return f"not found: {exc}"
    return str(exc) or type(exc).__name__


def _want_progress(progress: bool | None, work: int) -> bool:
    if progress is not None:
        return progress
    if work < PROGRESS_THRESHOLD:
        return False
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Runner:
    """Runs phases of independent jobs on one pool, with one shared progress bar."""

    def __init__(self, max_workers: int, show: bool, total: int) -> None:
        self.pool = ThreadPoolExecutor(
            max_workers=max(1, max_workers), thread_name_prefix="regframe"
        )
        self.bar: Any = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="manifests", unit="req", leave=False)

    def run(self, items: Iterable[T], job: Callable[[T], None]) -> None:
        futures = [self.pool.submit(job, item) for item in items]
        for fut in as_completed(futures):
            fut.result()  # jobs catch their own errors; this only re-raises bugs
            if self.bar is not None:
                self.bar.update(1)

    def grow(self, n: int) -> None:
        if self.bar is not None:
            self.bar.total += n
            self.bar.refresh()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        if self.bar is not None:
            self.bar.close()


def add_metadata(
    df: pd.DataFrame,
    client: RegistryClient,
    *,
    platform: str | None = "linux/amd64",
    cache: bool | str | os.PathLike[str] = True,
    progress: bool | None = None,
    max_workers: int = 16,
    prefetched: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Add the ``dates=True`` columns to a tags frame (see DESIGN §2).

    Parameters
    ----------
    df
        A frame with a ``tag`` column (from :func:`regframe.parse_tags`).
    client
        An open :class:`~regframe.client.registry.RegistryClient` for the repository.
    platform, cache, progress, max_workers
        As in :func:`regframe.read_tags`.
    prefetched
        Per-tag facts already known from a registry fast path; those tags are
        not requested again.

    Returns
    -------
    pandas.DataFrame
        ``df`` with ``digest, media_type, platforms, created, created_source,
        size, resolves_to, error`` appended.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.read_tags("localhost:5000/app", dates=True)  # doctest: +SKIP
    >>> df[["tag", "created", "resolves_to"]]  # doctest: +SKIP
    """
    want = parse_platform(platform)
    plat_key = str(want) if want is not None else None
    store = DigestCache.from_option(cache)
    tags = [str(t) for t in df["tag"].tolist()]
    prefetched = prefetched or {}
    todo = [t for t in tags if t not in prefetched]
    hints_key = f"tags|{client.base_url}|{client.reference.repository}"
    hints: dict[str, str] = {}
    if store.enabled:
        loaded = store.facts_get(hints_key) or {}
        hints = {k: v for k, v in loaded.items() if isinstance(v, str) and is_digest(v)}
    prefer_head = client.reference.is_docker_hub

    bodies: dict[str, bytes] = {}
    # The Content-Type each manifest came with: parse_manifest checks it against mediaType.
    content_types: dict[str, str] = {}
    bodies_lock = threading.Lock()
    results: dict[str, _TagResult] = {}
    chains: dict[str, _Chain] = {}

    # A warm run asks about each digest once per tag sharing it: read each
    # facts file once (a miss is remembered too; writes happen after the run).
    facts_seen: dict[str, Facts | None] = {}

    def cached_facts(digest: str) -> Facts | None:
        if digest not in facts_seen:
            doc = store.facts_get(facts_key(digest, plat_key))
            facts_seen[digest] = Facts.from_json(doc) if doc is not None else None
        return facts_seen[digest]

    def remember(digest: str, body: bytes, content_type: str = "") -> None:
        with bodies_lock:
            bodies[digest] = body
            if content_type:
                content_types[digest] = content_type
        store.put(digest, body)

    def resolve_tag(tag: str) -> None:
        res = _TagResult()
        results[tag] = res
        try:
            validate_tag(tag)
        except RegframeError as exc:
            res.error = f"invalid tag name: {exc}"
            return
        url = f"{client.repo_url}/manifests/{quote(tag, safe='')}"
        try:
            hint = hints.get(tag)
            use_head = prefer_head or (hint is not None and cached_facts(hint) is not None)
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
                _verify_manifest(reply.body, header)
                digest = header
            else:
                digest = compute_digest(reply.body)
            res.digest = digest
            res.media_type = reply.content_type or None
            remember(digest, reply.body, reply.content_type)
        except RegframeError as exc:
            res.error = _describe(exc)
            res.exc = exc

    def fetch_manifest(digest: str) -> bytes:
        with bodies_lock:
            body = bodies.get(digest)
        if body is None:
            body = store.get(digest)
        if body is None:
            url = f"{client.repo_url}/manifests/{validate_digest(digest)}"
            reply = client.request("GET", url, accept=ACCEPT_MANIFESTS, limit=MAX_MANIFEST_BYTES)
            client.raise_for_status(reply, f"manifest {digest[:19]}")
            _verify_manifest(reply.body, digest)
            remember(digest, reply.body, reply.content_type)
            body = reply.body
        return body

    def fetch_config(digest: str) -> bytes:
        body = store.get(digest)
        if body is None:
            url = f"{client.repo_url}/blobs/{validate_digest(digest)}"
            reply = client.request("GET", url, limit=MAX_CONFIG_BYTES)
            client.raise_for_status(reply, f"config blob {digest[:19]}")
            verify_digest(reply.body, digest)
            store.put(digest, reply.body)
            body = reply.body
        return body

    def start_chain(chain: _Chain) -> None:
        """Phase-1 follow-up: parse the top manifest; decide what comes next."""
        try:
            body = fetch_manifest(chain.digest)
            doc = parse_manifest(
                body, digest=chain.digest, content_type=content_types.get(chain.digest)
            )
            f = chain.facts
            if isinstance(doc, Index):
                f.media_type = doc.media_type
                f.platforms = index_platforms(doc) or None
                child = select_child(doc, want)
                if child is None:
                    f.error = (
                        f"no image for platform {plat_key or 'any'} (has: {f.platforms or 'none'})"
                    )
                    chain.done = True
                    return
                chain.index_annotations = dict(doc.annotations)
                child_body = fetch_manifest(child.digest)
                child_doc = parse_manifest(
                    child_body, digest=child.digest, content_type=content_types.get(child.digest)
                )
                if not isinstance(child_doc, ImageManifest):
                    f.error = "index entry is not an image manifest"
                    chain.done = True
                    return
                chain.manifest = child_doc
            elif isinstance(doc, ImageManifest):
                f.media_type = doc.media_type
                chain.manifest = doc
            elif isinstance(doc, Schema1):
                f.media_type = "application/vnd.docker.distribution.manifest.v1+prettyjws"
                f.platforms = (
                    f"{doc.os}/{doc.architecture}" if doc.os and doc.architecture else None
                )
                f.created = doc.created_at
                f.created_source = "config" if f.created is not None else None
                chain.done = True
        except RegframeError as exc:
            chain.facts.error = _describe(exc)
            chain.done = True

    def finish_chain(chain: _Chain) -> None:
        m = chain.manifest
        assert m is not None
        f = chain.facts
        try:
            config = parse_config(fetch_config(m.config.digest), digest=m.config.digest)
            if f.platforms is None and config.os and config.architecture:
                f.platforms = "/".join(
                    p for p in (config.os, config.architecture, config.variant) if p
                )
            f.size = image_size(m)
            f.created, f.created_source = created_from(
                config, dict(m.annotations), chain.index_annotations
            )
        except RegframeError as exc:
            f.error = _describe(exc)
        chain.done = True

    show = _want_progress(progress, len(todo))
    runner = _Runner(max_workers, show, total=len(todo))
    try:
        runner.run(todo, resolve_tag)
        # Which digests still need work?  (Cached facts make a chain done at once.)
        for tag in todo:
            res = results[tag]
            if res.digest is None or res.digest in chains:
                continue
            chain = _Chain(res.digest)
            known = cached_facts(res.digest)
            if known is not None:
                chain.facts, chain.done = known, True
            chains[res.digest] = chain
        pending = [c for c in chains.values() if not c.done]
        runner.grow(len(pending))
        runner.run(pending, start_chain)
        needs_config = [c for c in pending if not c.done]
        runner.grow(len(needs_config))
        runner.run(needs_config, finish_chain)
    finally:
        runner.close()

    for chain in pending:
        if chain.facts.error is None:
            store.facts_put(facts_key(chain.digest, plat_key), chain.facts.to_json())

    rows: list[dict[str, Any]] = []
    for tag in tags:
        if tag in prefetched:
            rows.append(dict(prefetched[tag]))
            continue
        res = results[tag]
        row: dict[str, Any] = {
            "digest": res.digest,
            "media_type": res.media_type,
            "error": res.error,
        }
        if res.digest is not None:
            f = chains[res.digest].facts
            row.update(
                media_type=f.media_type or res.media_type,
                platforms=f.platforms,
                created=f.created,
                created_source=f.created_source,
                size=f.size,
                error=f.error,
            )
        rows.append(row)

    if store.enabled:
        fresh = {t: r.digest for t, r in results.items() if r.digest is not None}
        if fresh:
            store.facts_put(hints_key, {**hints, **fresh})

    out = _assemble(df, rows)
    _raise_if_all_failed(out, results)
    failed = int(out["error"].notna().sum())
    if failed:
        warnings.warn(
            f"{failed} of {len(out)} tags could not be fully described; see the 'error' column",
            MetadataWarning,
            stacklevel=3,
        )
    return out


def _assemble(df: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
    meta = pd.DataFrame(
        rows,
        index=df.index,
        columns=[
            "digest",
            "media_type",
            "platforms",
            "created",
            "created_source",
            "size",
            "error",
        ],
    )
    out = df.copy()
    out["digest"] = meta["digest"].astype("string")
    out["media_type"] = meta["media_type"].astype("string")
    out["platforms"] = meta["platforms"].astype("string")
    out["created"] = pd.to_datetime(meta["created"], utc=True).astype("datetime64[ns, UTC]")
    out["created_source"] = pd.Categorical(meta["created_source"], categories=CREATED_SOURCES)
    out["size"] = pd.array(meta["size"].tolist(), dtype="Int64")
    out["resolves_to"] = resolve_aliases(out)
    out["error"] = meta["error"].astype("string")
    return out


def _raise_if_all_failed(out: pd.DataFrame, results: dict[str, _TagResult]) -> None:
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


def resolve_aliases(df: pd.DataFrame) -> pd.Series:
    """The most specific versioned tag sharing each row's digest (``3.12`` → ``3.12.1``).

    Among the tags of one digest that have a version (scheme semver, multipart
    or calver), prefer the most release components, then no variant (then the
    shortest variant), then a final over a prerelease, then the highest
    version.  Rows without a digest, or whose digest has no versioned tag, get
    NA.

    Examples
    --------
    >>> import regframe as rf
    >>> df = rf.parse_tags(["3.12", "3.12.1", "latest"])
    >>> df["digest"] = "sha256:" + "a" * 64
    >>> resolve_aliases(df).tolist()
    ['3.12.1', '3.12.1', '3.12.1']
    """
    from regframe.parsing.versions import version_key

    result = pd.Series(pd.NA, index=df.index, dtype="string")
    if df.empty or "digest" not in df:
        return result
    versioned = df["scheme"].isin(RELEASE_SCHEMES) & df["digest"].notna() & df["release"].notna()
    cand = df.loc[versioned, ["tag", "release", "variant", "is_prerelease", "digest"]].copy()
    if cand.empty:
        return result
    cand["_parts"] = cand["release"].str.count(r"\.") + 1
    cand["_vlen"] = cand["variant"].str.len().fillna(0)
    cand["_pre"] = cand["is_prerelease"].fillna(False).astype(bool)
    keys = version_key(df.loc[cand.index]).add_prefix("_k_")
    key_cols = [str(c) for c in keys.columns]
    cand = pd.concat([cand, keys], axis=1)
    order = ["digest", "_parts", "_vlen", "_pre", *key_cols]
    asc = [True, False, True, True, *[False] * len(key_cols)]
    best = cand.sort_values(order, ascending=asc, kind="stable").drop_duplicates("digest")
    winner = best.set_index("digest")["tag"]
    mapped = df["digest"].map(winner)
    return mapped.astype("string")
