"""Build OCI and Docker image documents (configs, layers, manifests, indexes) as exact bytes.

Pure functions, no I/O: :class:`regframe.testing.pusher.Pusher` uploads what they build.
Everything is deterministic (canonical JSON, tars with mtime 0), so equal inputs give equal
bytes and therefore equal digests, which is what lets tests and benchmarks predict digests.

Examples
--------
>>> doc = image_documents(created="2024-01-02T03:04:05Z", platform="linux/arm64/v8")
>>> doc.media_type == OCI_MANIFEST, len(doc.blobs)
(True, 2)
>>> json.loads(doc.manifest)["config"]["digest"] == sha256_digest(doc.blobs[0])
True
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

# The library's own platform parser and digest function: one rule each, shared with the client.
from regframe.client.digests import compute_digest
from regframe.client.manifests import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
)
from regframe.client.manifests import DOCKER_MANIFEST_LIST as DOCKER_LIST
from regframe.client.platforms import parse_platform

__all__ = [
    "ATTESTATION_PLATFORM",
    "DOCKER_CONFIG",
    "DOCKER_LAYER",
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "IN_TOTO",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_MANIFEST",
    "AttestationDocuments",
    "ImageDocuments",
    "Media",
    "PlatformSpec",
    "attestation_documents",
    "canonical_json",
    "default_layer",
    "diff_id",
    "image_config",
    "image_documents",
    "index_document",
    "platform_json",
    "sha256_digest",
]

OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"
#: The platform BuildKit gives attestation manifests inside an index.
ATTESTATION_PLATFORM: Mapping[str, str] = {"architecture": "unknown", "os": "unknown"}

Media = Literal["oci", "docker"]
#: ``"linux/arm64/v8"`` or an already built ``{"os": ..., "architecture": ..., "variant": ...}``.
PlatformSpec = str | Mapping[str, str]


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data`` (the library's :func:`compute_digest`).

    Examples
    --------
    >>> sha256_digest(b"")[:15]
    'sha256:e3b0c442'
    """
    return compute_digest(data, "sha256")


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces) so equal inputs give equal digests.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1, 2]})
    b'{"a":[1,2],"b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def platform_json(platform: PlatformSpec) -> dict[str, str]:
    """The ``platform`` object of an index entry for ``platform``.

    Strings go through the library's :func:`~regframe.client.platforms.parse_platform`, so
    the sandbox accepts exactly the platforms ``read_tags(platform=...)`` accepts.

    Examples
    --------
    >>> platform_json("linux/arm64/v8")
    {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}
    >>> platform_json({"os": "linux", "architecture": "amd64"})
    {'os': 'linux', 'architecture': 'amd64'}
    """
    if not isinstance(platform, str):
        return dict(platform)
    parsed = parse_platform(platform)
    assert parsed is not None  # only None in, None out
    out = {"os": parsed.os, "architecture": parsed.architecture}
    if parsed.variant:
        out["variant"] = parsed.variant
    return out


