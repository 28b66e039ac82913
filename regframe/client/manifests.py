"""Turn manifest, index and config bytes into facts: kinds, platforms, sizes and build dates.

Pure functions only: the network layer fetches bytes (bounded by :data:`MAX_MANIFEST_BYTES`
and :data:`MAX_CONFIG_BYTES`) and hands them here.  Every failure on a registry's answer is a
:class:`~regframe.errors.ManifestError`; a ``KeyError`` or ``TypeError`` never escapes for bad
input.  Every digest is checked against the grammar before it is used anywhere, so a
descriptor such as ``sha256:../../x`` can never reach a URL or a cache path.

The supported documents are the OCI image index and manifest, the Docker manifest list and
image manifest v2, and (read-only, for dates) the legacy Docker schema 1 manifest.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeAlias

import pandas as pd

from regframe.errors import InvalidReferenceError, ManifestError

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
    "Platform",
    "Schema1",
    "compute_digest",
    "created_from",
    "image_size",
    "index_platforms",
    "is_attestation",
    "is_digest",
    "parse_config",
    "parse_created",
    "parse_manifest",
    "parse_platform",
    "schema1_payload",
    "select_child",
    "timestamp_from_epoch",
    "validate_digest",
    "verify_digest",
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

# --------------------------------------------------------------------------- digests

_DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")


def is_digest(value: object) -> bool:
    """Tell whether *value* is a supported content digest (``sha256``/``sha512``, lowercase hex).

    Parameters
    ----------
    value
        Anything; only a string of the exact grammar passes.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_digest("sha256:" + "a" * 64), is_digest("sha256:../../x")
    (True, False)
    """
    return isinstance(value, str) and _DIGEST_RE.fullmatch(value) is not None


def validate_digest(value: object, *, what: str = "digest") -> str:
    """Return *value* if it is a supported digest, else raise :class:`ManifestError`.

    ``fullmatch`` is deliberate: ``$`` would accept a trailing newline.

    Parameters
    ----------
    value
        The candidate digest.
    what
        Names the value in the error message (e.g. ``"config digest"``).

    Returns
    -------
    str
        The digest, unchanged.

    Examples
    --------
    >>> validate_digest("sha256:" + "0" * 64) == "sha256:" + "0" * 64
    True
    """
    if not is_digest(value):
        shown = value if isinstance(value, str) and len(value) <= 200 else type(value).__name__
        raise ManifestError(
            f"invalid {what} {shown!r}: expected sha256:<64 hex> or sha512:<128 hex>"
        )
    assert isinstance(value, str)  # narrowed by is_digest; keeps mypy honest
    return value


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    """Return the content digest of *data*.

    Parameters
    ----------
    data
        The exact bytes as received.
    algorithm
        ``"sha256"`` (default) or ``"sha512"``.

    Returns
    -------
    str
        ``"sha256:<hex>"``.

    Examples
    --------
    >>> compute_digest(b"")[:15]
    'sha256:e3b0c442'
    """
    if algorithm not in ("sha256", "sha512"):
        raise ManifestError(f"unsupported digest algorithm {algorithm!r}")
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_digest(data: bytes, digest: str) -> None:
    """Raise :class:`ManifestError` unless *data* hashes to *digest*.

    Parameters
    ----------
    data
        The bytes received.
    digest
        The expected ``sha256:``/``sha512:`` digest.

    Raises
    ------
    ManifestError
        The digest is malformed, or the content does not match (both digests are named).

    Examples
    --------
    >>> verify_digest(b"", compute_digest(b""))  # returns None when the content matches
    """
    validate_digest(digest)
    algorithm = digest.split(":", 1)[0]
    actual = compute_digest(data, algorithm)
    if actual != digest:
        raise ManifestError(f"digest mismatch: expected {digest}, content hashes to {actual}")


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def schema1_payload(data: bytes) -> bytes:
    """Return the signed payload of a libtrust-signed schema 1 manifest.

    The digest registries report for ``...manifest.v1+prettyjws`` is computed over the
    document *without* its ``signatures`` block, reconstructed from ``formatLength`` and
    ``formatTail`` in the protected header (as docker/libtrust do).  Unsigned input is
    returned unchanged.

    Parameters
    ----------
    data
        The manifest bytes as served.

    Returns
    -------
    bytes

    Examples
    --------
    >>> schema1_payload(b'{"schemaVersion": 1}')
    b'{"schemaVersion": 1}'
    """
    try:
        doc = json.loads(data)
        signatures = doc.get("signatures") if isinstance(doc, dict) else None
        if not isinstance(signatures, list) or not signatures:
            return data
        protected = json.loads(_b64url(signatures[0]["protected"]))
        length = protected["formatLength"]
        tail = _b64url(protected["formatTail"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise ManifestError(f"malformed schema 1 signature block: {exc}") from None
    if not isinstance(length, int) or isinstance(length, bool) or not 0 < length <= len(data):
        raise ManifestError("malformed schema 1 signature block: bad formatLength")
    return data[:length] + tail


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True)
class Platform:
    """An OS/architecture/variant triple such as ``linux/arm64/v8``.

    Examples
    --------
    >>> str(Platform("linux", "arm64", "v8"))
    'linux/arm64/v8'
    """

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


@dataclass(frozen=True)
class Descriptor:
    """A reference to a blob or manifest: media type, digest, size, optional platform.

    ``media_type`` is ``""`` when a (non-conforming) document omits it.  ``annotations`` is
    excluded from hashing so descriptors stay hashable.
    """

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Index:
    """An OCI image index or Docker manifest list."""

    media_type: str
    children: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ImageManifest:
    """An OCI image manifest or Docker image manifest v2."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Schema1:
    """What regframe reads from a legacy schema 1 manifest (it carries its config inline)."""

    created: str | None
    architecture: str | None
    os: str | None

    @property
    def created_at(self) -> pd.Timestamp | None:
        """:attr:`created` parsed with :func:`parse_created`."""
        return parse_created(self.created)


