"""Content digests: check their grammar, compute them, verify bytes against them.

Every digest a registry sends is checked against the grammar (:func:`validate_digest`)
before it is used anywhere, so a descriptor such as ``sha256:../../x`` can never reach a
URL or a cache path.  A failure is a :class:`~regframe.errors.ManifestError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from regframe.errors import ManifestError
from regframe.parsing import reference
from regframe.parsing.reference import DIGEST_HEX_LENGTHS, digest_problem

__all__ = [
    "compute_digest",
    "is_digest",
    "schema1_payload",
    "validate_digest",
    "verify_digest",
    "verify_manifest_digest",
]


def is_digest(value: object) -> bool:
    """Tell whether *value* is a content digest docker can verify (sha256/384/512, lowercase hex).

    Parameters
    ----------
    value
        Anything; only a string of the exact grammar
        (:func:`regframe.parsing.reference.digest_problem`) passes.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_digest("sha256:" + "a" * 64), is_digest("sha256:../../x")
    (True, False)
    """
    return digest_problem(value) is None


def validate_digest(value: object, *, what: str = "digest") -> str:
    """Return *value* if it is a digest docker can verify, else raise :class:`ManifestError`.

    :func:`regframe.parsing.reference.validate_digest` with another error class, because
    here the digest came from a registry, not from the user.

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
    return reference.validate_digest(value, what=what, error=ManifestError)


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    """Return the content digest of *data*.

    Parameters
    ----------
    data
        The exact bytes as received.
    algorithm
        ``"sha256"`` (default), ``"sha384"`` or ``"sha512"``.

    Returns
    -------
    str
        ``"sha256:<hex>"``.

    Examples
    --------
    >>> compute_digest(b"")[:15]
    'sha256:e3b0c442'
    """
    if algorithm not in DIGEST_HEX_LENGTHS:
        raise ManifestError(f"unsupported digest algorithm {algorithm!r}")
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_digest(data: bytes, digest: str) -> None:
    """Raise :class:`ManifestError` unless *data* hashes to *digest*.

    Parameters
    ----------
    data
        The bytes received.
    digest
        The expected digest.

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


def verify_manifest_digest(data: bytes, digest: str) -> None:
    """Like :func:`verify_digest`, but also accept a signed schema 1 manifest's payload digest.

    Registries compute a libtrust-signed schema 1 manifest's digest over the document
    without its ``signatures`` block, so its raw bytes never match; some registries hash
    the raw bytes anyway, so either may match.

    Parameters
    ----------
    data
        The manifest bytes as served.
    digest
        The expected digest.

    Raises
    ------
    ManifestError
        The digest is malformed, or neither the bytes nor the signed payload match.

    Examples
    --------
    >>> verify_manifest_digest(b"{}", compute_digest(b"{}"))  # returns None when it matches
    """
    validate_digest(digest)
    try:
        verify_digest(data, digest)
    except ManifestError:
        payload = schema1_payload(data) if b'"signatures"' in data else data
        if payload is data:
            raise
        verify_digest(payload, digest)
