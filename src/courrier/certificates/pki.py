"""The DCC signing keys and certificates, and the trust list verifiers load.

The DCC folder (``COURRIER_DCC_DIR``, default ``dcc``) holds::

    csca.key   the country signing CA's private key (test PKI only; mode 0600)
    csca.crt   the CSCA's certificate (PEM)
    dsc.key    the document signer's private key, ECDSA P-256 (mode 0600, PKCS#8 PEM)
    dsc.crt    the document signer's certificate (PEM), issued by the CSCA
    revocations.json   the revoked certificates (``revocation``)

``courrier dcc init`` makes a test PKI: a self-signed CSCA and a DSC with the DCC extended key usages
for vaccination, test and recovery (1.3.6.1.4.1.1847.2021.1.1/.2/.3). In production the operator puts
the DSC key and certificate the national CSCA issued (``dsc.key``, ``dsc.crt``) and the CSCA's
certificate into the folder; nothing else changes. A key file others may read is refused, as the key
file of personal codes is.

The key identifier (``kid``) of a DSC is the first 8 bytes of the SHA-256 of its DER encoding. A trust
list is JSON::

    {"format": "courrier-dcc-trust-list", "version": 1,
     "certificates": [{"kid": "<base64>", "country": "LU", "certificate": "<base64 DER>"}]}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from courrier.errors import ConfigError, ConflictError, InputFileError
from courrier.result import Result

TRUST_LIST_FORMAT = "courrier-dcc-trust-list"
# The DCC extended key usages: which kinds of certificate a DSC may sign (none listed: all kinds).
USAGE_OIDS = {
    "t": x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.1"),
    "v": x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.2"),
    "r": x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.3"),
}
# The first version of the specification wrote them with an extra arc (1.3.6.1.4.1.0.1847...); the
# official test vectors' DSCs still carry those, and verifiers accept both. We issue the right ones only.
EARLY_USAGE_OIDS = {
    kind: x509.ObjectIdentifier(oid.dotted_string.replace(".1.1847.", ".1.0.1847.", 1))
    for kind, oid in USAGE_OIDS.items()
}
ALL_KINDS = frozenset(USAGE_OIDS)
CSCA_DAYS = 3650
DSC_DAYS = 730


@dataclass(frozen=True)
class TrustedSigner:
    kid: bytes
    country: str
    certificate: x509.Certificate

    # Read once: a verifier asks for each certificate it checks.
    @functools.cached_property
    def kinds(self) -> frozenset[str]:
        return usage_kinds(self.certificate)

    @functools.cached_property
    def public_key(self) -> Any:
        return self.certificate.public_key()


@dataclass(frozen=True)
class Signer:
    """The document signer: its private key and certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    kid: bytes
    country: str

    @property
    def kinds(self) -> frozenset[str]:
        return usage_kinds(self.certificate)

    def trusted(self) -> TrustedSigner:
        return TrustedSigner(self.kid, self.country, self.certificate)

    @functools.cached_property
    def secret(self) -> bytes:
        """A key for identifiers derived from records (``uvci.derived_uvci``): from the private key,
        so it is as secret, and it needs no file of its own."""
        value = self.key.private_numbers().private_value.to_bytes(32, "big")
        return hashlib.sha256(b"courrier-dcc-uvci\0" + value).digest()


@dataclass(frozen=True)
class PkiMade(Result):
    folder: Path
    country: str
    kid: str
    kinds: tuple[str, ...]
    dsc_not_after: dt.datetime


