"""The sandbox PKI: a sandbox CA and certificates shaped like eHealth's.

eHealth certificates name their holder in the subject: a person as
``CN="SSIN=85073003328", OU="SSIN=85073003328"``, an organisation as
``CN="NIHII-PHARMACY=69018864000"`` or ``CN="CBE=0820563481"``, under
``O=Federal Government, OU=eHealth-platform Belgium, C=BE``.

The credentials of the default sandbox (seed 2026) ship with the package in
``gateway/ehealth/data/pki`` so that every install, instance and vendor
sees the same keys; other seeds are generated on first use under
``var/sandbox-pki/<seed>``. These are sandbox keys: never trust them for
real data.

Regenerate the shipped set with ``python -m gateway.ehealth.pki``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.config import DEFAULT_SANDBOX_SEED
from gateway.ehealth.sandbox.personas import Persona, personas
from gateway.ehealth.sandbox.registries import SandboxRegistries, generate_registries
from gateway.domain.ports import OrganisationKind

SHIPPED = Path(__file__).parent / "data" / "pki"
NOT_BEFORE = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
NOT_AFTER = dt.datetime(2036, 1, 1, tzinfo=dt.timezone.utc)
EXPIRED_NOT_BEFORE = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
EXPIRED_NOT_AFTER = dt.datetime(2024, 12, 31, tzinfo=dt.timezone.utc)

# The platform's own keys (the simulated services sign with these).
PLATFORM = {
    "sts": "eHealth Security Token Service (sandbox)",
    "attribute-authority": "eHealth Attribute Authority (sandbox)",
    "oauth": "eHealth IAM Connect (sandbox)",
}
ORG_PREFIX = {
    OrganisationKind.PHARMACY: "NIHII-PHARMACY",
    OrganisationKind.HOSPITAL: "NIHII-HOSPITAL",
    OrganisationKind.PSI: "NIHII-PSI",
    OrganisationKind.INSURER: "NIHII-INSURER",
    OrganisationKind.AUTHORITY: "NIHII-AUTHORITY",
}


@lru_cache(maxsize=256)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """A parsed key, once per key: loading checks the RSA key, about 80 ms."""
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@lru_cache(maxsize=1024)
def _certificate(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


@dataclass(frozen=True)
class Credential:
    """One holder's private key and certificate."""

    name: str
    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return _certificate(self.cert_pem)

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return _private_key(self.key_pem)

    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def pkcs12(self, password: bytes, ca: "Credential | None" = None) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            self.name.encode(), self.private_key, self.certificate,
            [ca.certificate] if ca else None,
            serialization.BestAvailableEncryption(password),
        )


def _name(cn: str, ou: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Federal Government"),
             x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "eHealth-platform Belgium")]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _issue(
    ca: Credential | None, name: str, subject: x509.Name, *, is_ca: bool = False,
    not_before: dt.datetime = NOT_BEFORE, not_after: dt.datetime = NOT_AFTER, serial: int,
) -> Credential:
    key = _key()
    issuer_name = ca.certificate.subject if ca else subject
    signer = ca.private_key if ca else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, True, True, False, False, False, False, False, False), critical=True
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    cert = builder.sign(signer, hashes.SHA256())
    return Credential(name, _pem(key), cert.public_bytes(serialization.Encoding.PEM))


def person_subject(niss: str) -> x509.Name:
    return _name(f"SSIN={niss}", f"SSIN={niss}")


def organisation_subject(kind: OrganisationKind, nihii: str, cbe: str) -> x509.Name:
    if kind is OrganisationKind.INSURER or kind is OrganisationKind.PSI:
        return _name(f"CBE={cbe}", f"{ORG_PREFIX[kind]}={nihii}")
    return _name(f"{ORG_PREFIX[kind]}={nihii}", f"CBE={cbe}")


def subject_identifier(cert: x509.Certificate) -> tuple[str, str]:
    """What an eHealth-shaped subject names: ("SSIN", niss), ("CBE", cbe), ("NIHII-PHARMACY", nihii)..."""
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = str(cn[0].value) if cn else ""
    kind, _, ident = value.partition("=")
    return kind, ident


def generate(directory: Path, registries: SandboxRegistries) -> None:
    """Write the CA, the platform's keys, a credential per persona and per
    organisation, and an expired certificate for negative tests."""
    directory.mkdir(parents=True, exist_ok=True)
    serial = iter(range(1000, 100000))
    ca = _issue(None, "ca", _name("care-gateway sandbox CA"), is_ca=True, serial=next(serial))
    creds = [ca]
    for name, label in PLATFORM.items():
        creds.append(_issue(ca, name, _name(label), serial=next(serial)))
    for key, persona in sorted(personas(registries).items()):
        creds.append(_issue(ca, f"persona-{key}", person_subject(persona.niss), serial=next(serial)))
    gp = personas(registries)["gp"]
    creds.append(_issue(ca, "persona-gp-expired-certificate", person_subject(gp.niss), serial=next(serial),
                        not_before=EXPIRED_NOT_BEFORE, not_after=EXPIRED_NOT_AFTER))
    creds.append(_issue(None, "untrusted-sts", _name("eHealth Security Token Service (sandbox)"), serial=next(serial)))
    for org in sorted(registries.organisations, key=lambda o: o.nihii):
        creds.append(_issue(ca, f"org-{org.nihii}", organisation_subject(org.kind, org.nihii, org.cbe), serial=next(serial)))
    index = {}
    for cred in creds:
        (directory / f"{cred.name}.key.pem").write_bytes(cred.key_pem)
        (directory / f"{cred.name}.cert.pem").write_bytes(cred.cert_pem)
        index[cred.name] = cred.certificate.subject.rfc4514_string()
    (directory / "index.json").write_text(json.dumps({"seed": registries.seed, "credentials": index}, indent=1, sort_keys=True))
    append_rtw_personas(directory, registries.seed)