Manifest: TypeAlias = Index | ImageManifest | Schema1


@dataclass(frozen=True)
class ImageConfig:
    """The facts regframe uses from an image config blob.

    ``created`` is ``None`` (not ``NaT``) when absent, unparsable, zero or the reproducible
    build epoch; ``pd.isna`` is true for both, and ``None`` keeps ``if created:`` honest.
    """

    created: pd.Timestamp | None
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
        validate_digest(digest)
        try:
            verify_digest(data, digest)
        except ManifestError:
            payload = schema1_payload(data) if b'"signatures"' in data else data
            if payload is data:
                raise
            verify_digest(payload, digest)
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


# --------------------------------------------------------------------------- platforms

_ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
_COMPONENT_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_KNOWN_OS = frozenset(
    {"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos",
     "aix", "android", "ios", "plan9", "js", "wasip1", "dragonfly", "zos"}
)  # fmt: skip
# Same aliases as containerd's platforms.Normalize, so "aarch64" means what users expect.
_ARCH_ALIASES: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "i386": ("386", None),
    "aarch64": ("arm64", None),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7", "amd64": "v1"}


def is_attestation(desc: Descriptor) -> bool:
    """Tell whether an index entry is a BuildKit attestation/provenance manifest, not an image.

    Parameters
    ----------
    desc
        An index child.

    Returns
    -------
    bool
        True for platform ``unknown/unknown`` or a ``vnd.docker.reference.type`` annotation.

    Examples
    --------
    >>> d = Descriptor(OCI_MANIFEST, "sha256:" + "1" * 64, 566, Platform("unknown", "unknown"))
    >>> is_attestation(d)
    True
    """
    if _ATTESTATION_ANNOTATION in desc.annotations:
        return True
    p = desc.platform
    return p is not None and p.os == "unknown" and p.architecture == "unknown"


