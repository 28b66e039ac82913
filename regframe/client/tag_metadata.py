"""One tag's ``dates=True`` facts as a typed record, shared by the bulk tag APIs and the resolver.

A :class:`TagMetadata` is what the frame layer turns into one row of the ``digest,
media_type, platforms, created, created_source, pushed, pushed_source, size, error``
columns.  It is filled either by a registry's own tag API (:mod:`regframe.client.tag_apis`)
or by following the manifest chain (:mod:`regframe.frame.resolve`); the same record, keyed
by digest and platform, is what the digest cache keeps between runs.  Times are integer
nanoseconds since the epoch (UTC) so this layer needs no pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["CREATED_SOURCES", "PUSHED_SOURCES", "TagMetadata"]

#: Where a ``created`` value (always a *build* time) came from, in the order of the
#: ``created_source`` categories: the image config, an OCI annotation, a config label,
#: GCR's ``timeCreatedMs`` (the build time GCR read from the config when it was pushed), or
#: Harbor's ``extra_attrs.created`` (likewise copied from the config by Harbor).
CREATED_SOURCES: Final = ("config", "annotation", "label", "gcr", "harbor")
#: Which registry API a ``pushed`` value (the registry's own *push* time of the tag or its
#: digest) came from, in the order of the ``pushed_source`` categories.  ``ghcr`` is the
#: first push of the digest, not of the tag (GitHub's packages API knows no tag times).
PUSHED_SOURCES: Final = ("hub", "quay", "gcr", "harbor", "ecr-public", "ghcr", "acr", "gitlab")


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _opt_labels(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


@dataclass
class TagMetadata:
    """The ``dates=True`` facts of one tag (or of one manifest digest for one platform).

    Attributes
    ----------
    digest
        The tag's top-level manifest digest.
    media_type
        Media type of that manifest.
    platforms
        Comma-joined image platforms of an index (or the one image's platform).
    created_ns
        Build time in nanoseconds since the epoch, UTC: when the image was built, never
        when it reached a registry.
    created_source
        One of :data:`CREATED_SOURCES`; ``None`` exactly when ``created_ns`` is.
    pushed_ns
        The registry's own push time of the tag (or of its digest), nanoseconds since the
        epoch, UTC; ``None`` where no registry API says it.
    pushed_source
        One of :data:`PUSHED_SOURCES`; ``None`` exactly when ``pushed_ns`` is.
    size
        Compressed size in bytes (config plus layers).
    error
        Why the facts are incomplete, or ``None``.
    attested
        The index carries an attestation manifest (BuildKit provenance/SBOM) for the
        selected image; ``False`` for a single image; ``None`` when unknown (a tag API).
    labels
        The selected image's config labels (``None`` when not read).
    revision, source, image_version
        The OCI ``org.opencontainers.image.revision`` / ``.source`` / ``.version`` values,
        from the config labels, else the manifest annotations, else the index annotations.

    Examples
    --------
    >>> TagMetadata(pushed_ns=1, pushed_source="hub").created_ns is None
    True
    """

    digest: str | None = None
    media_type: str | None = None
    platforms: str | None = None
    created_ns: int | None = None
    created_source: str | None = None
    pushed_ns: int | None = None
    pushed_source: str | None = None
    size: int | None = None
    error: str | None = None
    attested: bool | None = None
    labels: dict[str, str] | None = None
    revision: str | None = None
    source: str | None = None
    image_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The cacheable facts (everything but ``digest`` and ``error``) as a JSON object.

        Examples
        --------
        >>> TagMetadata(media_type="x/y", size=3).to_json()["size"]
        3
        """
        return {
            "media_type": self.media_type,
            "platforms": self.platforms,
            "created_ns": self.created_ns,
            "created_source": self.created_source,
            "pushed_ns": self.pushed_ns,
            "pushed_source": self.pushed_source,
            "size": self.size,
            "attested": self.attested,
            "labels": self.labels,
            "revision": self.revision,
            "source": self.source,
            "image_version": self.image_version,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TagMetadata:
        """Read :meth:`to_json`'s output back; values of the wrong type become ``None``.

        Examples
        --------
        >>> TagMetadata.from_json({"size": "3", "created_ns": 5}).size is None
        True
        """
        return cls(
            media_type=_opt_str(doc.get("media_type")),
            platforms=_opt_str(doc.get("platforms")),
            created_ns=_opt_int(doc.get("created_ns")),
            created_source=_opt_str(doc.get("created_source")),
            pushed_ns=_opt_int(doc.get("pushed_ns")),
            pushed_source=_opt_str(doc.get("pushed_source")),
            size=_opt_int(doc.get("size")),
            attested=doc.get("attested") if isinstance(doc.get("attested"), bool) else None,
            labels=_opt_labels(doc.get("labels")),
            revision=_opt_str(doc.get("revision")),
            source=_opt_str(doc.get("source")),
            image_version=_opt_str(doc.get("image_version")),
        )
