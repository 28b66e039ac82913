"""The document model: manifest, index and config bytes parsed into typed, validated documents.

Pure functions only: the network layer fetches bytes (bounded by :data:`MAX_MANIFEST_BYTES`
and :data:`MAX_CONFIG_BYTES`) and hands them here.  Every failure on a registry's answer is a
:class:`~regframe.errors.ManifestError`; a ``KeyError`` or ``TypeError`` never escapes for bad
input.  Descriptor digests go through :func:`regframe.client.digests.validate_digest` before
anything else sees them; platforms and index-entry selection live in
:mod:`regframe.client.platforms`; times stay integers (see :mod:`regframe.parsing.timestamps`).

The supported documents are the OCI image index and manifest, the Docker manifest list and
image manifest v2, and (read-only, for dates) the legacy Docker schema 1 manifest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from regframe.client.digests import validate_digest, verify_digest, verify_manifest_digest
from regframe.client.platforms import Platform
from regframe.errors import ManifestError
from regframe.parsing.timestamps import rfc3339_ns

__all__ = [
    "ACCEPT_MANIFESTS",
    "DOCKER_CONFIG",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_SCHEMA1",
    "DOCKER_SCHEMA1_SIGNED",
    "INDEX_MEDIA_TYPES",
    "MANIFEST_MEDIA_TYPES",
    "MAX_CONFIG_BYTES",
    "MAX_MANIFEST_BYTES",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "SCHEMA1_MEDIA_TYPES",
    "CreatedSource",
    "Descriptor",
    "ImageConfig",
    "ImageManifest",
    "Index",
    "Manifest",
    "Schema1",
    "created_from",
    "image_size",
    "parse_config",
    "parse_manifest",
]

# --------------------------------------------------------------------------- media types

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_MEDIA_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_MEDIA_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})

#: ``Accept`` header for manifest requests.  The four modern types come first with the
#: implicit q=1.  Schema 1 is listed last at q=0.5 because a few old registries (and
#: repositories pushed by docker < 1.10) hold *only* schema 1 and answer 404/406 when it is not
#: acceptable; registries that hold schema 2 check for the modern types first (distribution
#: strips ``;q=`` and tests membership), so listing schema 1 never downgrades an answer.
ACCEPT_MANIFESTS = ", ".join(
    [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_MANIFEST,
        f"{DOCKER_SCHEMA1_SIGNED};q=0.5",
        f"{DOCKER_SCHEMA1};q=0.5",
    ]
)

#: Upper bound for a manifest or index body; the caller stops reading beyond it.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: Upper bound for an image config blob; the caller stops reading beyond it.
MAX_CONFIG_BYTES = 4 * 1024 * 1024

# Content types that say nothing about the manifest kind (old registries send schema 1 as
# application/json; some proxies send octet-stream), so classification falls back to shape.
_GENERIC_CONTENT_TYPES = frozenset(
    {"", "application/json", "text/plain", "application/octet-stream", "binary/octet-stream"}
)

_Kind = Literal["index", "image", "schema1"]

# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class Descriptor:
    """A reference to a blob or manifest: media type, digest, size, optional platform.

    ``media_type`` is ``""`` when a (non-conforming) document omits it.  ``annotations`` is
    excluded from hashing so descriptors stay hashable.

    Examples
    --------
    >>> Descriptor(OCI_CONFIG, "sha256:" + "c" * 64, 1469).size
    1469
    """

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class _Document:
    """What an index and an image manifest both carry besides their own fields.

    ``annotations`` is keyword-only, so that positionally each document's own fields
    follow ``media_type``, and excluded from hashing so documents stay hashable.
    """

    media_type: str
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False, kw_only=True)


@dataclass(frozen=True)
class Index(_Document):
    """An OCI image index or Docker manifest list.

    Examples
    --------
    >>> Index(OCI_INDEX, ()).children
    ()
    """

    children: tuple[Descriptor, ...]


@dataclass(frozen=True)
class ImageManifest(_Document):
    """An OCI image manifest or Docker image manifest v2.

    Examples
    --------
    >>> cfg = Descriptor(OCI_CONFIG, "sha256:" + "c" * 64, 100)
    >>> ImageManifest(OCI_MANIFEST, cfg, ()).config.size
    100
    """

    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True)
class Schema1:
    """What regframe reads from a legacy schema 1 manifest (it carries its config inline).

    Examples
    --------
    >>> Schema1(created="2016-03-01T17:32:05Z", architecture="amd64", os="linux").os
    'linux'
    """

    created: str | None
    architecture: str | None
    os: str | None


Manifest: TypeAlias = Index | ImageManifest | Schema1


@dataclass(frozen=True)
class ImageConfig:
    """The facts regframe uses from an image config blob.

    ``created_ns`` is the build time in nanoseconds since the epoch (UTC), ``None`` when
    absent, unparsable, zero or the reproducible-build epoch (see
    :func:`regframe.parsing.timestamps.rfc3339_ns`).

    Examples
    --------
    >>> ImageConfig(created_ns=None, labels={"maintainer": "x"}).labels["maintainer"]
    'x'
    """

    created_ns: int | None
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    architecture: str | None = None
    os: str | None = None
    variant: str | None = None


CreatedSource = Literal["config", "annotation", "label"]

# --------------------------------------------------------------------------- parsing helpers


def _loads_object(data: bytes, what: str) -> dict[str, Any]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ManifestError(f"{what} must be bytes, got {type(data).__name__}")
    try:
        doc = json.loads(bytes(data))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ManifestError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{what} must be a JSON object, got {type(doc).__name__}")
    return doc


def _opt_str(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ManifestError(f"{where}: {key!r} must be a string, got {type(value).__name__}")


def _annotations(doc: Mapping[str, Any], where: str, key: str = "annotations") -> dict[str, str]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: {key!r} must be an object, got {type(value).__name__}")
    # The spec says string -> string; a stray non-string value should not cost the whole
    # image its metadata, so it is dropped rather than fatal.
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _platform(value: object, where: str) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: 'platform' must be an object")
    os_ = value.get("os")
    arch = value.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str):
        raise ManifestError(f"{where}: platform needs string 'os' and 'architecture'")
    variant = _opt_str(value, "variant", where)
    return Platform(os_, arch, variant or None)


def _descriptor(value: object, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: descriptor must be an object, got {type(value).__name__}")
    media_type = _opt_str(value, "mediaType", where) or ""
    digest = validate_digest(value.get("digest"), what=f"{where} digest")
    size = value.get("size")
    # bool is an int subclass; a JSON true is not a size.
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{where}: 'size' must be a non-negative integer, got {size!r}")
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        platform=_platform(value.get("platform"), where),
        annotations=_annotations(value, where),
    )


def _kind_of_media_type(media_type: str) -> _Kind | None:
    if media_type in INDEX_MEDIA_TYPES:
        return "index"
    if media_type in MANIFEST_MEDIA_TYPES:
        return "image"
    if media_type in SCHEMA1_MEDIA_TYPES:
        return "schema1"
    return None


def _content_type_kind(content_type: str | None) -> tuple[str, _Kind | None]:
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return base, _kind_of_media_type(base)


def _classify(doc: Mapping[str, Any], content_type: str | None) -> tuple[_Kind, str]:
    """Decide the kind from ``mediaType``, then Content-Type, then shape; reject contradictions."""
    has_manifests = "manifests" in doc
    has_layers = "layers" in doc or "config" in doc
    if has_manifests and has_layers:
        raise ManifestError("document has both 'manifests' and 'layers'/'config': ambiguous")

    body_type = _opt_str(doc, "mediaType", "manifest")
    body_kind = _kind_of_media_type(body_type) if body_type else None
    if body_type and body_kind is None:
        raise ManifestError(f"unsupported manifest media type {body_type!r}")

    ct_base, ct_kind = _content_type_kind(content_type)
    if body_kind and ct_kind and body_kind != ct_kind:
        raise ManifestError(
            f"manifest mediaType {body_type!r} contradicts Content-Type {ct_base!r}"
        )

    version = doc.get("schemaVersion")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ManifestError(f"'schemaVersion' must be an integer, got {version!r}")

    if body_kind:
        kind, media_type = body_kind, str(body_type)
    elif ct_kind:
        kind, media_type = ct_kind, ct_base
    elif version == 1 or "fsLayers" in doc:
        kind, media_type = "schema1", DOCKER_SCHEMA1
    elif has_manifests:
        kind, media_type = "index", OCI_INDEX
    elif has_layers:
        kind, media_type = "image", OCI_MANIFEST
    else:
        raise ManifestError(
            f"cannot tell what kind of manifest this is (Content-Type {ct_base or 'missing'!r}, "
            "no mediaType, no manifests/layers)"
        )

    if kind == "schema1" and version not in (None, 1):
        raise ManifestError(f"schema 1 manifest with schemaVersion {version}")
    if kind != "schema1" and version == 1:
        raise ManifestError(f"{media_type} with schemaVersion 1")
    if kind == "schema1" and (has_manifests or has_layers):
        raise ManifestError("schema 1 manifest with 'manifests'/'layers'")
    if kind == "index" and has_layers:
        raise ManifestError(f"{media_type} carries 'layers'/'config'")
    if kind == "image" and has_manifests:
        raise ManifestError(f"{media_type} carries 'manifests'")
    return kind, media_type


def _list_field(doc: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        shown = "missing" if value is None else type(value).__name__
        raise ManifestError(f"{where}: {key!r} must be a list, got {shown}")
    return value


def _parse_schema1(doc: Mapping[str, Any]) -> Schema1:
    history = doc.get("history")
    created: str | None = None
    os_: str | None = None
    if history is not None:
        if not isinstance(history, list):
            raise ManifestError("schema 1 'history' must be a list")
        if history:
            first = history[0]
            raw = first.get("v1Compatibility") if isinstance(first, dict) else None
            if not isinstance(raw, str):
                raise ManifestError("schema 1 history[0].v1Compatibility must be a JSON string")
            try:
                compat = json.loads(raw)
            except (ValueError, RecursionError):
                raise ManifestError("schema 1 history[0].v1Compatibility is not JSON") from None
            if isinstance(compat, dict):
                value = compat.get("created")
                created = value if isinstance(value, str) else None
                value = compat.get("os")
                os_ = value if isinstance(value, str) else None
    return Schema1(
        created=created, architecture=_opt_str(doc, "architecture", "schema 1 manifest"), os=os_
    )


def parse_manifest(
    data: bytes, *, content_type: str | None = None, digest: str | None = None
) -> Manifest:
    """Parse manifest bytes into an :class:`Index`, :class:`ImageManifest` or :class:`Schema1`.

    The kind comes from the body's ``mediaType``, else the Content-Type, else the shape
    (``manifests`` → index, ``layers``/``config`` → image, ``schemaVersion: 1`` → schema 1).

    Parameters
    ----------
    data
        The body exactly as received (at most :data:`MAX_MANIFEST_BYTES`).
    content_type
        The response's Content-Type, parameters allowed; generic types such as
        ``application/json`` carry no information.
    digest
        When given, the content is verified against it first (for a signed schema 1
        manifest either the raw bytes or the JWS payload may match, as registries differ).

    Returns
    -------
    Index | ImageManifest | Schema1

    Raises
    ------
    ManifestError
        Oversized, not JSON, wrong types, contradictory (``mediaType`` vs Content-Type, or
        both ``manifests`` and ``layers``), unsupported media type, bad descriptor digest,
        or digest mismatch.

    Examples
    --------
    >>> body = b'{"schemaVersion": 2, "mediaType": "%s", "manifests": []}' % OCI_INDEX.encode()
    >>> parse_manifest(body, content_type=OCI_INDEX).children
    ()
    """
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"manifest is {len(data)} bytes, larger than {MAX_MANIFEST_BYTES}")
    if digest is not None:
        verify_manifest_digest(data, digest)
    doc = _loads_object(data, "manifest")
    kind, media_type = _classify(doc, content_type)
    if kind == "schema1":
        return _parse_schema1(doc)
    annotations = _annotations(doc, "manifest")
    if kind == "index":
        entries = _list_field(doc, "manifests", "index")
        children = tuple(_descriptor(e, f"manifests[{i}]") for i, e in enumerate(entries))
        return Index(media_type=media_type, children=children, annotations=annotations)
    config = _descriptor(doc.get("config"), "config")
    entries = _list_field(doc, "layers", "manifest")
    layers = tuple(_descriptor(e, f"layers[{i}]") for i, e in enumerate(entries))
    return ImageManifest(
        media_type=media_type, config=config, layers=layers, annotations=annotations
    )


def image_size(manifest: ImageManifest) -> int:
    """Compressed size of an image: config plus layers, as the registry stores it.

    Examples
    --------
    >>> cfg = Descriptor(OCI_CONFIG, "sha256:" + "c" * 64, 100)
    >>> layer = Descriptor("", "sha256:" + "d" * 64, 900)
    >>> image_size(ImageManifest(OCI_MANIFEST, cfg, (layer,)))
    1000
    """
    return manifest.config.size + sum(layer.size for layer in manifest.layers)


# --------------------------------------------------------------------------- image config


def parse_config(data: bytes, *, digest: str | None = None) -> ImageConfig:
    """Read ``created``, labels and platform from an image config blob.

    Parameters
    ----------
    data
        The config bytes (at most :data:`MAX_CONFIG_BYTES`).
    digest
        When given, the content is verified against it first.

    Returns
    -------
    ImageConfig

    Raises
    ------
    ManifestError
        Oversized, not a JSON object, ``config``/``Labels`` of the wrong type, or digest
        mismatch.  An unparsable ``created`` is not an error: ``created_ns`` is ``None``.

    Examples
    --------
    >>> parse_config(b'{"created": "2024-08-08T10:34:56Z", "os": "linux"}').created_ns
    1723113296000000000
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise ManifestError(f"config is {len(data)} bytes, larger than {MAX_CONFIG_BYTES}")
    if digest is not None:
        verify_digest(data, digest)
    doc = _loads_object(data, "image config")
    inner = doc.get("config")
    if inner is not None and not isinstance(inner, dict):
        raise ManifestError("image config: 'config' must be an object")
    labels = _annotations(inner or {}, "image config", key="Labels")

    def text(key: str) -> str | None:
        value = doc.get(key)
        return value if isinstance(value, str) else None

    return ImageConfig(
        created_ns=rfc3339_ns(doc.get("created")),
        labels=labels,
        architecture=text("architecture"),
        os=text("os"),
        variant=text("variant"),
    )