def kid_of(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


def country_of(certificate: x509.Certificate) -> str:
    found = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return str(found[0].value) if found else ""


def usage_kinds(certificate: x509.Certificate) -> frozenset[str]:
    """The kinds (v, t, r) the certificate may sign: those of its DCC usages, or all when it has none."""
    try:
        usages = set(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return ALL_KINDS
    except ValueError:
        # An extended key usage extension with no usage at all (an official vector's "no OID present"),
        # which cryptography refuses to parse: no DCC usage, so every kind.
        return ALL_KINDS
    kinds = frozenset(
        kind for kind in USAGE_OIDS if USAGE_OIDS[kind] in usages or EARLY_USAGE_OIDS[kind] in usages
    )
    return kinds or ALL_KINDS


def init_pki(
    folder: Path,
    country: str,
    now: dt.datetime,
    kinds: Iterable[str] = ALL_KINDS,
    *,
    dsc_days: int = DSC_DAYS,
) -> PkiMade:
    """A test CSCA and DSC in ``folder`` (created mode 0700); refuses a folder that has a DSC key."""
    kinds = tuple(sorted(set(kinds)))
    if (folder / "dsc.key").exists() or (folder / "csca.key").exists():
        raise ConflictError(
            f"{folder} already holds DCC keys: certificates signed with them would no longer verify if "
            "they were replaced; not overwritten",
            code="dcc_pki_exists",
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    csca_key = ec.generate_private_key(ec.SECP256R1())
    csca_name = _name(country, f"courrier test CSCA {country}")
    csca = (
        x509.CertificateBuilder()
        .subject_name(csca_name)
        .issuer_name(csca_name)
        .public_key(csca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=CSCA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csca_key.public_key()), critical=False)
        .sign(csca_key, hashes.SHA256())
    )
    dsc_key = ec.generate_private_key(ec.SECP256R1())
    dsc = make_dsc(
        csca, csca_key, dsc_key, country, now - dt.timedelta(days=1), now + dt.timedelta(days=dsc_days), kinds
    )
    _write_key(folder / "csca.key", csca_key)
    _write_key(folder / "dsc.key", dsc_key)
    (folder / "csca.crt").write_bytes(csca.public_bytes(serialization.Encoding.PEM))
    (folder / "dsc.crt").write_bytes(dsc.public_bytes(serialization.Encoding.PEM))
    return PkiMade(folder, country, _b64(kid_of(dsc)), kinds, dsc.not_valid_after_utc)


def make_dsc(
    csca: x509.Certificate,
    csca_key: ec.EllipticCurvePrivateKey,
    dsc_key: ec.EllipticCurvePrivateKey,
    country: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    kinds: Sequence[str],
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(country, f"courrier test DSC {country}"))
        .issuer_name(csca.subject)
        .public_key(dsc_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(_key_usage(sign_certificates=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca_key.public_key()), critical=False
        )
    )
    if kinds:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([USAGE_OIDS[kind] for kind in sorted(kinds)]), critical=False
        )
    return builder.sign(csca_key, hashes.SHA256())


def _name(country: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "courrier test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    from courrier.codes.keys import write_new_file

    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_new_file(path, pem.decode("ascii"))


def load_signer(folder: Path, *, allow_shared: bool = False) -> Signer:
    """The DSC key and certificate of the DCC folder (``dcc_no_signer`` when there are none)."""
    key_path, certificate_path = folder / "dsc.key", folder / "dsc.crt"
    try:
        with key_path.open("rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            key_bytes = file.read()
        certificate_bytes = certificate_path.read_bytes()
    except FileNotFoundError as error:
        raise ConfigError(
            f"{error.filename}: no DCC document signer: run `courrier dcc init` (test PKI) or put the "
            "operator's dsc.key and dsc.crt there",
            code="dcc_no_signer",
        ) from None
    if mode & 0o077 and not allow_shared:
        raise ConfigError(
            f"key file {key_path} has mode {stat.S_IMODE(mode):04o}: others than its owner may read it; "
            f"run `chmod 600 {key_path}` (or set COURRIER_ALLOW_SHARED_KEY_FILE=1)",
            code="key_file_shared",
        )
    try:
        key = serialization.load_pem_private_key(key_bytes, password=None)
        certificate = x509.load_pem_x509_certificate(certificate_bytes)
    except ValueError as error:
        raise ConfigError(
            f"{folder}: unreadable DSC key or certificate: {error}", code="dcc_bad_signer"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{key_path}: the DSC key must be ECDSA P-256 (ES256)", code="dcc_bad_signer")
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise ConfigError(f"{key_path} does not belong to {certificate_path}", code="dcc_bad_signer")
    return Signer(key, certificate, kid_of(certificate), country_of(certificate))


def folder_trust(folder: Path) -> list[TrustedSigner]:
    """The signers of the DCC folder's certificates (``dsc*.crt``: the current one and retired ones)."""
    found = []
    for path in sorted(folder.glob("dsc*.crt")):
        found.extend(read_trust(path))
    return found


def trust_list_json(signers: Sequence[TrustedSigner]) -> str:
    document = {
        "format": TRUST_LIST_FORMAT,
        "version": 1,
        "certificates": [
            {
                "kid": _b64(signer.kid),
                "country": signer.country,
                "certificate": _b64(signer.certificate.public_bytes(serialization.Encoding.DER)),
            }
            for signer in signers
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def read_trust(path: Path) -> list[TrustedSigner]:
    """The signers ``path`` trusts: our trust list (JSON), PEM certificates, or one base64 or raw DER
    certificate (as ``TESTCTX.CERTIFICATE`` of the official test vectors)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(
            f"{path}: cannot read the trust file: {error.strerror}", code="dcc_bad_trust"
        ) from None
    return parse_trust(data, str(path))


def parse_trust(data: bytes, where: str) -> list[TrustedSigner]:
    try:
        text = data.strip()
        if text.startswith(b"{"):
            document = json.loads(text)
            if document.get("format") != TRUST_LIST_FORMAT:
                raise ValueError(f'not a trust list (expected "format": "{TRUST_LIST_FORMAT}")')
            signers = []
            for item in document["certificates"]:
                certificate = x509.load_der_x509_certificate(
                    base64.b64decode(item["certificate"], validate=True)
                )
                kid = base64.b64decode(item.get("kid") or _b64(kid_of(certificate)), validate=True)
                signers.append(
                    TrustedSigner(kid, str(item.get("country") or country_of(certificate)), certificate)
                )
            return signers
        if text.startswith(b"-----BEGIN"):
            certificates = x509.load_pem_x509_certificates(text)
        elif data[:1] == b"\x30":
            # Raw DER as it is: stripping would cut a certificate whose last byte is 0x20 or 0x0a.
            certificates = [x509.load_der_x509_certificate(data)]
        else:
            certificates = [
                x509.load_der_x509_certificate(base64.b64decode(b"".join(text.split()), validate=True))
            ]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise InputFileError(
            f"{where}: not a trust list nor a certificate: {error}", code="dcc_bad_trust"
        ) from None
    return [TrustedSigner(kid_of(c), country_of(c), c) for c in certificates]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
