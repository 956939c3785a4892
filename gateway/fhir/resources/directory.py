"""Patient, Practitioner, PractitionerRole and Organization: people and
organisations for display, read-only (profiles be-cg-patient,
be-cg-practitioner, be-cg-practitioner-role, be-cg-organization).

- A Patient's id is the pseudonym of their NISS (``_`` written ``.``, which
  FHIR ids allow), so that no plaintext NISS is ever part of a URL; names
  and birth date come from the national register at read time (IC-R9), and
  who may read them is the consult rule (IC-A1..A4). Search by NISS goes
  through ``identifier`` (prefer ``POST Patient/_search``: a query string
  is a URL too).
- Practitioner and PractitionerRole are a CoBrHa professional (id = NIHII),
  the role being the professional in their quality: the shape a referral's
  requester uses. Organization is a CoBrHa organisation (id = NIHII).

Every read and search is one audited act of the domain; what a caller may
see (a professional's SSIN) is decided there too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.domain.directory_search import (
    DirectorySearch,
    OrganisationEntry,
    OrganisationQuery,
    ProfessionalEntry,
    ProfessionalQuery,
    professional_entry,
)
from gateway.domain.errors import DomainError, NotFound
from gateway.domain.identifiers import CBE_SYSTEM, NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.ports import OrganisationKind
from gateway.domain.professions import PROFESSIONS
from gateway.domain.views import PersonView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult
from gateway.fhir.outcome import FhirError, from_domain
from gateway.fhir.resources.common import NIHDI_SYSTEMS, identifier_value, ssin, values_of
from gateway.fhir.search import parse_token, whole_number

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

SD = "https://care-gateway.be/fhir/StructureDefinition"
EHP_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ehp"
CD_HCPARTY = "https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-hcparty"
ORGANISATION_TYPE = "https://care-gateway.be/fhir/CodeSystem/organisation-type"

# CD-HCPARTY has no code for an integrated-care project: ours (profiles/CodeSystem-organisation-type.json).
# CD-HCPARTY's displays are HL7 Belgium's own (hl7.fhir.be.core), checked by the validator.
KIND_CODING: dict[OrganisationKind, tuple[str, str, str]] = {
    OrganisationKind.HOSPITAL: (CD_HCPARTY, "orghospital", "hospital"),
    OrganisationKind.PHARMACY: (CD_HCPARTY, "orgpharmacy", "independent pharmacy"),
    OrganisationKind.INSURER: (CD_HCPARTY, "orginsurance", "insurance"),
    OrganisationKind.PSI: (ORGANISATION_TYPE, "psi", "Integrated-care project (PSI)"),
    OrganisationKind.AUTHORITY: (ORGANISATION_TYPE, "authority", "Public authority (INAMI)"),
}


# ------------------------------------------------------------------ wiring


def directory_search(cases: "UseCases") -> DirectorySearch:
    """The directory searches of this gateway's domain (whichever directory
    the composition root gave it: the face never picks one)."""
    return cases.directory.search


def patient_id(cases: "UseCases", niss: str) -> str:
    """The FHIR id of the patient with this NISS: its pseudonym, URL- and id-safe."""
    return cases.ctx.pseudonyms.pseudonymise(niss).replace("_", ".")


def pseudonym_of(id: str) -> str:
    return id.replace(".", "_")


# ----------------------------------------------------------------- helpers


def _one(name: str, values: list[str]) -> str | None:
    """One value per parameter: this server does not OR values with commas, nor repeat them."""
    if not values:
        return None
    if len(values) > 1 or "," in values[0]:
        raise FhirError.simple(400, "not-supported", f"Give one value of {name} (no repetition, no comma-separated alternatives).",
                               expression=name, error_code="one-value-only")
    if not values[0].strip():
        raise FhirError.simple(400, "invalid", f"{name} is empty.", expression=name, error_code="empty-search-value")
    return values[0].strip()


def offset_cursor(cursor: str | None) -> int:
    """The offset an opaque paging cursor of ours stands for (0 without one)."""
    if cursor is None:
        return 0
    value = whole_number(cursor)
    if value is None:
        raise FhirError.simple(400, "invalid", "The paging cursor is not one this server gave; start the search again.",
                               expression="_cursor", error_code="invalid-cursor")
    return value


def _reference_id(name: str, raw: str, resource_type: str) -> str:
    """``Type/id``, an absolute URL ending so, or a bare id."""
    parts = raw.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != resource_type:
        raise FhirError.simple(400, "invalid", f"{name} must name a {resource_type}, not {raw!r}.", expression=name,
                               error_code="wrong-reference-type")
    return parts[-1]


def _as_not_found(exc: DomainError, handler: ResourceHandler) -> FhirError:
    """A read by id whose id is malformed is a 404 (the refusal is audited all the same)."""
    error = from_domain(exc, handler.paths)
    if exc.category == "invalid":
        issue = error.issues[0]
        return FhirError.simple(404, "not-found", f"No {handler.resource_type} with this id: {issue.message}",
                                error_code=issue.error_code, expression=f"{handler.resource_type}.id")
    return error


def _qualification(quality: str) -> dict[str, Any]:
    profession = PROFESSIONS.get(quality)
    if profession is None:
        return {"text": quality}
    return {"coding": [{"system": CD_HCPARTY, "code": profession.hcparty, "display": profession.display}], "text": profession.label}


def _quality_of(name: str, raw: str) -> str:
    """A CD-HCPARTY code (``persphysician``) or an STS quality (``doctor``) as the quality."""
    token = parse_token(raw)
    if token.system not in (None, CD_HCPARTY):
        raise FhirError.simple(400, "invalid", f"{name}: use codes of {CD_HCPARTY}.", expression=name, error_code="unsupported-code-system")
    code = token.code.strip().lower()
    for quality, profession in PROFESSIONS.items():
        if code in (profession.hcparty, quality):
            return quality
    known = ", ".join(sorted(p.hcparty for p in PROFESSIONS.values()))
    raise FhirError.simple(400, "invalid", f"{name}: unknown code {token.code!r}; use one of {known}.", expression=name,
                           error_code="unknown-code")


def _kind_of(raw: str) -> OrganisationKind:
    token = parse_token(raw)
    for kind, (system, code, _) in KIND_CODING.items():
        if token.code == code and token.system in (None, system):
            return kind
    known = ", ".join(f"{s}|{c}" for s, c, _ in KIND_CODING.values())
    raise FhirError.simple(400, "invalid", f"type: unknown organisation type {raw!r}; use one of {known}.", expression="type",
                           error_code="unknown-code")


def _professional_identifier(query: dict[str, str], raw: str) -> None:
    token = parse_token(raw)
    if token.system in NIHDI_SYSTEMS:
        query["nihii"] = identifier_value("identifier", raw, NIHDI_SYSTEMS)
    elif token.system == SSIN_SYSTEM:
        query["ssin"] = identifier_value("identifier", raw, (SSIN_SYSTEM,))
    else:
        raise FhirError.simple(400, "invalid", f"identifier: give the system, {NIHDI_SYSTEM}|NIHII or {SSIN_SYSTEM}|SSIN.",
                               expression="identifier", error_code="unsupported-identifier-system")


def _organisation_identifier(query: dict[str, str], raw: str) -> None:
    token = parse_token(raw)
    if token.system in NIHDI_SYSTEMS:
        query["nihii"] = identifier_value("identifier", raw, NIHDI_SYSTEMS)
    elif token.system in (CBE_SYSTEM, EHP_SYSTEM):
        query["cbe" if token.system == CBE_SYSTEM else "ehp"] = identifier_value("identifier", raw, (CBE_SYSTEM, EHP_SYSTEM))
    else:
        raise FhirError.simple(400, "invalid", f"identifier: give the system, {NIHDI_SYSTEM}|NIHII, {CBE_SYSTEM}|CBE or {EHP_SYSTEM}|EHP.",
                               expression="identifier", error_code="unsupported-identifier-system")


# --------------------------------------------------------------- resources


def patient_resource(cases: "UseCases", person: PersonView) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": patient_id(cases, person.niss), "meta": {"profile": [f"{SD}/be-cg-patient"]},
        "identifier": [{"use": "official", "system": SSIN_SYSTEM, "value": person.niss}],
        "name": [{"use": "official", "family": person.last_name, "given": [person.first_name]}],
    }
    if person.birth_date:
        resource["birthDate"] = person.birth_date.isoformat()
    if person.death_date:
        resource["deceasedDateTime"] = person.death_date.isoformat()
    return resource


def practitioner_resource(cases: "UseCases", entry: ProfessionalEntry) -> dict[str, Any]:
    identifiers = [{"use": "official", "system": NIHDI_SYSTEM, "value": entry.nihii}]
    if entry.niss:
        identifiers.append({"use": "official", "system": SSIN_SYSTEM, "value": entry.niss})
    qualification: dict[str, Any] = {"identifier": [{"system": NIHDI_SYSTEM, "value": entry.nihii}], "code": _qualification(entry.quality)}
    if entry.visa_valid_until:
        qualification["period"] = {"end": entry.visa_valid_until.isoformat()}  # the visa to practise
    return {
        "resourceType": "Practitioner", "id": entry.nihii, "meta": {"profile": [f"{SD}/be-cg-practitioner"]},
        "identifier": identifiers, "active": entry.visa_valid_on(cases.clock.today()),
        "name": [{"use": "official", "family": entry.last_name, "given": [entry.first_name]}],
        "qualification": [qualification],
    }


def practitioner_role_resource(cases: "UseCases", entry: ProfessionalEntry) -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole", "id": entry.nihii, "meta": {"profile": [f"{SD}/be-cg-practitioner-role"]},
        "active": entry.visa_valid_on(cases.clock.today()),
        "practitioner": {"reference": f"Practitioner/{entry.nihii}", "identifier": {"system": NIHDI_SYSTEM, "value": entry.nihii},
                         "display": f"{entry.first_name} {entry.last_name}"},
        "code": [_qualification(entry.quality)],
    }


def organization_resource(entry: OrganisationEntry) -> dict[str, Any]:
    identifiers = [{"use": "official", "system": NIHDI_SYSTEM, "value": entry.nihii},
                   {"use": "official", "system": CBE_SYSTEM, "value": entry.cbe}]
    if entry.ehp:
        identifiers.append({"use": "official", "system": EHP_SYSTEM, "value": entry.ehp})
    system, code, display = KIND_CODING[entry.kind]
    return {
        "resourceType": "Organization", "id": entry.nihii, "meta": {"profile": [f"{SD}/be-cg-organization"]},
        "identifier": identifiers, "active": True,
        "type": [{"coding": [{"system": system, "code": code, "display": display}]}], "name": entry.name,
    }


# ---------------------------------------------------------------- handlers


class PatientHandler(ResourceHandler):
    resource_type = "Patient"
    profile = f"{SD}/be-cg-patient"
    interactions = ("read", "search-type")
    documentation = ("A patient as the national register shows them now (IC-R9): name and birth date are never stored. The id is "
                     "opaque (the NISS's pseudonym); find it by identifier. Reading follows the consult rules: a provider "
                     "with a therapeutic relationship (IC-A1), a pharmacist through the pharmacy's (IC-A2), PSI staff for people "
                     "included in their project (IC-A3), the patient themselves (IC-A4).")
    search_params = (SearchParam("identifier", "token", f"The NISS: {SSIN_SYSTEM}|NISS (prefer POST Patient/_search)"),)
    paths = {"identifier": "Patient.identifier", "id": "Patient.id"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        person = directory_search(call.cases).patient_by_pseudonym(call.principal, pseudonym_of(id), channel=CHANNEL)
        return patient_resource(call.cases, person)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        raw = _one("identifier", values_of(params, "identifier"))
        if raw is None:
            raise FhirError.simple(400, "invalid", f"Search patients by identifier={SSIN_SYSTEM}|NISS.", expression="identifier",
                                   error_code="search-criteria-missing")
        try:
            person = call.cases.directory.patient(call.principal, ssin("identifier", raw), channel=CHANNEL)
        except NotFound:  # audited as refused; a search that finds no one is an empty Bundle
            return SearchResult([], total=0)
        return SearchResult([patient_resource(call.cases, person)], total=1)


class PractitionerHandler(ResourceHandler):
    resource_type = "Practitioner"
    profile = f"{SD}/be-cg-practitioner"
    interactions = ("read", "search-type")
    documentation = ("A care professional as CoBrHa knows them (id = NIHII). The SSIN is shown to, and searchable by, callers "
                     "acting as a professional or an organisation only. active = the visa to practise is valid today.")
    search_params = (
        SearchParam("identifier", "token", f"{NIHDI_SYSTEM}|NIHII or {SSIN_SYSTEM}|SSIN"),
        SearchParam("name", "string", "Family or given name, as a prefix (no case, accents or spaces)"),
        SearchParam("family", "string", "Family name, as a prefix"),
        SearchParam("given", "string", "Given name, as a prefix"),
        SearchParam("qualification", "token", f"The profession: {CD_HCPARTY}|persphysician, persnurse, ..."),
    )
    paths = {"identifier": "Practitioner.identifier", "search": "Practitioner"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return practitioner_resource(call.cases, _professional(self, call, id))

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        query: dict[str, str] = {}
        for raw in values_of(params, "identifier"):
            _professional_identifier(query, raw)
        for name in ("name", "family", "given"):
            value = _one(name, values_of(params, name))
            if value:
                query[name] = value
        qualification = _one("qualification", values_of(params, "qualification"))
        if qualification:
            query["quality"] = _quality_of("qualification", qualification)
        page = directory_search(call.cases).professionals(call.principal, ProfessionalQuery(**query), count=count,
                                                       offset=offset_cursor(cursor), channel=CHANNEL)
        return SearchResult([practitioner_resource(call.cases, e) for e in page.items],
                            str(page.next_offset) if page.next_offset is not None else None, total=page.total)


class PractitionerRoleHandler(ResourceHandler):
    resource_type = "PractitionerRole"
    profile = f"{SD}/be-cg-practitioner-role"
    interactions = ("read", "search-type")
    documentation = ("A care professional in their quality (id = their NIHII), the shape of a referral's requester: practitioner "
                     "by reference and NIHII identifier, code = the CD-HCPARTY profession.")
    search_params = (
        SearchParam("practitioner", "reference", "Practitioner/NIHII"),
        SearchParam("role", "token", f"The profession: {CD_HCPARTY}|persphysician, persnurse, ..."),
    )
    paths = {"identifier": "PractitionerRole.practitioner.identifier", "search": "PractitionerRole"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return practitioner_role_resource(call.cases, _professional(self, call, id))

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        query: dict[str, str] = {}
        practitioner = _one("practitioner", values_of(params, "practitioner"))
        if practitioner:
            query["nihii"] = _reference_id("practitioner", practitioner, "Practitioner")
        role = _one("role", values_of(params, "role"))
        if role:
            query["quality"] = _quality_of("role", role)
        page = directory_search(call.cases).professionals(call.principal, ProfessionalQuery(**query), count=count,
                                                       offset=offset_cursor(cursor), channel=CHANNEL)
        return SearchResult([practitioner_role_resource(call.cases, e) for e in page.items],
                            str(page.next_offset) if page.next_offset is not None else None, total=page.total)


class OrganizationHandler(ResourceHandler):
    resource_type = "Organization"
    profile = f"{SD}/be-cg-organization"
    interactions = ("read", "search-type")
    documentation = ("A care organisation as CoBrHa knows it (id = NIHII): hospital, public pharmacy, insurer (CD-HCPARTY "
                     f"orghospital, orgpharmacy, orginsurance) or integrated-care project ({ORGANISATION_TYPE}|psi).")
    search_params = (
        SearchParam("identifier", "token", f"{NIHDI_SYSTEM}|NIHII, {CBE_SYSTEM}|CBE or {EHP_SYSTEM}|EHP"),
        SearchParam("type", "token", f"{CD_HCPARTY}|orghospital, orgpharmacy, orginsurance, or {ORGANISATION_TYPE}|psi"),
        SearchParam("name", "string", "Part of the name (no case, accents or spaces)"),
    )
    paths = {"identifier": "Organization.identifier", "search": "Organization"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        try:
            record = call.cases.directory.organisation(call.principal, id, channel=CHANNEL)
        except DomainError as exc:
            raise _as_not_found(exc, self) from None
        return organization_resource(directory_search(call.cases).organisation_entry(record))

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        query: dict[str, Any] = {}
        for raw in values_of(params, "identifier"):
            _organisation_identifier(query, raw)
        kind = _one("type", values_of(params, "type"))
        if kind:
            query["kind"] = _kind_of(kind)
        name = _one("name", values_of(params, "name"))
        if name:
            query["name"] = name
        page = directory_search(call.cases).organisations(call.principal, OrganisationQuery(**query), count=count,
                                                       offset=offset_cursor(cursor), channel=CHANNEL)
        return SearchResult([organization_resource(e) for e in page.items],
                            str(page.next_offset) if page.next_offset is not None else None, total=page.total)


def _professional(handler: ResourceHandler, call: Call, nihii: str) -> ProfessionalEntry:
    try:
        record = call.cases.directory.professional(call.principal, nihii, channel=CHANNEL)
    except DomainError as exc:
        raise _as_not_found(exc, handler) from None
    return professional_entry(call.principal, record)


def directory_handlers() -> list[ResourceHandler]:
    return [PatientHandler(), PractitionerHandler(), PractitionerRoleHandler(), OrganizationHandler()]
