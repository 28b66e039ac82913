"""Make throw-away X.509 material: one certificate builder for CAs, servers and token signers.

The sandbox needs certificates twice: a test CA plus a server certificate for ``tls=True``, and
a self-signed ES256 signer whose certificate the registry trusts for token auth.  Both come
from :func:`issue_certificate`, so validity windows, key type and extensions are decided in
one place.  Keys are EC P-256; nothing here is meant to protect anything.

Examples
--------
>>> ca = issue_certificate("test CA", ca=True)
>>> server = issue_certificate("127.0.0.1", issuer=ca, hosts=["127.0.0.1", "localhost"])
>>> server.cert.issuer == ca.cert.subject
True
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertifiedKey", "TLSFiles", "issue_certificate", "write_tls_files"]

#: Backdating absorbs small clock differences between this process and the registry.
_BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class CertifiedKey:
    """A private key and the certificate issued for it.

    Examples
    --------
    >>> ck = issue_certificate("signer", ca=True)
    >>> ck.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    True
    """

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        """The certificate in PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        """The certificate in DER."""
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        """The private key in unencrypted PKCS#8 PEM."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def issue_certificate(
    common_name: str,
    *,
    issuer: CertifiedKey | None = None,
    ca: bool = False,
    hosts: Sequence[str] = (),
    days: float = 1.0,
) -> CertifiedKey:
    """A fresh EC P-256 key and a certificate for it.

    Parameters
    ----------
    common_name
        The subject's CN.
    issuer
        The CA that signs it; ``None`` makes it self-signed.
    ca
        A CA certificate (``BasicConstraints ca=True``, may sign certificates; also fit to
        sign tokens), else a TLS server certificate.
    hosts
        Subject alternative names of a server certificate (IP literals or DNS names).
    days
        Validity from now (after a five-minute backdate).

    Returns
    -------
    CertifiedKey

    Examples
    --------
    >>> ca = issue_certificate("test CA", ca=True)
    >>> ca.cert.issuer == ca.cert.subject
    True
    >>> ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    True
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    signer_key = key if issuer is None else issuer.key
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    if hosts:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False
        )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    return CertifiedKey(key=key, cert=builder.sign(signer_key, hashes.SHA256()))


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the PEM files a TLS registry needs and a client trusts."""

    ca: Path
    cert: Path
    key: Path


def write_tls_files(directory: Path, host: str) -> TLSFiles:
    """Write a throw-away CA and a server certificate for ``host`` (and ``localhost``).

    Parameters
    ----------
    directory
        Where ``ca.pem``, ``server.pem`` and ``server.key`` are written.
    host
        The IP literal or name the server is reached at.

    Returns
    -------
    TLSFiles

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = write_tls_files(Path(d), "127.0.0.1")
    ...     files.ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    True
    """
    ca = issue_certificate("regframe sandbox test CA", ca=True, days=2)
    server = issue_certificate(host, issuer=ca, hosts=[host, "localhost"])
    files = TLSFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.cert_pem)
    files.cert.write_bytes(server.cert_pem)
    files.key.write_bytes(server.key_pem)
    return files
