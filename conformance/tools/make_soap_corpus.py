"""Regenerate the SOAP partner-message corpus (maintainers only).

    python conformance/tools/make_soap_corpus.py [--out conformance/messages/soap]

Each envelope is made the way a partner's connector makes it: a real
assertion from the simulated STS (``SecurityTokenService.issue``, on a
throw-away SQLite gateway), signed with the persona's holder-of-key through
:mod:`gateway.identity.signing`; the invalid ones are then broken the way
real messages break. The clock is fixed at ``AT`` and the random IDs are
seeded, so a rerun writes the same bytes (RSA PKCS#1 v1.5 signatures are
deterministic): ``git diff`` after a rerun shows only what a change of the
gateway changed. Every sidecar records ``at``, the instant to validate at.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from lxml import etree

from gateway.domain.clock import FixedClock
from gateway.domain.professions import PROFESSIONS
from gateway.ehealth.sandbox.personas import personas
from gateway.ehealth.sts import SecurityTokenService
from gateway.ehealth.sts_attributes import Claim
from gateway.ehealth.sts_client import persona_claims
from gateway.identity.saml import sign_assertion
from gateway.identity.signing import sign_with_saml
from gateway.identity.xmldsig import DS_NS, xml_datetime
from gateway.ehealth.platform import Platform, PlatformSettings, build_platform
from gateway.soap11.envelope import SOAP11_NS, WSSE_NS, WSU_NS

AT = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
SEED = 2026
OUT = Path(__file__).resolve().parents[1] / "messages" / "soap"
PROTOCOL = "http://www.ehealth.fgov.be/hubservices/protocol/v2"
CORE = "http://www.ehealth.fgov.be/hubservices/core/v2"
AB_PROTOCOL = "urn:be:fgov:ehealth:addressbook:protocol:v1"
AB_CORE = "urn:be:fgov:ehealth:addressbook:core:v1"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SECURITY = "/Envelope/Header/Security"


@dataclass
class Case:
    name: str
    description: str
    data: bytes
    findings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.findings


@contextmanager
def seeded_ids(seed: int) -> Iterator[None]:
    """uuid4 from a seeded generator while the corpus is made (assertion
    and wsu:Id values), so that a rerun is byte-for-byte the same."""
    rng, original = random.Random(seed), uuid.uuid4
    uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)  # type: ignore[assignment]
    try:
        yield
    finally:
        uuid.uuid4 = original  # type: ignore[assignment]


def sandbox_platform(folder: Path, clock: FixedClock) -> Platform:
    """The simulated platform whose STS issues the corpus's tokens."""
    return build_platform(PlatformSettings(database_url=f"sqlite:///{folder / 'corpus-platform.sqlite3'}", seed=SEED),
                          clock=clock)


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def ssin_child(parent: etree._Element) -> etree._Element:
    found = parent.find(f".//{{{CORE}}}patient/{{{CORE}}}id")
    assert found is not None
    return found