RTW_SERIALS = 200000  # after every serial generate() hands out: the appended credentials never reuse one


def append_rtw_personas(directory: Path, seed: int) -> list[str]:
    """Add a credential for each return-to-work persona that has none, signed
    by the directory's CA, without touching any existing key or certificate:
    the shipped PKI gains them by running this once, a generated one at the
    end of :func:`generate`. The names and serials depend on the seed's
    personas only (sorted), so a rerun adds nothing. Returns the names added."""
    from gateway.ehealth.rtw.personas import rtw_personas
    from gateway.ehealth.rtw.sandbox import rtw_sandbox

    pki = SandboxPki(directory)
    index_file = directory / "index.json"
    index = json.loads(index_file.read_text())
    added = []
    for number, (key, persona) in enumerate(sorted(rtw_personas(rtw_sandbox(seed)).items())):
        name = f"persona-{key}"
        if (directory / f"{name}.key.pem").exists():
            continue
        cred = _issue(pki.ca, name, person_subject(persona.niss), serial=RTW_SERIALS + number)
        (directory / f"{name}.key.pem").write_bytes(cred.key_pem)
        (directory / f"{name}.cert.pem").write_bytes(cred.cert_pem)
        index["credentials"][name] = cred.certificate.subject.rfc4514_string()
        added.append(name)
    if added:
        index_file.write_text(json.dumps(index, indent=1, sort_keys=True))
    return added


class SandboxPki:
    """Read access to one sandbox PKI directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, Credential] = {}

    def credential(self, name: str) -> Credential:
        if name not in self._cache:
            key = self.directory / f"{name}.key.pem"
            cert = self.directory / f"{name}.cert.pem"
            if not key.exists():
                raise KeyError(f"no sandbox credential named {name!r}")
            self._cache[name] = Credential(name, key.read_bytes(), cert.read_bytes())
        return self._cache[name]

    def names(self) -> list[str]:
        return sorted(p.name.removesuffix(".key.pem") for p in self.directory.glob("*.key.pem"))

    @property
    def ca(self) -> Credential:
        return self.credential("ca")

    def persona(self, key: str) -> Credential:
        return self.credential(f"persona-{key}")

    def organisation(self, nihii: str) -> Credential:
        return self.credential(f"org-{nihii}")

    def platform(self, name: str) -> Credential:
        return self.credential(name)

    def issued_by_ca(self, cert: x509.Certificate) -> bool:
        """Is this certificate signed by the sandbox CA?"""
        try:
            cert.verify_directly_issued_by(self.ca.certificate)
        except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failure means "not ours"
            return False
        return True


@lru_cache(maxsize=4)
def load_pki(seed: int = DEFAULT_SANDBOX_SEED, var: str = "var") -> SandboxPki:
    """The PKI of a sandbox seed: shipped for the default, generated once otherwise."""
    if seed == DEFAULT_SANDBOX_SEED and (SHIPPED / "ca.key.pem").exists():
        return SandboxPki(SHIPPED)
    directory = Path(var) / "sandbox-pki" / str(seed)
    if not (directory / "ca.key.pem").exists():
        generate(directory, generate_registries(seed))
    return SandboxPki(directory)


def _write_credential(pki: SandboxPki, cred: Credential, stem: str, out: Path, password: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        out / f"{stem}.key.pem": cred.key_pem,
        out / f"{stem}.cert.pem": cred.cert_pem,
        out / "sandbox-ca.cert.pem": pki.ca.cert_pem,
        out / f"{stem}.p12": cred.pkcs12(password.encode(), pki.ca),
    }
    for path, data in files.items():
        path.write_bytes(data)
    return list(files)


def persona_credential_files(pki: SandboxPki, persona: Persona, out: Path, password: str) -> list[Path]:
    """Write a persona's key, certificate, CA certificate and PKCS#12 keystore."""
    return _write_credential(pki, pki.persona(persona.key), persona.key, out, password)


def organisation_credential_files(pki: SandboxPki, nihii: str, out: Path, password: str) -> list[Path]:
    """Write an organisation's key, certificate, CA certificate and PKCS#12
    keystore (a hospital's or an insurer's vendor signs with these)."""
    return _write_credential(pki, pki.organisation(nihii), f"org-{nihii}", out, password)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the sandbox PKI shipped with the package (maintainers only).")
    parser.add_argument("--seed", type=int, default=DEFAULT_SANDBOX_SEED)
    parser.add_argument("--out", type=Path, default=SHIPPED)
    parser.add_argument("--append-rtw", action="store_true",
                        help="only add the return-to-work personas' credentials, keeping every existing one")
    args = parser.parse_args(argv)
    if args.append_rtw:
        print(f"added {', '.join(append_rtw_personas(args.out, args.seed)) or 'nothing'} to {args.out}")
        return 0
    generate(args.out, generate_registries(args.seed))
    print(f"sandbox PKI for seed {args.seed} written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
