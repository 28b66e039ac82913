"""GCR and Artifact Registry: per-tag facts from the ``manifest`` map of an ordinary tag list.

Their ``tags/list`` answer carries ``{digest: {imageSizeBytes, layerId, mediaType, tag: [...],
timeCreatedMs, timeUploadedMs}}`` beside the tags, so these rows cost no request of their own
(:meth:`regframe.client.registry.RegistryClient.list_tags` returns the map).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from regframe.client.digests import is_digest
from regframe.client.manifests import INDEX_MEDIA_TYPES
from regframe.client.platforms import Platform
from regframe.client.tag_apis.shared import media_type, metadata, positive_int, text
from regframe.client.tag_metadata import TagMetadata
from regframe.parsing.timestamps import epoch_ns

__all__ = ["gcr_index_pushes", "gcr_rows"]


def gcr_rows(
    manifest_map: Mapping[str, Any], *, platform: Platform | None = None
) -> dict[str, TagMetadata]:
    """Per-tag facts from a GCR / Artifact Registry ``tags/list`` ``manifest`` map.

    ``pushed`` is ``timeUploadedMs`` (when the manifest was uploaded); ``created`` is
    ``timeCreatedMs`` (GCR: the build time it read from the image config), NA where it is
    ``"0"`` — Artifact Registry always reports ``"0"``, so its tags have a push time and
    no build time.  Both sources are ``"gcr"``.  ``size`` is ``imageSizeBytes``
    (compressed layers), ``None`` when ``"0"``.  Entries of the wrong type are skipped.

    Tags on a manifest list (OCI index / Docker manifest list) get **no** row: the map
    does not say which child belongs to which list, and a list's own times are its push
    times, not a platform's build.  Those tags stay for the registry path, which reads the
    chosen ``platform``'s image for ``created``; their ``pushed`` comes from
    :func:`gcr_index_pushes`.  Tags missing from the map stay for it too.  Rows carry no
    ``platforms`` (the map has none).

    Parameters
    ----------
    manifest_map
        The ``manifest`` object of one or more ``tags/list`` pages, merged.
    platform
        The platform being described.  It does not change any row (single images have no
        choice to make); it is part of the signature so every fast path is called alike.

    Returns
    -------
    dict[str, TagMetadata]
        ``tag → TagMetadata`` as for ``add_metadata(..., prefetched=...)``.

    Examples
    --------
    >>> rows = gcr_rows({"sha256:" + "a" * 64: {
    ...     "imageSizeBytes": "2803255", "mediaType": "application/vnd.oci.image.manifest.v1+json",
    ...     "tag": ["1.0"], "timeCreatedMs": "0", "timeUploadedMs": "1723120496123"}})
    >>> rows["1.0"].pushed_ns, rows["1.0"].created_ns, rows["1.0"].size
    (1723120496123000000, None, 2803255)
    """
    rows: dict[str, TagMetadata] = {}
    if not isinstance(manifest_map, Mapping):
        return rows
    for digest, entry in manifest_map.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("tag"), list):
            continue
        kind = media_type(entry.get("mediaType"))
        if kind in INDEX_MEDIA_TYPES:
            continue
        row = metadata(
            digest=digest,
            media_type=kind,
            platforms=None,
            created_ns=epoch_ns(entry.get("timeCreatedMs"), "ms"),
            pushed_ns=epoch_ns(entry.get("timeUploadedMs"), "ms"),
            source="gcr",
            size=positive_int(entry.get("imageSizeBytes")),
        )
        for tag in entry["tag"]:
            name = text(tag)
            if name is not None and name not in rows:
                rows[name] = replace(row)
    return rows


def gcr_index_pushes(manifest_map: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """``tag → (digest, pushed_ns)`` for the tags :func:`gcr_rows` leaves out: those on a list.

    A manifest list's ``timeUploadedMs`` is when that list (the tag's own digest) was
    uploaded — the tag's push time — while its build time lies in the chosen platform's
    config, which only the manifest walk reads.  The pair keeps the digest so that the
    walk can check the tag still points there: a tag moved since the listing must not
    take the other digest's time.  Entries with a malformed digest or no upload time
    (``"0"``) are left out.

    Parameters
    ----------
    manifest_map
        The ``manifest`` object of one or more ``tags/list`` pages, merged.

    Returns
    -------
    dict[str, tuple[str, int]]
        For each tag on a manifest list: the list's digest and its upload time in
        nanoseconds since the epoch, UTC.

    Examples
    --------
    >>> gcr_index_pushes({"sha256:" + "c" * 64: {
    ...     "imageSizeBytes": "0", "layerId": "", "tag": ["v0.0.8"], "timeCreatedMs": "0",
    ...     "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
    ...     "timeUploadedMs": "1583475321879"}})["v0.0.8"][1]
    1583475321879000000
    """
    pushes: dict[str, tuple[str, int]] = {}
    if not isinstance(manifest_map, Mapping):
        return pushes
    for digest, entry in manifest_map.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("tag"), list):
            continue
        if media_type(entry.get("mediaType")) not in INDEX_MEDIA_TYPES:
            continue
        pushed_ns = epoch_ns(entry.get("timeUploadedMs"), "ms")
        if pushed_ns is None or not (isinstance(digest, str) and is_digest(digest)):
            continue
        for tag in entry["tag"]:
            name = text(tag)
            if name is not None:
                pushes.setdefault(name, (digest, pushed_ns))
    return pushes