_CREATED_ANNOTATION = "org.opencontainers.image.created"
_LABEL_KEYS = (_CREATED_ANNOTATION, "org.label-schema.build-date")


def created_from(
    config: ImageConfig | None,
    manifest_annotations: Mapping[str, str] | None = None,
    index_annotations: Mapping[str, str] | None = None,
) -> tuple[int | None, CreatedSource | None]:
    """Pick the build time and say where it came from.

    Order: the config's ``created``; the ``org.opencontainers.image.created`` annotation of
    the manifest, then of the index; the config labels ``org.opencontainers.image.created``,
    then ``org.label-schema.build-date``.  Unusable values (zero, epoch, garbage) are skipped,
    so a reproducible build with a real annotation still gets a date.

    Parameters
    ----------
    config
        The parsed config, or ``None`` if it could not be read.
    manifest_annotations, index_annotations
        Annotations of the image manifest and of the index that pointed at it.

    Returns
    -------
    tuple[int | None, str | None]
        ``(created_ns, source)``: nanoseconds since the epoch, and ``"config"``,
        ``"annotation"`` or ``"label"``; ``(None, None)`` when nothing is usable.

    Examples
    --------
    >>> cfg = parse_config(b'{"created": "1970-01-01T00:00:00Z"}')
    >>> created_from(cfg, {"org.opencontainers.image.created": "2024-08-08T10:00:00Z"})[1]
    'annotation'
    """
    if config is not None and config.created_ns is not None:
        return config.created_ns, "config"
    for where in (manifest_annotations, index_annotations):
        if where:
            ts = rfc3339_ns(where.get(_CREATED_ANNOTATION))
            if ts is not None:
                return ts, "annotation"
    if config is not None:
        for key in _LABEL_KEYS:
            ts = rfc3339_ns(config.labels.get(key))
            if ts is not None:
                return ts, "label"
    return None, None
