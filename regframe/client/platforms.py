"""Platforms (``os/arch[/variant]``): parse what users write, pick an index entry for one.

:func:`parse_platform` is the one parser of platform strings in regframe (the registry
client, the fast paths, the command line and :mod:`regframe.testing` all use it);
:func:`select_child` matches the way containerd does, so ``arm64`` means ``arm64/v8``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from regframe.errors import InvalidReferenceError

__all__ = [
    "Entries",
    "Entry",
    "Platform",
    "has_attestation",
    "index_platforms",
    "is_attestation",
    "parse_platform",
    "select_child",
]


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


class Entry(Protocol):
    """What platform matching reads from an index entry (a ``manifests.Descriptor``).

    The document model (:mod:`regframe.client.manifests`) imports :class:`Platform` from
    here; matching asks only for these attributes, so this module needs nothing from it.
    """

    @property
    def digest(self) -> str: ...

    @property
    def platform(self) -> Platform | None: ...

    @property
    def annotations(self) -> Mapping[str, str]: ...


EntryT = TypeVar("EntryT", bound=Entry)
EntryT_co = TypeVar("EntryT_co", bound=Entry, covariant=True)


class Entries(Protocol[EntryT_co]):
    """An index as platform matching reads it (a :class:`~regframe.client.manifests.Index`)."""

    @property
    def children(self) -> Sequence[EntryT_co]: ...


_ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
_SUBJECT_ANNOTATION = "vnd.docker.reference.digest"
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


def is_attestation(desc: Entry) -> bool:
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
    >>> from regframe.client.manifests import OCI_MANIFEST, Descriptor
    >>> d = Descriptor(OCI_MANIFEST, "sha256:" + "1" * 64, 566, Platform("unknown", "unknown"))
    >>> is_attestation(d)
    True
    """
    if _ATTESTATION_ANNOTATION in desc.annotations:
        return True
    p = desc.platform
    return p is not None and p.os == "unknown" and p.architecture == "unknown"


def has_attestation(index: Entries[Entry], child: Entry) -> bool:
    """Tell whether ``index`` holds an attestation manifest for its image ``child``.

    BuildKit adds one ``unknown/unknown`` entry per image, annotated
    ``vnd.docker.reference.type: attestation-manifest`` and naming the image in
    ``vnd.docker.reference.digest``.

    Examples
    --------
    >>> from regframe.client.manifests import OCI_MANIFEST, Descriptor, Index
    >>> img = Descriptor(OCI_MANIFEST, "sha256:" + "1" * 64, 500, Platform("linux", "amd64"))
    >>> att = Descriptor(OCI_MANIFEST, "sha256:" + "2" * 64, 566, Platform("unknown", "unknown"),
    ...                  {"vnd.docker.reference.type": "attestation-manifest",
    ...                   "vnd.docker.reference.digest": img.digest})
    >>> has_attestation(Index(OCI_MANIFEST, (img, att)), img)
    True
    >>> has_attestation(Index(OCI_MANIFEST, (img,)), img)
    False
    """
    return any(
        is_attestation(entry) and entry.annotations.get(_SUBJECT_ANNOTATION) == child.digest
        for entry in index.children
    )


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


def select_child(index: Entries[EntryT], platform: Platform | None) -> EntryT | None:
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
    >>> from regframe.client.manifests import OCI_INDEX, OCI_MANIFEST, Descriptor, Index
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
    fallback: tuple[int, EntryT] | None = None
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


def index_platforms(index: Entries[Entry]) -> str:
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
    >>> from regframe.client.manifests import OCI_INDEX, OCI_MANIFEST, Descriptor, Index
    >>> a = Descriptor(OCI_MANIFEST, "sha256:" + "a" * 64, 1, Platform("linux", "amd64"))
    >>> index_platforms(Index(OCI_INDEX, (a,)))
    'linux/amd64'
    """
    seen: dict[str, None] = {}
    for child in index.children:
        if child.platform is not None and not is_attestation(child):
            seen.setdefault(str(child.platform), None)
    return ",".join(seen)
