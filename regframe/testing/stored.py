"""What a sandbox registry really holds, read from its storage: tags, documents, and when.

The API shims of :mod:`regframe.testing.api_shim` answer Harbor's, ACR's, GitLab's, GitHub's
and ECR Public's APIs *from what was really pushed* to the CNCF distribution registry they
stand beside.  distribution's filesystem driver keeps, per repository,
``_manifests/tags/<tag>/current/link`` (the digest a tag points at, rewritten on every push
of the tag) and ``_manifests/tags/<tag>/index/<alg>/<hex>/link`` (one per digest the tag
ever pointed at); blobs live under ``blobs/<alg>/<2 hex>/<hex>/data``.  The files' modification
times are the registry's own record of when each happened — the push times the products'
APIs report — so no clock of the shim is involved.

Test infrastructure only (``sandbox`` extra); it reads, never writes, the storage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["ImageFacts", "StoredRepository", "StoredTag"]

T = TypeVar("T")

_INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)


@dataclass(frozen=True)
class StoredTag:
    """One tag as the registry's storage records it.

    Attributes
    ----------
    name, digest
        The tag and the manifest digest it points at now.
    pushed_ns
        When the tag was last written (``current/link``), ns since the epoch.
    created_ns
        When the tag name first appeared (its oldest ``index`` link).
    digest_first_ns
        When any tag of the repository first pointed at ``digest`` (its first push).
    """

    name: str
    digest: str
    pushed_ns: int
    created_ns: int
    digest_first_ns: int


@dataclass(frozen=True)
class ImageFacts:
    """What a product's API says about one manifest, computed from the stored documents.

    Attributes
    ----------
    media_type
        The manifest's ``mediaType``.
    manifest_size
        Length of the manifest document in bytes.
    size
        Config plus layers (compressed), as regframe's ``size`` column counts them; 0 for
        an index.
    os, architecture, variant, created
        From the image config (``None`` for an index or when absent).
    children
        For an index: its ``manifests`` entries (digest, platform, annotations).
    """

    media_type: str
    manifest_size: int
    size: int
    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    created: str | None = None
    children: tuple[dict[str, Any], ...] = ()

    @property
    def is_index(self) -> bool:
        return self.media_type in _INDEX_TYPES


class StoredRepository:
    """One repository of a sandbox registry's filesystem storage.

    Parameters
    ----------
    storage_root
        The registry's ``rootdirectory`` (:attr:`regframe.testing.sandbox.Sandbox.storage_root`).
    name
        Repository name, e.g. ``demo/app``.

    Examples
    --------
    >>> repo = StoredRepository(sb.storage_root, "demo/app")  # doctest: +SKIP
    >>> [t.name for t in repo.tags()]  # doctest: +SKIP
    ['1.0', 'latest']
    """

    def __init__(self, storage_root: Path, name: str, *, frozen: bool = False) -> None:
        self.v2 = Path(storage_root) / "docker" / "registry" / "v2"
        self.name = name
        self.manifests = self.v2 / "repositories" / name / "_manifests"
        #: Read the tags once (nothing will be pushed any more); facts are always kept,
        #: a digest's documents never change.
        self.frozen = frozen
        self._tags: list[StoredTag] | None = None
        self._facts: dict[str, ImageFacts] = {}
        self._derived: dict[str, Any] = {}

    def exists(self) -> bool:
        return self.manifests.is_dir()

    def tags(self) -> list[StoredTag]:
        """Every tag, sorted by name (as distribution's ``tags/list`` sorts them)."""
        if self._tags is None or not self.frozen:
            self._tags = self._read_tags()
        return list(self._tags)

    def _read_tags(self) -> list[StoredTag]:
        tags_dir = self.manifests / "tags"
        if not tags_dir.is_dir():
            return []
        found: list[tuple[str, str, int, int]] = []
        first: dict[str, int] = {}
        for tag_dir in sorted(tags_dir.iterdir(), key=lambda p: p.name):
            current = tag_dir / "current" / "link"
            if not current.is_file():
                continue  # a deleted tag
            digest = current.read_text().strip()
            index_times = []
            for link in (tag_dir / "index").glob("*/*/link"):
                mtime = link.stat().st_mtime_ns
                index_times.append(mtime)
                pointed = f"{link.parent.parent.name}:{link.parent.name}"
                first[pointed] = min(first.get(pointed, mtime), mtime)
            created = min(index_times, default=current.stat().st_mtime_ns)
            found.append((tag_dir.name, digest, current.stat().st_mtime_ns, created))
        return [
            StoredTag(name, digest, pushed, created, first.get(digest, pushed))
            for name, digest, pushed, created in found
        ]

    def derived(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, kept under ``key`` while the repository is frozen (else recomputed).

        Examples
        --------
        >>> repo.derived("versions", lambda: expensive(repo))  # doctest: +SKIP
        """
        if not self.frozen:
            return compute()
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]  # type: ignore[no-any-return]

    def blob(self, digest: str) -> bytes:
        """The content of a blob or manifest, by digest."""
        algorithm, _, hexpart = digest.partition(":")
        return (self.v2 / "blobs" / algorithm / hexpart[:2] / hexpart / "data").read_bytes()

    def facts(self, digest: str) -> ImageFacts:
        """What the products' APIs report about the manifest ``digest``."""
        if digest not in self._facts:
            self._facts[digest] = self._read_facts(digest)
        return self._facts[digest]

    def _read_facts(self, digest: str) -> ImageFacts:
        body = self.blob(digest)
        doc = json.loads(body)
        media_type = str(doc.get("mediaType", ""))
        if media_type in _INDEX_TYPES:
            children = tuple(
                {
                    "digest": m.get("digest"),
                    "platform": m.get("platform") or {},
                    "annotations": m.get("annotations") or {},
                }
                for m in doc.get("manifests", [])
            )
            return ImageFacts(media_type, len(body), 0, children=children)
        config = doc.get("config", {})
        size = int(config.get("size", 0)) + sum(
            int(la.get("size", 0)) for la in doc.get("layers", [])
        )
        cfg = json.loads(self.blob(config["digest"])) if config.get("digest") else {}
        return ImageFacts(
            media_type,
            len(body),
            size,
            os=cfg.get("os"),
            architecture=cfg.get("architecture"),
            variant=cfg.get("variant"),
            created=cfg.get("created"),
        )