class Corpus:
    """The envelopes, made against one sandbox gateway at a fixed clock."""

    def __init__(self, gw: Platform, clock: FixedClock) -> None:
        self.gw, self.clock = gw, clock
        from gateway.ehealth.rtw.personas import rtw_personas
        from gateway.ehealth.rtw.state import rtw_state

        self.rtw = rtw_state(gw).sandbox
        self.cast = {**personas(gw.registries), **rtw_personas(self.rtw)}  # return to work's staff too
        self.sts = SecurityTokenService(gw)

    # ---------------------------------------------------------------- parts
    def therlink_put(self, patient_niss: str | None = None) -> str:
        gp, patient = self.cast["gp-no-link"], self.cast["patient"]
        assert gp.nihii and gp.quality
        return f"""<protocol:PutTherapeuticLinkRequest xmlns:protocol="{PROTOCOL}" xmlns:core="{CORE}">
      <core:request>
        <core:date>{AT.date().isoformat()}</core:date>
        <core:time>{AT.time().isoformat()}</core:time>
      </core:request>
      <core:therapeuticlink>
        <core:patient><core:id S="INSS" SV="1.0">{patient_niss or patient.niss}</core:id></core:patient>
        <core:hcparty>
          <core:id S="ID-HCPARTY" SV="1.0">{gp.nihii}</core:id>
          <core:id S="INSS" SV="1.0">{gp.niss}</core:id>
          <core:cd S="CD-HCPARTY" SV="1.0">{PROFESSIONS[gp.quality].hcparty}</core:cd>
        </core:hcparty>
        <core:cd S="CD-THERAPEUTICLINKTYPE" SV="1.0">gpconsultation</core:cd>
      </core:therapeuticlink>
      <core:proof><core:cd S="CD-PROOFTYPE" SV="1.0">eidreading</core:cd></core:proof>
    </protocol:PutTherapeuticLinkRequest>"""

    def addressbook_search(self) -> str:
        nurse = self.cast["nurse"]
        return f"""<ab:SearchProfessionalsRequest xmlns:ab="{AB_PROTOCOL}" xmlns:core="{AB_CORE}" IssueInstant="{xml_datetime(AT)}" Offset="0" MaxElements="20">
      <core:NIHII>{nurse.nihii}</core:NIHII>
    </ab:SearchProfessionalsRequest>"""

    @staticmethod
    def envelope(payload: str, namespace: str = SOAP11_NS) -> etree._Element:
        return etree.fromstring(f"""<soapenv:Envelope xmlns:soapenv="{namespace}">
  <soapenv:Body>
    {payload}
  </soapenv:Body>
</soapenv:Envelope>""")

    def token(self, persona: str, *, credential: str | None = None, issued: datetime = AT,
              lifetime: timedelta = timedelta(hours=1)) -> etree._Element:
        """A real STS assertion for ``persona`` (its certificate, or ``credential``'s), issued at ``issued``."""
        cert = self.gw.pki.credential(credential or f"persona-{persona}").certificate
        claims = [Claim(uri, value or None) for uri, value in persona_claims(self.cast[persona])]
        self.clock.set(issued)
        try:
            return self.sts.issue(cert, claims, issued + lifetime).assertion
        finally:
            self.clock.set(AT)

    def resigned(self, assertion: etree._Element, signer: str, issuer: str | None = None) -> etree._Element:
        """The assertion signed anew by credential ``signer`` (optionally with another Issuer)."""
        unsigned = copy.deepcopy(assertion)
        for signature in unsigned.findall(f"{{{DS_NS}}}Signature"):
            unsigned.remove(signature)
        if issuer:
            unsigned.set("Issuer", issuer)
        credential = self.gw.pki.credential(signer)
        return sign_assertion(unsigned, credential.private_key, credential.certificate)

    def signed(self, payload: str, assertion: etree._Element, persona: str, *, credential: str | None = None,
               at: datetime = AT, lifetime: int = 60) -> etree._Element:
        key = self.gw.pki.credential(credential or f"persona-{persona}")
        return sign_with_saml(self.envelope(payload), etree.tostring(assertion), key.private_key, key.certificate,
                              clock=FixedClock(at), lifetime=lifetime)

    # ---------------------------------------------------------------- cases
    def cases(self) -> list[Case]:
        gp_token = self.token("gp-no-link")
        put = self.therlink_put()
        cases = [
            Case("therlink-put-signed", "A TherLink PutTherapeuticLink request by a GP: a real STS assertion, a "
                 "Timestamp, and a signature over Body and Timestamp with the GP's holder-of-key.",
                 serialise(self.signed(put, gp_token, "gp-no-link"))),
            Case("addressbook-search-signed", "An AddressBook SearchProfessionals request (by NIHII), signed like "
                 "every eHealth call.", serialise(self.signed(self.addressbook_search(), self.token("gp"), "gp"))),
            Case("unsigned", "A TherLink request without a SOAP Header: no WS-Security at all.",
                 serialise(self.envelope(put)), [("security-header-missing", "/Envelope/Header")]),
        ]
        no_signature = self.signed(put, gp_token, "gp-no-link")
        security = no_signature.find(f".//{{{WSSE_NS}}}Security")
        assert security is not None
        security.remove(security.find(f"{{{DS_NS}}}Signature"))
        cases.append(Case("signature-missing", "The token and the Timestamp are there, but nothing is signed.",
                          serialise(no_signature), [("signature-missing", SECURITY)]))

        tampered = self.signed(put, gp_token, "gp-no-link")
        ssin_child(tampered).text = self.cast["patient-2"].niss  # still a valid SSIN: only the signature can tell
        cases.append(Case("tampered-body", "The patient's SSIN in the Body was changed after signing.",
                          serialise(tampered), [("message-digest-mismatch", f"{SECURITY}/Signature")]))

        expired = self.token("gp-no-link", issued=AT - timedelta(hours=3), lifetime=timedelta(hours=1))
        cases.append(Case("expired-assertion", "A fresh, correctly signed message carrying an assertion that "
                          "expired two hours earlier.", serialise(self.signed(put, expired, "gp-no-link")),
                          [("assertion-expired", f"{SECURITY}/Assertion")]))

        untrusted = self.resigned(gp_token, "untrusted-sts")
        cases.append(Case("untrusted-sts", "The assertion is signed by an STS key the gateway does not trust "
                          "(same subject name as the sandbox STS).", serialise(self.signed(put, untrusted, "gp-no-link")),
                          [("assertion-untrusted-signer", f"{SECURITY}/Assertion")]))

        other_issuer = self.resigned(gp_token, "sts", issuer="urn:example:sts")
        cases.append(Case("assertion-wrong-issuer", "The assertion is signed by the trusted STS key but names "
                          "another Issuer than the eHealth STS.", serialise(self.signed(put, other_issuer, "gp-no-link")),
                          [("assertion-issuer-unknown", f"{SECURITY}/Assertion")]))

        expired_key = self.token("gp", credential="persona-gp-expired-certificate")
        cases.append(Case("holder-of-key-expired", "The holder-of-key certificate (and so the message's signing "
                          "key) expired in 2024.",
                          serialise(self.signed(put, expired_key, "gp", credential="persona-gp-expired-certificate")),
                          [("certificate-expired", f"{SECURITY}/Assertion/AuthenticationStatement/Subject/SubjectConfirmation")]))

        cases.append(Case("wrapped-body", "Signature wrapping: the signed Body was moved into a header element "
                          "and a new, unsigned Body put in its place.", serialise(self.wrapped(put, gp_token)),
                          [("signature-wrapping", "/Envelope")]))

        no_timestamp = self.signed(put, gp_token, "gp-no-link")
        timestamp = no_timestamp.find(f".//{{{WSU_NS}}}Timestamp")
        assert timestamp is not None
        timestamp.getparent().remove(timestamp)
        cases.append(Case("missing-timestamp", "The wsu:Timestamp was left out of wsse:Security.",
                          serialise(no_timestamp), [("timestamp-missing", SECURITY)]))

        cases.append(Case("expired-timestamp", "A message signed ten minutes earlier with a 60-second Timestamp.",
                          serialise(self.signed(put, gp_token, "gp-no-link", at=AT - timedelta(minutes=10))),
                          [("timestamp-expired", f"{SECURITY}/Timestamp")]))

        bad_payload = self.therlink_put(patient_niss="6103302990")  # ten digits
        cases.append(Case("payload-invalid-xsd", "Correctly signed, but the patient's SSIN has ten digits: "
                          "the payload breaks the hub-services XSD.",
                          serialise(self.signed(bad_payload, gp_token, "gp-no-link")),
                          [("schema-invalid", "/Envelope/Body/PutTherapeuticLinkRequest/therapeuticlink/patient/id")]))

        ping = '<ping:Ping xmlns:ping="urn:example:ping:v1"/>'
        cases.append(Case("payload-unknown-namespace", "Correctly signed, but the payload's namespace belongs to no "
                          "service of the gateway.", serialise(self.signed(ping, gp_token, "gp-no-link")),
                          [("schema-unknown", "/Envelope/Body/Ping")]))

        cases.append(Case("not-an-envelope-soap12", "A SOAP 1.2 envelope: the services speak SOAP 1.1 only.",
                          serialise(self.envelope(put, SOAP12_NS)), [("malformed-envelope", "/Envelope")]))
        cases.append(Case("not-well-formed", "A SOAP envelope cut off in the middle.",
                          serialise(self.envelope(put))[:300], [("xml-malformed", "/")]))

        rtw = "urn:be:care-gateway:returntowork:v1"  # ReturnToWork v1, with a return-to-work user's STS token
        coordinator = self.token("oa-rtw-coordinator")
        open_dossier = f'<rtw:OpenDossierRequest xmlns:rtw="{rtw}"><rtw:InsuredSsin>{self.rtw.cast.insured}</rtw:InsuredSsin></rtw:OpenDossierRequest>'
        cases.append(Case("rtw-open-dossier-signed", "A ReturnToWork OpenDossier request by an insurer's coordinator: a real "
                          "STS assertion carrying the insurer's CBE and the role user management confirms, signed "
                          "with the coordinator's holder-of-key.",
                          serialise(self.signed(open_dossier, coordinator, "oa-rtw-coordinator"))))
        fill = (f'<rtw:FillFormRequest xmlns:rtw="{rtw}"><rtw:DossierId>7f1c2d9e-4b7a-4f0e-9c55-1a2b3c4d5e6f</rtw:DossierId>'
                '<rtw:Routing>employer</rtw:Routing><rtw:IncapacityStart>2025-03-03</rtw:IncapacityStart>'
                '<rtw:Expectations>A training</rtw:Expectations></rtw:FillFormRequest>')
        cases.append(Case("rtw-fill-form-unknown-routing", "Correctly signed, but the registration form's routing is none "
                          "of insurer, occupational-physician, regional-request (RP-F1): the payload breaks ReturnToWork-v1.xsd.",
                          serialise(self.signed(fill, coordinator, "oa-rtw-coordinator")),
                          [("schema-invalid", "/Envelope/Body/FillFormRequest/Routing")]))
        return cases

    def wrapped(self, payload: str, assertion: etree._Element) -> etree._Element:
        envelope = self.signed(payload, assertion, "gp-no-link")
        body = envelope.find(f"{{{SOAP11_NS}}}Body")
        header = envelope.find(f"{{{SOAP11_NS}}}Header")
        assert body is not None and header is not None
        wrapper = etree.SubElement(header, "{urn:example:wrapper}Wrapper", nsmap={"w": "urn:example:wrapper"})
        wrapper.append(body)
        forged = etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body")
        forged.append(etree.fromstring(self.therlink_put(patient_niss=self.cast["patient-2"].niss)))
        return envelope


def write(out: Path, case: Case) -> None:
    folder = out / ("valid" if case.valid else "invalid")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{case.name}.xml").write_bytes(case.data)
    sidecar: dict[str, object] = {"description": case.description, "valid": case.valid,
                                  "at": AT.isoformat().replace("+00:00", "Z")}
    if case.findings:
        sidecar["findings"] = [{"rule": rule, "path": path} for rule, path in case.findings]
    (folder / f"{case.name}.expected.json").write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n",
                                                       encoding="utf-8")


def generate(out: Path) -> list[Case]:
    clock = FixedClock(AT)
    with seeded_ids(SEED), tempfile.TemporaryDirectory() as tmp:
        gw = sandbox_platform(Path(tmp), clock)
        try:
            cases = Corpus(gw, clock).cases()
        finally:
            gw.db.dispose()
    for case in cases:
        write(out, case)
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"corpus folder (default {OUT})")
    args = parser.parse_args(argv)
    cases = generate(args.out)
    print(f"wrote {len(cases)} envelopes to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