def parse_platform(value: str | None) -> Platform | None:
    """Parse ``os/arch[/variant]`` (or a bare architecture, meaning Linux).

    Case is folded and containerd's aliases apply (``x86_64`` → ``amd64``, ``aarch64`` →
    ``arm64``, ``armhf`` → ``arm/v7``).  A bare variant number gets its ``v`` (``arm/7`` →
    ``arm/v7``).  The variant is otherwise kept as written; defaults (``arm64`` ↔ ``v8``) are
    applied only when matching, see :func:`select_child`.

    Parameters
    ----------
    value
        ``"linux/amd64"``, ``"linux/arm64/v8"``, ``"windows/amd64"``, ``"arm64"``, or ``None``.

    Returns
    -------
    Platform | None
        ``None`` for ``None`` (meaning "the index's first image").

    Raises
    ------
    InvalidReferenceError
        A malformed string.  It is bad user input, so it is the same (``ValueError``)
        error class that a malformed image reference raises.

    Examples
    --------
    >>> parse_platform("linux/arm64/v8")
    Platform(os='linux', architecture='arm64', variant='v8')
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidReferenceError(f"platform must be a string like 'linux/amd64', got {value!r}")
    parts = value.strip().lower().split("/")
    if not 1 <= len(parts) <= 3 or not all(_COMPONENT_RE.fullmatch(p) for p in parts):
        raise InvalidReferenceError(
            f"invalid platform {value!r}: expected OS/ARCH[/VARIANT], e.g. 'linux/amd64' "
            "or 'linux/arm64/v8'"
        )
    if len(parts) == 1:
        if parts[0] in _KNOWN_OS:
            raise InvalidReferenceError(
                f"invalid platform {value!r}: give an architecture too, e.g. '{parts[0]}/amd64'"
            )
        parts = ["linux", parts[0]]
    os_, arch = parts[0], parts[1]
    variant = parts[2] if len(parts) == 3 else None
    if arch in _ARCH_ALIASES:
        arch, alias_variant = _ARCH_ALIASES[arch]
        variant = variant or alias_variant
    if variant is not None and variant.isdigit():
        variant = "v" + variant
    return Platform(os_, arch, variant)


def _norm_variant(arch: str, variant: str | None) -> str | None:
    if variant and variant.isdigit():
        variant = "v" + variant
    return variant or _DEFAULT_VARIANT.get(arch)


def _variant_rank(variant: str | None) -> int | None:
    if variant and variant[0] == "v" and variant[1:].isdigit():
        return int(variant[1:])
    return None


def select_child(index: Index, platform: Platform | None) -> Descriptor | None:
    """Pick the index entry to read for *platform*, matching the way containerd does.

    OS and architecture must be equal; variants compare after defaults (``arm64`` ≡
    ``arm64/v8``, ``arm`` ≡ ``arm/v7``, ``amd64`` ≡ ``amd64/v1``).  When no entry matches
    exactly, ``arm``/``amd64`` fall back to the highest *lower* variant the machine can run
    (``arm/v7`` runs ``arm/v6``).  Attestations are never returned.

    Parameters
    ----------
    index
        The parsed index.
    platform
        Wanted platform, or ``None`` for the first image entry.

    Returns
    -------
    Descriptor | None
        ``None`` when nothing fits.

    Examples
    --------
    >>> amd = Descriptor(OCI_MANIFEST, "sha256:" + "a" * 64, 1, Platform("linux", "amd64"))
    >>> arm = Descriptor(OCI_MANIFEST, "sha256:" + "b" * 64, 1, Platform("linux", "arm64", "v8"))
    >>> select_child(Index(OCI_INDEX, (amd, arm)), parse_platform("linux/arm64")) is arm
    True
    """
    images = [c for c in index.children if not is_attestation(c)]
    if platform is None:
        return images[0] if images else None
    want_os, want_arch = platform.os.lower(), platform.architecture.lower()
    want_variant = _norm_variant(want_arch, platform.variant)
    want_rank = _variant_rank(want_variant)
    fallback: tuple[int, Descriptor] | None = None
    for child in images:
        p = child.platform
        if p is None or p.os.lower() != want_os or p.architecture.lower() != want_arch:
            continue
        have_variant = _norm_variant(want_arch, p.variant)
        if have_variant == want_variant:
            return child
        rank = _variant_rank(have_variant)
        if (
            want_arch in ("arm", "amd64")
            and rank is not None
            and want_rank is not None
            and rank < want_rank
            and (fallback is None or rank > fallback[0])
        ):
            fallback = (rank, child)
    return fallback[1] if fallback else None


def index_platforms(index: Index) -> str:
    """Comma-join the image platforms of an index in index order (attestations left out).

    Repeated platforms (Windows indexes list one ``windows/amd64`` per OS build) appear once.

    Parameters
    ----------
    index
        The parsed index.

    Returns
    -------
    str
        e.g. ``"linux/amd64,linux/arm64/v8"``; ``""`` if no entry names a platform.

    Examples
    --------
    >>> a = Descriptor(OCI_MANIFEST, "sha256:" + "a" * 64, 1, Platform("linux", "amd64"))
    >>> index_platforms(Index(OCI_INDEX, (a,)))
    'linux/amd64'
    """
    seen: dict[str, None] = {}
    for child in index.children:
        if child.platform is not None and not is_attestation(child):
            seen.setdefault(str(child.platform), None)
    return ",".join(seen)


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


# --------------------------------------------------------------------------- dates

_RFC3339_RE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[Tt ](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:[.,](?P<frac>\d+))?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)
_NS_PER_S = 1_000_000_000
# Build tools that want reproducible output stamp the epoch (SOURCE_DATE_EPOCH=0) or a second
# after it (nixpkgs dockerTools): none of that day is a real build time.
_EARLIEST_NS = 86_400 * _NS_PER_S
_INT64_MAX = 2**63 - 1


def _from_ns(ns: int) -> pd.Timestamp | None:
    if ns < _EARLIEST_NS or ns > _INT64_MAX:
        return None
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def parse_created(value: object) -> pd.Timestamp | None:
    """Parse an RFC 3339 build time exactly, to a UTC nanosecond timestamp.

    Hand-parsed rather than ``pd.Timestamp(value)`` for two reasons: pandas accepts words
    such as ``"now"`` and free-form dates, and integer arithmetic keeps all nine fractional
    digits exact across offsets.  Extra fraction digits are truncated; a missing offset means
    UTC; a bare date (``2024-08-08`` or label-schema's ``20240808``) means midnight UTC.

    Parameters
    ----------
    value
        Usually a string such as ``"2024-08-08T12:34:56.123456789+02:00"``; anything else
        gives ``None``.

    Returns
    -------
    pandas.Timestamp | None
        ``None`` for garbage, Go's zero time, the Unix epoch and anything before
        ``1970-01-02`` (reproducible builds), or beyond pandas' nanosecond range.  Never raises.

    Examples
    --------
    >>> parse_created("2024-08-08T12:34:56.123456789+02:00")
    Timestamp('2024-08-08 10:34:56.123456789+0000', tz='UTC')
    >>> parse_created("0001-01-01T00:00:00Z") is None
    True
    """
    if not isinstance(value, str) or len(value) > 100:
        return None
    text = value.strip()
    if len(text) == 8 and text.isascii() and text.isdigit():
        # yyyymmdd is what CentOS-era images put in org.label-schema.build-date.
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = _RFC3339_RE.fullmatch(text)
    if m is None:
        return None
    try:
        y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
        h, mi, s = int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0)
        if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
            return None
        if h > 23 or mi > 59 or s > 59:  # Go never emits leap seconds
            return None
        seconds = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    frac = (m["frac"] or "")[:9].ljust(9, "0")
    tz = m["tz"]
    if tz and tz not in "Zz":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        tz_h, tz_m = int(digits[:2]), int(digits[2:])
        if tz_h > 23 or tz_m > 59:
            return None
        seconds -= sign * (tz_h * 3600 + tz_m * 60)
    return _from_ns(seconds * _NS_PER_S + int(frac))


_UNIT_NS = {"s": _NS_PER_S, "ms": 1_000_000, "us": 1_000, "ns": 1}


def timestamp_from_epoch(
    value: object, unit: Literal["s", "ms", "us", "ns"] = "s"
) -> pd.Timestamp | None:
    """Convert epoch seconds/milliseconds (Quay ``start_ts``, GCR ``timeUploadedMs``) exactly.

    Decimal arithmetic avoids float rounding; strings of digits are accepted because GCR
    sends ``"1723120496123"``.

    Parameters
    ----------
    value
        An int, float or numeric string.
    unit
        ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``.

    Returns
    -------
    pandas.Timestamp | None
        ``None`` for garbage, zero (Artifact Registry's ``timeCreatedMs: "0"``), values on
        the first day of 1970, or out of range.  Never raises.

    Examples
    --------
    >>> timestamp_from_epoch("1723120496123", "ms")
    Timestamp('2024-08-08 12:34:56.123000+0000', tz='UTC')
    """
    if unit not in _UNIT_NS or isinstance(value, bool):
        return None
    if not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            return None
        ns = int(number * _UNIT_NS[unit])
    except (InvalidOperation, ValueError, OverflowError):
        return None
    return _from_ns(ns)


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
        mismatch.  An unparsable ``created`` is not an error: it becomes ``None``.

    Examples
    --------
    >>> parse_config(b'{"created": "2024-08-08T10:34:56Z", "os": "linux"}').created
    Timestamp('2024-08-08 10:34:56+0000', tz='UTC')
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
        created=parse_created(doc.get("created")),
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
) -> tuple[pd.Timestamp | None, CreatedSource | None]:
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
    tuple[pandas.Timestamp | None, str | None]
        ``(created, source)`` with source ``"config"``, ``"annotation"``, ``"label"``, or
        ``(None, None)``.

    Examples
    --------
    >>> cfg = parse_config(b'{"created": "1970-01-01T00:00:00Z"}')
    >>> created_from(cfg, {"org.opencontainers.image.created": "2024-08-08T10:00:00Z"})[1]
    'annotation'
    """
    if config is not None and config.created is not None:
        return config.created, "config"
    for where in (manifest_annotations, index_annotations):
        if where:
            ts = parse_created(where.get(_CREATED_ANNOTATION))
            if ts is not None:
                return ts, "annotation"
    if config is not None:
        for key in _LABEL_KEYS:
            ts = parse_created(config.labels.get(key))
            if ts is not None:
                return ts, "label"
    return None, None
