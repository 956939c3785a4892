"""The facts a token carries about its holder, in one vocabulary for SAML 1.1
attributes (STS), SAML 2.0 attributes (attribute authority) and JWT claims
(OAuth2), and how they become a :class:`Principal`.

Attribute names follow ``ehealth.md`` (identification namespace
``urn:be:fgov:identification-namespace``, certified namespace
``urn:be:fgov:certified-namespace:ehealth``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from gateway.domain.principal import Principal, Role

IDENTIFICATION_NS = "urn:be:fgov:identification-namespace"
CERTIFIED_NS = "urn:be:fgov:certified-namespace:ehealth"

ATTR_CERT_HOLDER_SSIN = "urn:be:fgov:ehealth:1.0:certificateholder:person:ssin"
ATTR_PERSON_SSIN = "urn:be:fgov:person:ssin"
ATTR_DOCTOR_BOOLEAN = "urn:be:fgov:person:ssin:doctor:boolean"
ATTR_DOCTOR_NIHII = "urn:be:fgov:person:ssin:ehealth:1.0:doctor:nihii11"
ATTR_GIVENNAME = "urn:be:fgov:person:ssin:ehealth:1.0:givenname"
ATTR_SURNAME = "urn:be:fgov:person:ssin:ehealth:1.0:surname"


def attr_professional_nihii(quality: str) -> str:
    return f"urn:be:fgov:person:ssin:ehealth:1.0:nihii:{quality}:nihii11"


def attr_professional_boolean(quality: str) -> str:
    return f"urn:be:fgov:person:ssin:ehealth:1.0:professional:{quality}:boolean"


def attr_org_nihii(org: str) -> str:
    """Identification attribute of an organisation, e.g. ``pharmacy`` -> ``…:pharmacy:nihii-number``."""
    return f"urn:be:fgov:ehealth:1.0:{org}:nihii-number"


def attr_org_recognised(org: str) -> str:
    return f"urn:be:fgov:ehealth:1.0:{org}:nihii-number:recognised{org}:boolean"


def attr_org_role(org: str, role: str) -> str:
    """Certified: the holder has ``role`` in the organisation of ``attr_org_nihii(org)``
    (shaped like eHealth's ``…:pharmacy:nihii-number:person:ssin:ehealth:1.0:pharmacy-holder:boolean``)."""
    return f"urn:be:fgov:ehealth:1.0:{org}:nihii-number:person:ssin:ehealth:1.0:{role}:boolean"


# Organisation roles an STS token can carry: (organisation attribute, role value, Role)
ORGANISATION_TOKEN_ROLES = (("psi", "psi-administrative"), ("psi", "psi-coordinator"), ("insurer", "insurer"))

# Return to work (return-to-work.md): the partner organisation by CBE, and the
# role its user management confirms (certified by the STS as for PSI staff).
ATTR_RTW_CBE = "urn:be:fgov:ehealth:1.0:rtw-partner:cbe-number"
RTW_TOKEN_ROLES = ("oa-physician", "oa-team", "oa-rtw-coordinator", "oa-admin", "prev-physician", "prev-nurse", "prev-admin",
                   "reg-counsellor", "reg-list-manager", "inami-expert", "inami-inspector")


def attr_rtw_role(role: str) -> str:
    """Certified: the holder has ``role`` in the return-to-work partner of ``ATTR_RTW_CBE``."""
    return f"{ATTR_RTW_CBE}:person:ssin:ehealth:1.0:{role}:boolean"


# JWT claim names (the same facts as the SAML attributes)
CLAIM_NISS = "ssin"
CLAIM_ROLE = "role"
CLAIM_QUALITY = "quality"
CLAIM_NIHII = "nihii"
CLAIM_ORG_NIHII = "organisation_nihii"
CLAIM_ORG_CBE = "organisation_cbe"
CLAIM_NAME = "name"
CLAIM_AUTHN = "amr"


@dataclass(frozen=True)
class ClaimsMapping:
    """Which claim of an issuer's access tokens carries each fact of a
    :class:`Claims` (field name -> claim name). The defaults are the
    sandbox IdP's claim names; another identity provider names its own."""

    niss: str = CLAIM_NISS
    role: str = CLAIM_ROLE
    quality: str = CLAIM_QUALITY
    nihii: str = CLAIM_NIHII
    organisation_nihii: str = CLAIM_ORG_NIHII
    organisation_cbe: str = CLAIM_ORG_CBE
    display_name: str = CLAIM_NAME
    authentication: str = CLAIM_AUTHN

    @classmethod
    def from_names(cls, names: Mapping[str, str]) -> "ClaimsMapping":
        """A mapping from ``{field: claim name}``; fields not named keep their default."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(names) - fields)
        if unknown:
            raise ValueError(f"unknown claims mapping field(s) {', '.join(unknown)}; the fields are {', '.join(sorted(fields))}")
        bad = sorted(k for k, v in names.items() if not isinstance(v, str) or not v)
        if bad:
            raise ValueError(f"claims mapping field(s) {', '.join(bad)} must name a claim (a non-empty string)")
        return cls(**dict(names))

    def normalise(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The payload in the sandbox vocabulary: each mapped fact read from
        its configured claim only (a claim that happens to bear one of our
        names but is not mapped to it is dropped), other claims kept."""
        ours = {getattr(DEFAULT_CLAIMS, f.name): f.name for f in dataclasses.fields(self)}
        body = {k: v for k, v in payload.items() if k not in ours}
        for name, field_name in ours.items():
            source = getattr(self, field_name)
            if source in payload:
                body[name] = payload[source]
        return body


DEFAULT_CLAIMS = ClaimsMapping()


@dataclass(frozen=True)
class Claims:
    """What a verified token says about its holder."""

    niss: str
    role: Role
    quality: str | None = None
    nihii: str | None = None
    organisation_nihii: str | None = None
    organisation_cbe: str | None = None
    display_name: str | None = None
    authentication: str = "unknown"
    extra: dict[str, str] = field(default_factory=dict)

    def principal(self) -> Principal:
        return Principal(
            niss=self.niss, role=self.role, quality=self.quality, nihii=self.nihii,
            organisation_nihii=self.organisation_nihii, organisation_cbe=self.organisation_cbe,
            display_name=self.display_name, authentication=self.authentication, extra=dict(self.extra),
        )

    def to_jwt(self) -> dict[str, Any]:
        claims: dict[str, Any] = {CLAIM_NISS: self.niss, CLAIM_ROLE: self.role.value, CLAIM_AUTHN: [self.authentication]}
        for name, value in ((CLAIM_QUALITY, self.quality), (CLAIM_NIHII, self.nihii), (CLAIM_ORG_NIHII, self.organisation_nihii),
                            (CLAIM_ORG_CBE, self.organisation_cbe), (CLAIM_NAME, self.display_name)):
            if value:
                claims[name] = value
        return claims

    @classmethod
    def from_jwt(cls, payload: Mapping[str, Any]) -> "Claims":
        amr = payload.get(CLAIM_AUTHN) or ["unknown"]
        return cls(
            niss=str(payload[CLAIM_NISS]), role=Role(payload[CLAIM_ROLE]), quality=payload.get(CLAIM_QUALITY),
            nihii=payload.get(CLAIM_NIHII), organisation_nihii=payload.get(CLAIM_ORG_NIHII),
            organisation_cbe=payload.get(CLAIM_ORG_CBE), display_name=payload.get(CLAIM_NAME),
            authentication=str(amr[0] if isinstance(amr, list) else amr),
        )


def claims_from_mapped_attributes(attributes: Mapping[str, list[str]], mapping: ClaimsMapping, *,
                                  authentication: str = "sts-holder-of-key") -> Claims:
    """Read the attributes of an STS with names of its own (``mapping``:
    Principal field -> attribute name, as an OpenID Connect issuer's claims
    are mapped), e.g. the crossroads bank STS's. Raises ValueError when the
    person's number or a known role is missing."""
    body = mapping.normalise({name: values[0] for name, values in attributes.items() if values})
    for field_name, claim in (("niss", CLAIM_NISS), ("role", CLAIM_ROLE)):
        if not body.get(claim):
            raise ValueError(f"it carries no {getattr(mapping, field_name)} attribute")
    body.setdefault(CLAIM_AUTHN, [authentication])
    try:
        return Claims.from_jwt(body)
    except ValueError:
        raise ValueError(f"{body[CLAIM_ROLE]!r} ({mapping.role}) is not a role the gateway knows") from None


def claims_from_saml_attributes(attributes: Mapping[str, list[str]], *, authentication: str = "sts-holder-of-key") -> Claims:
    """Read the STS's SAML 1.1 attributes (name -> values) into claims.

    A provider is recognised by a certified ``…:professional:{quality}:boolean``
    (or the physician's ``doctor:boolean``) set to true, with its NIHII; a
    pharmacist by the certified recognised-pharmacy attribute with the
    pharmacy's NIHII and their own pharmacist NIHII.
    """

    def first(name: str) -> str | None:
        values = attributes.get(name) or []
        return values[0] if values else None

    niss = first(ATTR_PERSON_SSIN) or first(ATTR_CERT_HOLDER_SSIN)
    if not niss:
        raise ValueError("the assertion names no SSIN")
    name = " ".join(v for v in (first(ATTR_GIVENNAME), first(ATTR_SURNAME)) if v) or None
    cbe = first(ATTR_RTW_CBE)
    for role in RTW_TOKEN_ROLES if cbe else ():
        if (first(attr_rtw_role(role)) or "").lower() == "true":
            return Claims(niss, Role(role), organisation_cbe=cbe, display_name=name, authentication=authentication)
    for org, role in ORGANISATION_TOKEN_ROLES:
        nihii = first(attr_org_nihii(org))
        if nihii and (first(attr_org_role(org, role)) or "").lower() == "true":
            return Claims(niss, Role(role), organisation_nihii=nihii, display_name=name, authentication=authentication)
    pharmacy = first(attr_org_nihii("pharmacy"))
    if pharmacy and (first(attr_org_recognised("pharmacy")) or "").lower() == "true":
        return Claims(niss, Role.PHARMACIST, "pharmacist", first(attr_professional_nihii("pharmacist")), pharmacy,
                      display_name=name, authentication=authentication)
    if (first(ATTR_DOCTOR_BOOLEAN) or "").lower() == "true":
        return Claims(niss, Role.PROVIDER, "doctor", first(ATTR_DOCTOR_NIHII), display_name=name, authentication=authentication)
    for attr, values in attributes.items():
        prefix, suffix = "urn:be:fgov:person:ssin:ehealth:1.0:professional:", ":boolean"
        if attr.startswith(prefix) and attr.endswith(suffix) and values and values[0].lower() == "true":
            quality = attr[len(prefix):-len(suffix)]
            return Claims(niss, Role.PROVIDER, quality, first(attr_professional_nihii(quality)), display_name=name,
                          authentication=authentication)
    return Claims(niss, Role.PATIENT, display_name=name, authentication=authentication)
