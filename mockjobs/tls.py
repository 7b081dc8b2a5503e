"""HTTPS: a self-signed certificate for localhost and 127.0.0.1, made at start with `cryptography`."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import MockjobsError

NAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")
DAYS = 30


@dataclass(frozen=True)
class Certificate:
    """A server certificate and its key, as PEM files."""

    certfile: Path
    keyfile: Path

    @property
    def fingerprint(self) -> str:
        """The certificate's SHA-256 fingerprint, as browsers show it (AB:CD:...)."""
        cert = x509.load_pem_x509_certificate(self.certfile.read_bytes())
        return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def self_signed(folder: Path) -> Certificate:
    """A new self-signed certificate for localhost, 127.0.0.1 and ::1, written into folder.

    It is its own CA (basic constraints CA, server auth), so a client trusts it by taking the
    certificate file as its CA bundle (``requests.get(url, verify=certfile)``,
    ``NODE_EXTRA_CA_CERTS=certfile``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mockjobs localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in NAMES] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "mockjobs-cert.pem", folder / "mockjobs-key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return Certificate(certfile, keyfile)


def given(certfile: str | os.PathLike[str], keyfile: str | os.PathLike[str]) -> Certificate:
    """The user's own certificate and key; MockjobsError naming the file that is missing or unreadable."""
    cert = Certificate(Path(certfile), Path(keyfile))
    for label, path in (("certfile", cert.certfile), ("keyfile", cert.keyfile)):
        if not path.is_file():
            raise MockjobsError(f"{label} {path}: no such file")
    try:
        cert.fingerprint  # noqa: B018 - reading it checks that the file is a PEM certificate
    except ValueError as exc:
        raise MockjobsError(f"certfile {cert.certfile}: not a PEM certificate ({exc})") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert.certfile, cert.keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise MockjobsError(f"keyfile {cert.keyfile}: not the key of certfile {cert.certfile} ({exc})") from None
    return cert