def _created_text(created: str | dt.datetime | None) -> str | None:
    if created is None or isinstance(created, str):
        return created
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    text = created.astimezone(dt.timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def default_layer(platform: Mapping[str, str]) -> bytes:
    """A tiny gzip'd tar, identical for identical platforms (mtime 0 everywhere).

    Examples
    --------
    >>> default_layer({"os": "linux", "architecture": "amd64"})[:2]
    b'\\x1f\\x8b'
    """
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


def diff_id(layer: bytes) -> str:
    """The ``rootfs.diff_ids`` entry of ``layer``: the digest of its uncompressed bytes.

    Examples
    --------
    >>> diff_id(b"not gzip") == sha256_digest(b"not gzip")
    True
    """
    if layer[:2] == b"\x1f\x8b":
        try:
            return sha256_digest(gzip.decompress(layer))
        except (OSError, EOFError):
            pass
    return sha256_digest(layer)


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

    Parameters
    ----------
    created
        Config ``created`` (datetime → RFC 3339 UTC; str used verbatim; None omits it).
    architecture, os, variant
        The config's platform.
    labels
        ``config.Labels``.
    diff_ids
        ``rootfs.diff_ids``.
    config_extra
        Extra top-level members (override the built ones).

    Examples
    --------
    >>> image_config(created=None, architecture="arm64")[:30]
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


def _descriptor(media_type: str, blob: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256_digest(blob), "size": len(blob), **extra}


@dataclass(frozen=True)
class ImageDocuments:
    """A single-platform image: its manifest and the blobs it names (config first).

    Attributes
    ----------
    manifest
        The manifest's exact bytes.
    media_type
        The manifest's media type.
    blobs
        The config blob, then the layers, each to upload before the manifest.
    """

    manifest: bytes
    media_type: str
    blobs: tuple[bytes, ...]

    @property
    def digest(self) -> str:
        """The manifest digest."""
        return sha256_digest(self.manifest)


def image_documents(
    *,
    created: str | dt.datetime | None,
    platform: PlatformSpec = "linux/amd64",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    layers: Sequence[bytes] | None = None,
    media: Media = "oci",
    config_extra: Mapping[str, Any] | None = None,
) -> ImageDocuments:
    """Config, layers and a single-platform manifest over them.

    Parameters
    ----------
    created
        Config ``created`` (see :func:`image_config`).
    platform
        ``"os/arch[/variant]"`` or a platform mapping.
    labels
        ``config.Labels``.
    annotations
        Manifest annotations (OCI only; Docker v2 manifests have none).
    layers
        Layer blobs (gzip'd tars or any bytes); default: one tiny tar per platform.
    media
        ``"oci"`` or ``"docker"`` media types.
    config_extra
        Extra top-level config members.

    Examples
    --------
    >>> doc = image_documents(created=None, media="docker")
    >>> doc.media_type == DOCKER_MANIFEST
    True
    """
    plat = platform_json(platform)
    blobs = list(layers) if layers is not None else [default_layer(plat)]
    config = image_config(
        created=created,
        architecture=plat["architecture"],
        os=plat["os"],
        variant=plat.get("variant"),
        labels=labels,
        diff_ids=[diff_id(b) for b in blobs],
        config_extra=config_extra,
    )
    layer_type = OCI_LAYER if media == "oci" else DOCKER_LAYER
    config_type = OCI_CONFIG if media == "oci" else DOCKER_CONFIG
    media_type = OCI_MANIFEST if media == "oci" else DOCKER_MANIFEST
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": _descriptor(config_type, config),
        "layers": [_descriptor(layer_type, b) for b in blobs],
    }
    if annotations and media == "oci":
        manifest["annotations"] = dict(annotations)
    return ImageDocuments(canonical_json(manifest), media_type, (config, *blobs))


@dataclass(frozen=True)
class AttestationDocuments:
    """A BuildKit-style attestation manifest and its blobs (config, in-toto statement)."""

    manifest: bytes
    blobs: tuple[bytes, ...]
    subject: str
    media_type: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        """The attestation manifest's digest."""
        return sha256_digest(self.manifest)

    def index_entry(self) -> dict[str, Any]:
        """Its entry in an index: platform ``unknown/unknown`` and the reference annotations."""
        return {
            "mediaType": OCI_MANIFEST,
            "digest": self.digest,
            "size": len(self.manifest),
            "platform": dict(ATTESTATION_PLATFORM),
            "annotations": {
                "vnd.docker.reference.digest": self.subject,
                "vnd.docker.reference.type": "attestation-manifest",
            },
        }


def attestation_documents(repo: str, subject: str) -> AttestationDocuments:
    """A BuildKit-style attestation manifest for the image ``subject`` of ``repo``.

    The in-toto statement and config blobs are the same for every subject (so a repository
    uploads them once: seeding stays fast); the manifest names its subject in an
    annotation, so each child gets its own attestation digest, as with BuildKit.

    Examples
    --------
    >>> a = attestation_documents("demo/app", "sha256:" + "a" * 64)
    >>> b = attestation_documents("demo/app", "sha256:" + "b" * 64)
    >>> a.blobs == b.blobs, a.digest == b.digest
    (True, False)
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
        "config": _descriptor(OCI_CONFIG, config),
        "layers": [
            _descriptor(
                IN_TOTO,
                statement,
                annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"},
            )
        ],
        "annotations": {
            "vnd.docker.reference.digest": subject,
            "vnd.docker.reference.type": "attestation-manifest",
        },
    }
    return AttestationDocuments(canonical_json(manifest), (config, statement), subject)


def index_document(
    entries: Sequence[Mapping[str, Any]],
    *,
    media: Media = "oci",
    annotations: Mapping[str, str] | None = None,
) -> tuple[bytes, str]:
    """An image index (OCI) or manifest list (Docker) over ``entries``; returns (bytes, type).

    Parameters
    ----------
    entries
        Index entries: ``{"mediaType", "digest", "size", "platform"[, "annotations"]}``.
    media
        ``"oci"`` or ``"docker"``.
    annotations
        Index annotations (OCI only).

    Examples
    --------
    >>> body, media_type = index_document([], media="docker")
    >>> media_type == DOCKER_LIST, json.loads(body)["manifests"]
    (True, [])
    """
    media_type = OCI_INDEX if media == "oci" else DOCKER_LIST
    index: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [dict(e) for e in entries],
    }
    if annotations and media == "oci":
        index["annotations"] = dict(annotations)
    return canonical_json(index), media_type
