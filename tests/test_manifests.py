"""Tests for the document model, digests, platforms and build-time parsing of regframe.client.

Covers :mod:`regframe.client.manifests`, :mod:`regframe.client.digests`,
:mod:`regframe.client.platforms` and :mod:`regframe.parsing.timestamps`.

The fixtures mirror real documents: a BuildKit multi-arch OCI index with provenance
attestations, the Docker manifest list of an official image (arm/v5..v8, Windows builds),
Docker v2 and OCI image manifests, a libtrust-signed schema 1 manifest and configs as docker,
BuildKit, distroless/ko (epoch) and nixpkgs (epoch + 1 s) write them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regframe.client.digests import compute_digest, is_digest, schema1_payload, verify_digest
from regframe.client.manifests import (
    ACCEPT_MANIFESTS,
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_SCHEMA1,
    DOCKER_SCHEMA1_SIGNED,
    MAX_CONFIG_BYTES,
    MAX_MANIFEST_BYTES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    ImageConfig,
    ImageManifest,
    Index,
    Schema1,
    created_from,
    image_size,
    parse_config,
    parse_manifest,
)
from regframe.client.platforms import (
    Platform,
    index_platforms,
    is_attestation,
    parse_platform,
    select_child,
)
from regframe.errors import InvalidReferenceError, ManifestError, RegframeError
from regframe.parsing.timestamps import EpochUnit, epoch_ns, rfc3339_ns


def ts(ns: int | None) -> pd.Timestamp | None:
    """Nanoseconds since the epoch as a UTC timestamp, so assertions read as dates."""
    return None if ns is None else pd.Timestamp(ns, unit="ns", tz="UTC")


def parse_created(value: object) -> pd.Timestamp | None:
    return ts(rfc3339_ns(value))


def timestamp_from_epoch(value: object, unit: EpochUnit = "s") -> pd.Timestamp | None:
    return ts(epoch_ns(value, unit))


def sha(label: str) -> str:
    """A well-formed, distinct sha256 digest per label (content irrelevant for descriptors)."""
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=2).encode()


GZIP_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# What `docker buildx build --platform linux/amd64,linux/arm64 --provenance=true --push` makes.
BUILDKIT_INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": OCI_INDEX,
    "manifests": [
        {
            "mediaType": OCI_MANIFEST,
            "digest": sha("amd64"),
            "size": 1612,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": sha("arm64"),
            "size": 1612,
            "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": sha("att-amd64"),
            "size": 566,
            "annotations": {
                "vnd.docker.reference.digest": sha("amd64"),
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": sha("att-arm64"),
            "size": 566,
            "annotations": {
                "vnd.docker.reference.digest": sha("arm64"),
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        },
    ],
    "annotations": {"org.opencontainers.image.created": "2024-08-08T10:00:00Z"},
}


def _docker_entry(
    label: str, arch: str, variant: str | None = None, **extra: Any
) -> dict[str, Any]:
    platform: dict[str, Any] = {"architecture": arch, "os": extra.pop("os", "linux")}
    if variant:
        platform["variant"] = variant
    platform.update(extra)
    return {"mediaType": DOCKER_MANIFEST, "size": 1570, "digest": sha(label), "platform": platform}


# Shape of an official-image manifest list (e.g. library/python), plus a Windows build.
MANIFEST_LIST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": DOCKER_MANIFEST_LIST,
    "manifests": [
        _docker_entry("l-amd64", "amd64"),
        _docker_entry("l-armv5", "arm", "v5"),
        _docker_entry("l-armv7", "arm", "v7"),
        _docker_entry("l-arm64", "arm64", "v8"),
        _docker_entry("l-386", "386"),
        _docker_entry("l-ppc64le", "ppc64le"),
        _docker_entry("l-s390x", "s390x"),
        _docker_entry("w-ltsc2022", "amd64", os="windows", **{"os.version": "10.0.20348.2655"}),
        _docker_entry("w-1809", "amd64", os="windows", **{"os.version": "10.0.17763.6189"}),
    ],
}

DOCKER_V2: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": DOCKER_MANIFEST,
    "config": {"mediaType": DOCKER_CONFIG, "size": 7023, "digest": sha("cfg")},
    "layers": [
        {"mediaType": GZIP_LAYER, "size": 29126484, "digest": sha("layer0")},
        {"mediaType": GZIP_LAYER, "size": 3511731, "digest": sha("layer1")},
        {"mediaType": GZIP_LAYER, "size": 12245410, "digest": sha("layer2")},
    ],
}

OCI_IMAGE: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": OCI_MANIFEST,
    "config": {"mediaType": OCI_CONFIG, "digest": sha("oci-cfg"), "size": 2510},
    "layers": [{"mediaType": OCI_LAYER, "digest": sha("oci-layer"), "size": 3623807}],
    "annotations": {
        "org.opencontainers.image.created": "2024-08-07T09:08:07.654321Z",
        "org.opencontainers.image.base.name": "docker.io/library/alpine:3.20",
    },
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_schema1() -> tuple[bytes, bytes]:
    """A libtrust-signed schema 1 manifest and its payload (what its digest is computed over)."""
    compat = {
        "id": "b" * 64,
        "parent": "c" * 64,
        "created": "2016-03-01T17:32:05.171534223Z",
        "os": "linux",
        "architecture": "amd64",
        "config": {"Labels": {}},
    }
    doc = {
        "schemaVersion": 1,
        "name": "library/busybox",
        "tag": "1.24",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": sha("fs0")}, {"blobSum": sha("fs1")}],
        "history": [
            {"v1Compatibility": json.dumps(compat)},
            {"v1Compatibility": json.dumps({"id": "c" * 64, "created": "2016-03-01T17:30:00Z"})},
        ],
    }
    payload = json.dumps(doc, indent=3).encode()
    cut = payload.rindex(b"\n}")
    protected = {"formatLength": cut, "formatTail": _b64url(payload[cut:]), "time": "2016-03-01"}
    signatures = [
        {
            "header": {"jwk": {"crv": "P-256", "kty": "EC", "x": "x", "y": "y"}, "alg": "ES256"},
            "signature": "c2lnbmF0dXJl",
            "protected": _b64url(json.dumps(protected).encode()),
        }
    ]
    block = b',\n   "signatures": ' + json.dumps(signatures, indent=3).encode()
    return payload[:cut] + block + payload[cut:], payload


# --------------------------------------------------------------------------- digests


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (sha("x"), True),
        ("sha512:" + hashlib.sha512(b"x").hexdigest(), True),
        ("sha256:" + "A" * 64, False),  # uppercase hex is not canonical
        ("sha256:" + "a" * 63, False),
        ("sha256:" + "a" * 65, False),
        ("sha256:../../x", False),
        (sha("x") + "\n", False),  # `$` would have allowed this
        ("sha512:" + "a" * 64, False),
        ("md5:" + "a" * 32, False),
        ("a" * 64, False),
        (None, False),
        (123, False),
    ],
)
def test_digest_grammar(value: object, ok: bool) -> None:
    assert is_digest(value) is ok


def test_verify_digest_accepts_sha256_and_sha512() -> None:
    data = b'{"schemaVersion": 2}'
    verify_digest(data, "sha256:" + hashlib.sha256(data).hexdigest())
    verify_digest(data, "sha512:" + hashlib.sha512(data).hexdigest())
    assert compute_digest(data) == "sha256:" + hashlib.sha256(data).hexdigest()
    assert compute_digest(data, "sha512") == "sha512:" + hashlib.sha512(data).hexdigest()


def test_verify_digest_mismatch_names_both_digests() -> None:
    data = b"tampered"
    expected = sha("original")
    with pytest.raises(ManifestError) as info:
        verify_digest(data, expected)
    assert expected in str(info.value)
    assert hashlib.sha256(data).hexdigest() in str(info.value)


def test_verify_digest_rejects_malformed_digest() -> None:
    with pytest.raises(ManifestError, match="invalid digest"):
        verify_digest(b"x", "sha256:../../x")


# --------------------------------------------------------------------------- classification


def test_buildkit_index_with_attestations() -> None:
    index = parse_manifest(dump(BUILDKIT_INDEX), content_type=OCI_INDEX, digest=None)
    assert isinstance(index, Index)
    assert index.media_type == OCI_INDEX
    assert [c.digest for c in index.children] == [m["digest"] for m in BUILDKIT_INDEX["manifests"]]
    assert [is_attestation(c) for c in index.children] == [False, False, True, True]
    assert index.children[1].platform == Platform("linux", "arm64", "v8")
    assert index.annotations["org.opencontainers.image.created"] == "2024-08-08T10:00:00Z"
    assert index_platforms(index) == "linux/amd64,linux/arm64/v8"


def test_attestation_detected_by_annotation_alone() -> None:
    desc = Descriptor(
        OCI_MANIFEST,
        sha("a"),
        10,
        Platform("linux", "amd64"),
        {"vnd.docker.reference.type": "attestation-manifest"},
    )
    assert is_attestation(desc)
    assert not is_attestation(Descriptor(OCI_MANIFEST, sha("b"), 10, Platform("linux", "amd64")))
    assert not is_attestation(Descriptor(OCI_MANIFEST, sha("c"), 10, None))


def test_manifest_list_platforms_and_windows_dedup() -> None:
    index = parse_manifest(dump(MANIFEST_LIST), content_type=DOCKER_MANIFEST_LIST, digest=None)
    assert isinstance(index, Index)
    assert index.media_type == DOCKER_MANIFEST_LIST
    assert index_platforms(index) == (
        "linux/amd64,linux/arm/v5,linux/arm/v7,linux/arm64/v8,linux/386,linux/ppc64le,"
        "linux/s390x,windows/amd64"
    )


def test_docker_v2_manifest_and_size() -> None:
    manifest = parse_manifest(dump(DOCKER_V2), content_type=DOCKER_MANIFEST, digest=None)
    assert isinstance(manifest, ImageManifest)
    assert manifest.media_type == DOCKER_MANIFEST
    assert manifest.config.media_type == DOCKER_CONFIG
    assert manifest.config.digest == sha("cfg")
    assert len(manifest.layers) == 3
    expected = DOCKER_V2["config"]["size"] + sum(layer["size"] for layer in DOCKER_V2["layers"])
    assert image_size(manifest) == expected


def test_oci_manifest_with_generic_content_type_and_annotations() -> None:
    manifest = parse_manifest(
        dump(OCI_IMAGE), content_type="application/json; charset=utf-8", digest=None
    )
    assert isinstance(manifest, ImageManifest)
    assert manifest.media_type == OCI_MANIFEST
    assert manifest.annotations == OCI_IMAGE["annotations"]


def test_content_type_parameters_are_ignored() -> None:
    manifest = parse_manifest(
        dump(DOCKER_V2), content_type=f"{DOCKER_MANIFEST}; charset=utf-8", digest=None
    )
    assert isinstance(manifest, ImageManifest)


def test_kind_from_content_type_when_body_has_no_media_type() -> None:
    doc = {k: v for k, v in BUILDKIT_INDEX.items() if k != "mediaType"}
    index = parse_manifest(dump(doc), content_type=DOCKER_MANIFEST_LIST, digest=None)
    assert isinstance(index, Index)
    assert index.media_type == DOCKER_MANIFEST_LIST


@pytest.mark.parametrize(
    ("doc", "expected_type", "expected_media"),
    [
        ({k: v for k, v in BUILDKIT_INDEX.items() if k != "mediaType"}, Index, OCI_INDEX),
        ({k: v for k, v in OCI_IMAGE.items() if k != "mediaType"}, ImageManifest, OCI_MANIFEST),
    ],
)
def test_kind_from_shape_as_last_resort(
    doc: dict[str, Any], expected_type: type, expected_media: str
) -> None:
    result = parse_manifest(dump(doc), content_type=None, digest=None)
    assert isinstance(result, expected_type)
    assert getattr(result, "media_type", None) == expected_media


def test_same_kind_different_flavour_is_not_a_contradiction() -> None:
    # Some registries label an OCI index with the Docker list type; both are indexes.
    index = parse_manifest(dump(BUILDKIT_INDEX), content_type=DOCKER_MANIFEST_LIST, digest=None)
    assert isinstance(index, Index)
    assert index.media_type == OCI_INDEX  # the body's own mediaType wins


@pytest.mark.parametrize(
    ("doc", "content_type", "message"),
    [
        (BUILDKIT_INDEX, DOCKER_MANIFEST, "contradicts"),
        (DOCKER_V2, OCI_INDEX, "contradicts"),
        (DOCKER_V2, DOCKER_SCHEMA1_SIGNED, "contradicts"),
        ({**BUILDKIT_INDEX, "layers": []}, OCI_INDEX, "both"),
        ({**OCI_IMAGE, "manifests": []}, None, "both"),
        ({**DOCKER_V2, "schemaVersion": 1}, None, "schemaVersion 1"),
        ({**DOCKER_V2, "mediaType": "application/vnd.oci.artifact.manifest.v1+json"}, None,
         "unsupported"),
        ({"schemaVersion": 2}, "application/json", "cannot tell"),
    ],
)  # fmt: skip
def test_contradictions_and_unknown_kinds(
    doc: dict[str, Any], content_type: str | None, message: str
) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_manifest(dump(doc), content_type=content_type, digest=None)


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


@pytest.mark.parametrize(
    ("base", "mutate"),
    [
        (DOCKER_V2, _set(["layers"], {"0": "x"})),
        (DOCKER_V2, _delete(["layers"])),
        (DOCKER_V2, _delete(["config"])),
        (DOCKER_V2, _set(["config"], "sha256:abc")),
        (DOCKER_V2, _set(["config", "size"], "7023")),
        (DOCKER_V2, _set(["config", "size"], True)),
        (DOCKER_V2, _set(["config", "size"], -1)),
        (DOCKER_V2, _set(["config", "size"], 1.5)),
        (DOCKER_V2, _delete(["layers", 0, "digest"])),
        (DOCKER_V2, _set(["layers", 1, "digest"], "sha256:../../etc/passwd")),
        (DOCKER_V2, _set(["layers", 1, "digest"], "sha256:" + "F" * 64)),
        (DOCKER_V2, _set(["layers", 2], "not a descriptor")),
        (DOCKER_V2, _set(["mediaType"], 42)),
        (DOCKER_V2, _set(["schemaVersion"], "2")),
        (OCI_IMAGE, _set(["annotations"], ["org.opencontainers.image.created"])),
        (BUILDKIT_INDEX, _set(["manifests"], {"amd64": {}})),
        (BUILDKIT_INDEX, _set(["manifests", 0, "platform"], "linux/amd64")),
        (BUILDKIT_INDEX, _delete(["manifests", 0, "platform", "architecture"])),
        (BUILDKIT_INDEX, _set(["manifests", 1, "platform", "variant"], 8)),
        (BUILDKIT_INDEX, _set(["manifests", 0, "digest"], "sha256:../../x")),
    ],
)
def test_wrong_types_raise_manifest_error(
    base: dict[str, Any], mutate: Callable[[dict[str, Any]], None]
) -> None:
    doc = copy.deepcopy(base)
    mutate(doc)
    with pytest.raises(ManifestError):
        parse_manifest(dump(doc), content_type=None, digest=None)


@pytest.mark.parametrize(
    "data",
    [b"", b"<html>502 Bad Gateway</html>", b"[]", b'"manifest"', b"\xff\xfe\xfa", b"[" * 100_000],
)
def test_non_json_and_non_objects(data: bytes) -> None:
    with pytest.raises(ManifestError):
        parse_manifest(data, content_type=OCI_MANIFEST, digest=None)


def test_manifest_errors_are_regframe_errors() -> None:
    with pytest.raises(RegframeError):
        parse_manifest(b"{", content_type=None, digest=None)


def test_missing_descriptor_media_type_is_tolerated() -> None:
    doc = copy.deepcopy(BUILDKIT_INDEX)
    del doc["manifests"][0]["mediaType"]
    index = parse_manifest(dump(doc), content_type=None, digest=None)
    assert isinstance(index, Index)
    assert index.children[0].media_type == ""


def test_non_string_annotation_values_are_dropped_not_fatal() -> None:
    doc = copy.deepcopy(OCI_IMAGE)
    doc["annotations"]["com.example.count"] = 3
    manifest = parse_manifest(dump(doc), content_type=None, digest=None)
    assert isinstance(manifest, ImageManifest)
    assert "com.example.count" not in manifest.annotations
    assert "org.opencontainers.image.created" in manifest.annotations


def test_parse_manifest_verifies_digest() -> None:
    data = dump(DOCKER_V2)
    good = "sha256:" + hashlib.sha256(data).hexdigest()
    assert isinstance(parse_manifest(data, content_type=None, digest=good), ImageManifest)
    with pytest.raises(ManifestError, match="mismatch"):
        parse_manifest(data + b" ", content_type=None, digest=good)
    with pytest.raises(ManifestError, match="invalid"):
        parse_manifest(data, content_type=None, digest="sha256:../../x")


def test_size_limits_are_four_mib_and_enforced() -> None:
    assert MAX_MANIFEST_BYTES == 4 * 1024 * 1024
    assert MAX_CONFIG_BYTES == 4 * 1024 * 1024
    padded = dump(DOCKER_V2)[:-1] + b" " * MAX_MANIFEST_BYTES + b"}"
    with pytest.raises(ManifestError, match="larger"):
        parse_manifest(padded, content_type=None, digest=None)
    with pytest.raises(ManifestError, match="larger"):
        parse_config(b"{" + b" " * MAX_CONFIG_BYTES + b"}")


def test_accept_header_prefers_modern_types() -> None:
    entries = [part.strip() for part in ACCEPT_MANIFESTS.split(",")]
    types = [e.split(";")[0] for e in entries]
    modern = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST]
    assert types[:4] == modern
    assert all(";" not in e for e in entries[:4])  # q=1
    for entry in entries[4:]:
        assert entry.split(";")[0] in (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED)
        assert float(entry.split("q=")[1]) < 1


# --------------------------------------------------------------------------- schema 1


def test_signed_schema1_digest_is_over_the_payload() -> None:
    signed, payload = signed_schema1()
    assert schema1_payload(signed) == payload
    digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    result = parse_manifest(signed, content_type=DOCKER_SCHEMA1_SIGNED, digest=digest)
    assert isinstance(result, Schema1)
    assert result.created == "2016-03-01T17:32:05.171534223Z"
    assert result.architecture == "amd64"
    assert result.os == "linux"
    assert parse_created(result.created) == pd.Timestamp("2016-03-01T17:32:05.171534223Z")
    with pytest.raises(ManifestError, match="mismatch"):
        parse_manifest(signed, content_type=DOCKER_SCHEMA1_SIGNED, digest=sha("other"))


def test_unsigned_schema1_detected_from_application_json() -> None:
    _, payload = signed_schema1()
    result = parse_manifest(payload, content_type="application/json", digest=None)
    assert isinstance(result, Schema1)
    assert result.created == "2016-03-01T17:32:05.171534223Z"


@pytest.mark.parametrize(
    "history",
    [
        {"v1Compatibility": "{}"},
        [{"v1Compatibility": {"created": "x"}}],
        [{"v1Compatibility": "{"}],
    ],
)
def test_schema1_bad_history(history: Any) -> None:
    doc = {"schemaVersion": 1, "mediaType": DOCKER_SCHEMA1, "fsLayers": [], "history": history}
    with pytest.raises(ManifestError):
        parse_manifest(dump(doc), content_type=None, digest=None)


def test_schema1_with_broken_signature_block() -> None:
    signed, _ = signed_schema1()
    broken = signed.replace(b'"protected": "', b'"protected": "!!')
    with pytest.raises(ManifestError):
        parse_manifest(broken, content_type=DOCKER_SCHEMA1_SIGNED, digest=sha("whatever"))


# --------------------------------------------------------------------------- platforms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
        ("linux/arm/v7", Platform("linux", "arm", "v7")),
        ("windows/amd64", Platform("windows", "amd64")),
        (" Linux/AMD64 ", Platform("linux", "amd64")),
        ("linux/arm/7", Platform("linux", "arm", "v7")),
        ("linux/x86_64", Platform("linux", "amd64")),
        ("linux/aarch64", Platform("linux", "arm64")),
        ("linux/armhf", Platform("linux", "arm", "v7")),
        ("arm64", Platform("linux", "arm64")),
        (None, None),
    ],
)
def test_parse_platform(text: str | None, expected: Platform | None) -> None:
    assert parse_platform(text) == expected


@pytest.mark.parametrize(
    "text", ["", "linux", "linux/", "/amd64", "linux/amd64/v8/extra", "linux/amd 64", "../x"]
)
def test_parse_platform_rejects_garbage(text: str) -> None:
    with pytest.raises(InvalidReferenceError, match="platform"):
        parse_platform(text)
    with pytest.raises(ValueError, match="platform"):  # also catchable as plain bad input
        parse_platform(text)


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        (Platform("linux", "amd64"), "linux/amd64"),
        (Platform("linux", "arm64", "v8"), "linux/arm64/v8"),
        (Platform("windows", "amd64", ""), "windows/amd64"),
    ],
)
def test_platform_str(platform: Platform, expected: str) -> None:
    assert str(platform) == expected
    assert parse_platform(expected) == Platform(platform.os, platform.architecture,
                                                platform.variant or None)  # fmt: skip


def _index(*platforms: tuple[str, ...]) -> Index:
    children = tuple(Descriptor(OCI_MANIFEST, sha("/".join(p)), 1, Platform(*p)) for p in platforms)
    return Index(OCI_INDEX, children)


@pytest.mark.parametrize(
    ("children", "wanted", "expected"),
    [
        ([("linux", "arm64", "v8")], "linux/arm64", ("linux", "arm64", "v8")),
        ([("linux", "arm64")], "linux/arm64/v8", ("linux", "arm64")),
        ([("linux", "arm64", "8")], "linux/arm64/v8", ("linux", "arm64", "8")),
        ([("linux", "arm", "v7")], "linux/arm", ("linux", "arm", "v7")),
        ([("linux", "arm")], "linux/arm/v7", ("linux", "arm")),
        ([("linux", "arm", "v5"), ("linux", "arm", "v7")], "linux/arm/v6", ("linux", "arm", "v5")),
        ([("linux", "arm", "v5"), ("linux", "arm", "v6")], "linux/arm/v7", ("linux", "arm", "v6")),
        ([("linux", "arm", "v7")], "linux/arm/v6", None),  # v6 cannot run v7 code
        ([("linux", "amd64", "v3")], "linux/amd64", None),  # baseline cannot run v3
        ([("linux", "amd64"), ("linux", "amd64", "v3")], "linux/amd64/v3",
         ("linux", "amd64", "v3")),
        ([("linux", "amd64", "v2")], "linux/amd64/v3", ("linux", "amd64", "v2")),
        ([("linux", "arm64", "v8")], "linux/arm/v7", None),
        ([("linux", "amd64")], "windows/amd64", None),
        ([("linux", "amd64")], "linux/riscv64", None),
    ],
)  # fmt: skip
def test_select_child_variant_normalisation(
    children: list[tuple[str, ...]], wanted: str, expected: tuple[str, ...] | None
) -> None:
    chosen = select_child(_index(*children), parse_platform(wanted))
    if expected is None:
        assert chosen is None
    else:
        assert chosen is not None
        assert chosen.platform == Platform(*expected)


def test_select_child_on_real_shaped_indexes() -> None:
    buildkit = parse_manifest(dump(BUILDKIT_INDEX), content_type=None, digest=None)
    docker = parse_manifest(dump(MANIFEST_LIST), content_type=None, digest=None)
    assert isinstance(buildkit, Index)
    assert isinstance(docker, Index)

    def pick(index: Index, wanted: str | None) -> str | None:
        child = select_child(index, parse_platform(wanted))
        return None if child is None else child.digest

    assert pick(buildkit, "linux/amd64") == sha("amd64")
    assert pick(buildkit, "linux/arm64") == sha("arm64")
    assert pick(buildkit, "linux/arm64/v8") == sha("arm64")
    assert pick(buildkit, "linux/s390x") is None
    assert pick(docker, "linux/arm/v7") == sha("l-armv7")
    assert pick(docker, "linux/arm64") == sha("l-arm64")
    assert pick(docker, "windows/amd64") == sha("w-ltsc2022")  # first Windows build listed
    assert pick(docker, None) == sha("l-amd64")


def test_select_child_never_returns_an_attestation() -> None:
    doc = copy.deepcopy(BUILDKIT_INDEX)
    doc["manifests"] = doc["manifests"][2:] + doc["manifests"][:2]  # attestations first
    index = parse_manifest(dump(doc), content_type=None, digest=None)
    assert isinstance(index, Index)
    first = select_child(index, None)
    assert first is not None
    assert first.digest == sha("amd64")
    assert select_child(index, Platform("unknown", "unknown")) is None
    only_attestations = Index(OCI_INDEX, index.children[:2])
    assert select_child(only_attestations, None) is None
    assert index_platforms(only_attestations) == ""


def test_descriptors_are_hashable_despite_annotations() -> None:
    index = parse_manifest(dump(BUILDKIT_INDEX), content_type=None, digest=None)
    assert isinstance(index, Index)
    assert len(set(index.children)) == 4


# --------------------------------------------------------------------------- dates


def test_parse_created_keeps_nanoseconds_across_offsets() -> None:
    ts = parse_created("2024-08-08T12:34:56.123456789+02:00")
    assert ts is not None
    assert ts.isoformat() == "2024-08-08T10:34:56.123456789+00:00"
    assert ts.nanosecond == 789
    assert str(ts.tz) == "UTC"
    assert ts.unit == "ns"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-08-08T10:34:56Z", "2024-08-08T10:34:56+00:00"),
        ("2024-08-08T10:34:56.5z", "2024-08-08T10:34:56.500000+00:00"),
        ("2024-08-07T23:30:00-05:00", "2024-08-08T04:30:00+00:00"),
        ("2024-08-08T01:00:00+0530", "2024-08-07T19:30:00+00:00"),
        ("2024-08-08 10:34:56.654321 +0000", "2024-08-08T10:34:56.654321+00:00"),
        ("2024-08-08T10:34:56.1234567891234Z", "2024-08-08T10:34:56.123456789+00:00"),
        ("2024-08-08T10:34:56", "2024-08-08T10:34:56+00:00"),
        ("2024-08-08", "2024-08-08T00:00:00+00:00"),
        ("20201113", "2020-11-13T00:00:00+00:00"),
        ("1970-01-02T00:00:00Z", "1970-01-02T00:00:00+00:00"),
    ],
)
def test_parse_created_forms(text: str, iso: str) -> None:
    ts = parse_created(text)
    assert ts is not None
    assert ts.isoformat() == iso


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00Z",  # Go zero time
        "1970-01-01T00:00:00Z",  # SOURCE_DATE_EPOCH=0 (distroless, ko)
        "1970-01-01T00:00:01Z",  # nixpkgs dockerTools
        "1969-12-31T23:59:59Z",
        "1970-01-01T02:00:00+02:00",  # the epoch written in another zone
        "9999-12-31T23:59:59Z",  # beyond datetime64[ns]
        "now",
        "today",
        "",
        "   ",
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-08-08T24:00:00Z",
        "2024-08-08T10:34:60Z",
        "2024-08-08T10:34:56+25:00",
        "2024-08-08T10:34:56Zjunk",
        "2020-1113",
        "२०२४-०८-०८",  # non-ASCII digits
        "Thu, 08 Aug 2024 10:34:56 GMT",
        None,
        1723113296,
        ["2024-08-08"],
    ],
)
def test_parse_created_unusable_is_none(value: object) -> None:
    assert parse_created(value) is None


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
    nanos=st.integers(0, 999),
    offset_minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
)
def test_parse_created_matches_pandas_on_any_rfc3339(
    moment: datetime, nanos: int, offset_minutes: int
) -> None:
    tz = timezone(timedelta(minutes=offset_minutes))
    local = moment.replace(tzinfo=tz)
    sign = "-" if offset_minutes < 0 else "+"
    hh, mm = divmod(abs(offset_minutes), 60)
    text = f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond:06d}{nanos:03d}{sign}{hh:02d}:{mm:02d}"
    expected = pd.Timestamp(local).tz_convert("UTC") + pd.Timedelta(nanoseconds=nanos)
    assert parse_created(text) == expected


@pytest.mark.parametrize(
    ("value", "unit", "iso"),
    [
        ("1723120496123", "ms", "2024-08-08T12:34:56.123000+00:00"),
        (1723120496, "s", "2024-08-08T12:34:56+00:00"),
        ("1723120496.123456789", "s", "2024-08-08T12:34:56.123456789+00:00"),
        (1723120496123456, "us", "2024-08-08T12:34:56.123456+00:00"),
    ],
)
def test_timestamp_from_epoch(value: object, unit: Any, iso: str) -> None:
    ts = timestamp_from_epoch(value, unit)
    assert ts is not None
    assert ts.isoformat() == iso
    assert ts == pd.Timestamp(iso)


@pytest.mark.parametrize(
    "value", ["0", 0, -5, "", "abc", None, True, float("nan"), float("inf"), "1e400", 10**30]
)
def test_timestamp_from_epoch_unusable_is_none(value: object) -> None:
    assert timestamp_from_epoch(value, "ms") is None


# --------------------------------------------------------------------------- configs


def _config(created: Any = "absent", labels: Any = "absent") -> bytes:
    doc: dict[str, Any] = {
        "architecture": "arm64",
        "os": "linux",
        "variant": "v8",
        "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["python3"]},
        "rootfs": {"type": "layers", "diff_ids": [sha("diff0")]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs"}],
    }
    if created != "absent":
        doc["created"] = created
    if labels != "absent":
        doc["config"]["Labels"] = labels
    return dump(doc)


def test_parse_config_docker_style() -> None:
    labels = {"org.opencontainers.image.version": "3.12.5", "maintainer": "x"}
    data = _config("2024-08-08T12:34:56.123456789+02:00", labels)
    cfg = parse_config(data, digest="sha256:" + hashlib.sha256(data).hexdigest())
    assert ts(cfg.created_ns) == pd.Timestamp("2024-08-08T10:34:56.123456789Z")
    assert cfg.labels == labels
    assert (cfg.architecture, cfg.os, cfg.variant) == ("arm64", "linux", "v8")


@pytest.mark.parametrize("created", ["absent", None, "", 1723113296, "1970-01-01T00:00:00Z"])
def test_parse_config_without_usable_created(created: Any) -> None:
    cfg = parse_config(_config(created, None))
    assert cfg.created_ns is None
    assert cfg.labels == {}


def test_parse_config_null_config_section() -> None:
    cfg = parse_config(b'{"architecture": "amd64", "os": "linux", "config": null}')
    assert cfg.created_ns is None
    assert cfg.labels == {}
    assert cfg.architecture == "amd64"


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[]", b'{"config": []}', b'{"config": {"Labels": ["a=b"]}}'],
)
def test_parse_config_bad_shapes(data: bytes) -> None:
    with pytest.raises(ManifestError):
        parse_config(data)


def test_parse_config_verifies_digest() -> None:
    with pytest.raises(ManifestError, match="mismatch"):
        parse_config(_config("2024-08-08T10:00:00Z"), digest=sha("something else"))


OCI_CREATED = "org.opencontainers.image.created"
LABEL_SCHEMA = "org.label-schema.build-date"


def _cfg(created: str | None = None, labels: dict[str, str] | None = None) -> ImageConfig:
    return ImageConfig(created_ns=rfc3339_ns(created), labels=labels or {})


@pytest.mark.parametrize(
    ("config", "manifest_ann", "index_ann", "expected", "source"),
    [
        (_cfg("2024-08-08T10:00:00Z", {OCI_CREATED: "2023-01-01T00:00:00Z"}),
         {OCI_CREATED: "2022-01-01T00:00:00Z"}, None, "2024-08-08T10:00:00Z", "config"),
        (_cfg("1970-01-01T00:00:00Z"), {OCI_CREATED: "2024-08-07T09:08:07.654321Z"},
         {OCI_CREATED: "2020-01-01T00:00:00Z"}, "2024-08-07T09:08:07.654321Z", "annotation"),
        (_cfg(None), {OCI_CREATED: "garbage"}, {OCI_CREATED: "2024-08-08T10:00:00Z"},
         "2024-08-08T10:00:00Z", "annotation"),
        (None, None, {OCI_CREATED: "2024-08-08T10:00:00Z"}, "2024-08-08T10:00:00Z", "annotation"),
        (_cfg(None, {OCI_CREATED: "2024-05-05T05:05:05Z", LABEL_SCHEMA: "20201113"}), {}, {},
         "2024-05-05T05:05:05Z", "label"),
        (_cfg(None, {LABEL_SCHEMA: "20201113"}), None, None, "2020-11-13T00:00:00Z", "label"),
        (_cfg(None, {OCI_CREATED: "0001-01-01T00:00:00Z", LABEL_SCHEMA: "2019-05-01T12:00:00Z"}),
         None, None, "2019-05-01T12:00:00Z", "label"),
    ],
)  # fmt: skip
def test_created_from_fallback_order(
    config: ImageConfig | None,
    manifest_ann: dict[str, str] | None,
    index_ann: dict[str, str] | None,
    expected: str,
    source: str,
) -> None:
    created, where = created_from(config, manifest_ann, index_ann)
    assert ts(created) == pd.Timestamp(expected)
    assert where == source


@pytest.mark.parametrize(
    "config",
    [None, _cfg(None), _cfg("1970-01-01T00:00:00Z", {OCI_CREATED: "1970-01-01T00:00:00Z"})],
)
def test_created_from_nothing_usable(config: ImageConfig | None) -> None:
    assert created_from(config, {OCI_CREATED: "0001-01-01T00:00:00Z"}, None) == (None, None)


def test_end_to_end_chain_index_manifest_config() -> None:
    """Index → child for the platform → config → date, as the registry layer drives it."""
    config_bytes = _config("2024-08-08T12:34:56.123456789+02:00")
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    image = copy.deepcopy(OCI_IMAGE)
    image["config"] = {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)}
    image_bytes = dump(image)
    index_doc = copy.deepcopy(BUILDKIT_INDEX)
    index_doc["manifests"][1]["digest"] = "sha256:" + hashlib.sha256(image_bytes).hexdigest()
    index = parse_manifest(dump(index_doc), content_type=OCI_INDEX, digest=None)
    assert isinstance(index, Index)
    child = select_child(index, parse_platform("linux/arm64"))
    assert child is not None
    manifest = parse_manifest(image_bytes, content_type=child.media_type, digest=child.digest)
    assert isinstance(manifest, ImageManifest)
    config = parse_config(config_bytes, digest=manifest.config.digest)
    created, source = created_from(config, manifest.annotations, index.annotations)
    assert (ts(created), source) == (pd.Timestamp("2024-08-08T10:34:56.123456789Z"), "config")
    assert image_size(manifest) == len(config_bytes) + OCI_IMAGE["layers"][0]["size"]
