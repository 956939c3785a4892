"""FHIR and SOAP faces, one set of rules: the same scenario run through the
FHIR face (fhirpy-free raw FHIR over httpx, IdP and token-exchange tokens)
and through IntegratedCare (zeep, STS tokens) answers the same outcome
(the same error code and rule id for every refusal), leaves the same
stored state, and the same audit trail but for the channel.

The runs share one live gateway: the FHIR run on a fresh database, then the
tables are emptied, the clock is set back, and the SOAP run follows.
Inclusion and consent ids are generated, so both runs name them by order
of creation before comparing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

import httpx
import pytest
import zeep
from sqlalchemy import select, text

from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.model import AuditRecord, AuditSubject, Base, ConsentDecision, Inclusion, InclusionChange, Patient
from gateway.ehealth.sandbox_tokens import persona_access_token
from gateway.fhir.outcome import ERROR_CODE_SYSTEM, RULE_SYSTEM
from tests.soap.conftest import fault_detail

INCLUSION = "https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion"
STATUS_CS = "https://care-gateway.be/fhir/CodeSystem/inclusion-status"
CONSENT_EXT = "https://care-gateway.be/fhir/StructureDefinition/research-consent"
FHIR_DECISION = {"agree": "permit", "refuse": "deny"}
DOMAIN_TABLES = (Patient, Inclusion, InclusionChange, ConsentDecision, AuditRecord)

Outcome = tuple[Any, ...]


# ------------------------------------------------------------------ the two faces


class Fhir:
    """The acts through the FHIR face, as a FHIR client does them (a PUT sends
    the whole resource, last seen from the server's own answers)."""

    def __init__(self, live: Any, personas: dict[str, Any]) -> None:
        self.live, self.personas = live, personas
        self.tokens: dict[str, str] = {}
        self.resources: dict[str, dict[str, Any]] = {}

    def _headers(self, who: str, **extra: str) -> dict[str, str]:
        if who not in self.tokens:
            self.tokens[who] = persona_access_token(self.live.base_url, self.live.gw.platform.pki, self.personas[who], clock=self.live.clock)
        return {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/fhir+json", **extra}

    def _url(self, path: str) -> str:
        return f"{self.live.base_url}/fhir/{path}"

    @staticmethod
    def _refusal(response: httpx.Response) -> Outcome:
        codings = [c for i in response.json()["issue"] for c in i.get("details", {}).get("coding", [])]
        code = next((c["code"] for c in codings if c["system"] == ERROR_CODE_SYSTEM), None)
        rule = next((c["code"] for c in codings if c["system"] == RULE_SYSTEM), None)
        return ("refused", code, rule)

    def _inclusion(self, label: str, response: httpx.Response) -> Outcome:
        if response.status_code >= 400:
            return self._refusal(response)
        resource = response.json()
        self.resources[label] = resource
        status = resource["type"][0]["coding"][0]["code"]
        return ("ok", status, resource["period"]["start"], resource["period"].get("end"), int(resource["meta"]["versionId"]))

    def declare(self, who: str, label: str, patient: str, psi: str, status: str, start: date, consent: str | None) -> Outcome:
        resource: dict[str, Any] = {
            "resourceType": "EpisodeOfCare", "meta": {"profile": [INCLUSION]}, "status": "active",
            "type": [{"coding": [{"system": STATUS_CS, "code": status}]}],
            "patient": {"identifier": {"system": SSIN_SYSTEM, "value": patient}},
            "managingOrganization": {"identifier": {"system": NIHDI_SYSTEM, "value": psi}},
            "period": {"start": start.isoformat()},
        }
        if consent:
            resource["extension"] = [{"url": CONSENT_EXT, "extension": [
                {"url": "decision", "valueCode": FHIR_DECISION[consent]}, {"url": "date", "valueDate": start.isoformat()}]}]
        return self._inclusion(label, httpx.post(self._url("EpisodeOfCare"), json=resource, headers=self._headers(who)))

    def update(self, who: str, label: str, changes: dict[str, Any], version: int | None) -> Outcome:
        resource = json.loads(json.dumps(self.resources[label]))
        if "status" in changes:
            resource["type"][0]["coding"][0]["code"] = changes["status"]
        if "start_date" in changes:
            resource["period"]["start"] = changes["start_date"].isoformat()
        if "end_date" in changes:
            resource["period"]["end"] = changes["end_date"].isoformat()
        headers = self._headers(who, **({"If-Match": f'W/"{version}"'} if version else {}))
        response = httpx.put(self._url(f"EpisodeOfCare/{resource['id']}"), json=resource, headers=headers)
        if response.status_code >= 400:
            return self._refusal(response)
        return self._inclusion(label, response)

    def record_consent(self, who: str, patient: str, decision: str, day: date) -> Outcome:
        consent = {
            "resourceType": "Consent", "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentcategorycodes", "code": "research"}]}],
            "patient": {"identifier": {"system": SSIN_SYSTEM, "value": patient}}, "dateTime": day.isoformat(),
            "policy": [{"uri": "https://care-gateway.be/fhir/policy/integrated-care-research"}],
            "provision": {"type": FHIR_DECISION[decision]},
        }
        response = httpx.post(self._url("Consent"), json=consent, headers=self._headers(who))
        if response.status_code >= 400:
            return self._refusal(response)
        stored = response.json()
        return ("ok", stored["provision"]["type"], stored["status"])

    def consents(self, who: str, patient: str) -> Outcome:
        response = httpx.get(self._url(f"Consent?patient-identifier={patient}"), headers=self._headers(who))
        if response.status_code >= 400:
            return self._refusal(response)
        return ("ok", tuple((e["resource"]["provision"]["type"], e["resource"]["status"]) for e in response.json().get("entry", [])))


class Soap:
    """The same acts through IntegratedCare, as a vendor's connector does them."""

    def __init__(self, soap: Any) -> None:
        self.soap = soap
        self.ids: dict[str, str] = {}
        self.seen: dict[str, dict[str, Any]] = {}  # the inclusion as last answered, to send it whole

    def _call(self, who: str, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.soap.service(who), operation)(**kwargs)
        except zeep.exceptions.Fault as fault:
            detail = fault_detail(fault)
            return ("refused", detail["Code"], detail["Rule"])

    def _inclusion(self, label: str, answer: Any) -> Outcome:
        if isinstance(answer, tuple):
            return answer
        inc = answer.Inclusion
        self.ids[label] = inc.InclusionId
        self.seen[label] = {"InclusionId": inc.InclusionId, "PatientSsin": inc.PatientSsin, "PsiNihii": inc.PsiNihii,
                            "Status": inc.Status, "StartDate": inc.StartDate, "EndDate": inc.EndDate}
        return ("ok", inc.Status, inc.StartDate.isoformat(), inc.EndDate.isoformat() if inc.EndDate else None, inc.Version)

    def declare(self, who: str, label: str, patient: str, psi: str, status: str, start: date, consent: str | None) -> Outcome:
        extra = {"ResearchConsent": {"Decision": consent, "Date": start}} if consent else {}
        return self._inclusion(label, self._call(who, "DeclareInclusion", PatientSsin=patient, PsiNihii=psi, Status=status,
                                                 StartDate=start, **extra))

    def update(self, who: str, label: str, changes: dict[str, Any], version: int | None) -> Outcome:
        names = {"status": "Status", "start_date": "StartDate", "end_date": "EndDate"}
        state = {**self.seen[label], **{names[k]: v for k, v in changes.items()}}
        return self._inclusion(label, self._call(who, "UpdateInclusion", Version=version, **state))

    def record_consent(self, who: str, patient: str, decision: str, day: date) -> Outcome:
        answer = self._call(who, "RecordResearchConsent", PatientSsin=patient, Decision=decision, DecisionDate=day)
        if isinstance(answer, tuple):
            return answer
        return ("ok", FHIR_DECISION[answer.ResearchConsent.Decision], answer.ResearchConsent.State)

    def consents(self, who: str, patient: str) -> Outcome:
        answer = self._call(who, "GetResearchConsent", PatientSsin=patient)
        if isinstance(answer, tuple):
            return answer
        return ("ok", tuple((FHIR_DECISION[c.Decision], c.State) for c in answer.ResearchConsent))


# ------------------------------------------------------------------ running and comparing


@dataclass
class Run:
    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)
    state: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


Step = Callable[[Any, date], tuple[str, Outcome]]


def run(live: Any, face: Any, steps: list[Step], start: datetime) -> Run:
    live.clock.set(start)
    result = Run()
    for step in steps:
        live.clock.advance(timedelta(seconds=1))
        result.outcomes.append(step(face, live.clock.today()))
    result.state = domain_state(live.gw)
    return result


def domain_state(gw: Any) -> dict[str, list[dict[str, Any]]]:
    """The domain tables, ids named by order of creation, the channel and
    the hash chain of the audit trail left out."""
    state: dict[str, list[dict[str, Any]]] = {}
    with gw.db.engine.connect() as connection:
        for model in DOMAIN_TABLES:
            table = model.__table__
            rows = [dict(r._mapping) for r in connection.execute(select(table).order_by(*table.primary_key.columns))]
            state[table.name] = rows
        subjects = AuditSubject.__table__
        named = {token: pseudonym for token, pseudonym in connection.execute(select(subjects.c.token, subjects.c.pseudonym))}
    for row in state["audit_record"]:  # a person is named by a random token: compare whom it names
        for key in ("actor_pseudonym", "patient_pseudonym"):
            row[key] = named.get(row[key], row[key])
    aliases: dict[str, str] = {}
    for i, row in enumerate(sorted(state["inclusion"], key=lambda r: (str(r["created_at"]), r["id"])), 1):
        aliases[row["id"]] = f"inclusion#{i}"
    for i, row in enumerate(state["consent_decision"], 1):
        aliases[f"consent:{row['public_id']}"] = f"consent#{i}"
    for row in state["audit_record"]:
        for key in ("channel", "hash", "prev_hash"):
            row.pop(key)
        if row["resource_type"] == "consent" and row["resource_id"]:
            row["resource_id"] = aliases.get(f"consent:{row['resource_id']}", row["resource_id"])
    for row in state["consent_decision"]:
        row["id"] = row["public_id"] = aliases[f"consent:{row['public_id']}"]
    pattern = re.compile("|".join(re.escape(k) for k in aliases if not k.startswith("consent:"))) if aliases else None

    def normalise(value: Any) -> Any:
        dumped = json.dumps(value, sort_keys=True, default=str)
        return json.loads(pattern.sub(lambda m: aliases[m.group(0)], dumped)) if pattern else json.loads(dumped)

    # ordered by content once the ids are named (a uuid primary key orders nothing); the audit keeps its seq
    return {name: sorted((normalise(row) for row in rows), key=lambda r: json.dumps(r, sort_keys=True))
            for name, rows in state.items()}


def empty_database(gw: Any) -> None:
    """Every table emptied (identities restarted), as a fresh gateway's database."""
    if gw.db.dialect == "postgresql":
        from tests.conftest import empty_tables

        empty_tables(gw.db)
        return
    with gw.db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        if connection.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")).first():
            connection.execute(text("DELETE FROM sqlite_sequence"))


def compare(fhir: Run, soap: Run) -> None:
    assert soap.outcomes == fhir.outcomes

    def rows(run: Run, table: str) -> list[dict[str, Any]]:
        return sorted(run.state[table], key=lambda r: json.dumps(r, sort_keys=True))

    for table in fhir.state:
        assert rows(soap, table) == rows(fhir, table), f"{table} differs between the faces"


# ------------------------------------------------------------------ the scenario


def scenario(personas: dict[str, Any]) -> list[Step]:
    """Every IC-A refusal an update or a declaration can meet, and the acts that are allowed."""
    patient, patient_2 = personas["patient"].niss, personas["patient-2"].niss
    psi_a, psi_b = personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii

    def declare(who: str, label: str, niss: str, psi: str, status: str, consent: str | None, days_ago: int = 40) -> Step:
        return lambda face, today: (f"{who} declares {label}", face.declare(who, label, niss, psi, status, today - timedelta(days=days_ago), consent))

    def update(who: str, label: str, version: int | None = None, **changes: Callable[[date], Any] | str) -> Step:
        def step(face: Any, today: date) -> tuple[str, Outcome]:
            values = {k: v(today) if callable(v) else v for k, v in changes.items()}
            return f"{who} updates {label} {sorted(values)}", face.update(who, label, values, version)
        return step

    def consent(who: str, niss: str, decision: str) -> Step:
        return lambda face, today: (f"{who} records {decision}", face.record_consent(who, niss, decision, today))

    def consents(who: str, niss: str) -> Step:
        return lambda face, today: (f"{who} reads consents", face.consents(who, niss))

    return [
        declare("gp", "b", patient, psi_b, "principal", "agree"),                       # IC-F1
        declare("gp", "a", patient, psi_a, "information", None),                        # IC-F1, consent in force
        declare("nurse", "x", patient, psi_a, "principal", "agree"),                    # IC-R1
        declare("gp", "y", patient_2, psi_a, "information", None),                      # IC-F1 consent-required
        declare("psi-admin", "z", patient_2, psi_b, "information", "agree"),            # IC-F1 not own PSI
        declare("excluded-profession", "w", patient_2, psi_a, "information", "agree"),  # IC-A9
        update("gp-no-link", "b", status="information"),                                # IC-A5 (no link)
        update("pharmacist-no-link", "b", end_date=lambda d: d + timedelta(days=10)),   # IC-A5 (no pharmacy link)
        update("psi-admin-other", "a", start_date=lambda d: d - timedelta(days=41)),    # IC-A3 another project's: unknown
        update("psi-admin", "a", status="principal"),                                   # IC-A6 refused
        update("psi-admin", "a", start_date=lambda d: d - timedelta(days=43)),          # IC-A6 allowed
        update("patient", "b", start_date=lambda d: d - timedelta(days=60)),            # IC-A7 refused
        update("patient-2", "b", end_date=lambda d: d),                                 # IC-A9 not own data
        consent("patient", patient, "refuse"),                                          # IC-A7 allowed
        consent("patient-2", patient, "agree"),                                         # IC-A9
        consent("gp-no-link", patient, "agree"),                                        # IC-A5 (no link)
        consents("gp", patient),                                                        # IC-A1
        consents("gp-no-link", patient),                                                # IC-A1 refused
        consents("pharmacist-no-link", patient),                                        # IC-A2 refused
        consents("psi-admin-other", patient_2),                                         # IC-A3 refused
        consents("psi-admin-other", patient),                                           # IC-A3 allowed
        consents("patient", patient),                                                   # IC-A4
        update("gp", "b", version=1, end_date=lambda d: d + timedelta(days=30)),        # IC-A5
        update("gp", "b", version=1, status="information"),                             # version conflict
        update("pharmacist", "a", end_date=lambda d: d + timedelta(days=5)),            # IC-A2, IC-A5
        update("gp", "a", status="principal"),                                          # IC-R1 (b is principal)
    ]


@pytest.fixture(scope="module")
def start(live) -> datetime:
    return live.clock.now()


def test_IC_A1_to_IC_A9_the_same_scenario_through_fhir_and_soap_leaves_the_same_state_and_audit(
        live, soap, personas, start):
    steps = scenario(personas)
    fhir = run(live, Fhir(live, personas), steps, start)
    refusals = [(name, o[1], o[2]) for name, o in fhir.outcomes if o[0] == "refused"]
    assert {rule for _, _, rule in refusals} >= {"IC-R1", "IC-F1", "IC-A1", "IC-A2", "IC-A3", "IC-A5", "IC-A6", "IC-A7", "IC-A9"}
    assert len(fhir.state["audit_record"]) >= len(steps) and fhir.state["inclusion"]

    empty_database(live.gw)
    soap_run = run(live, Soap(soap), steps, start)
    compare(fhir, soap_run)


def test_IC_F3_close_leaves_the_state_of_a_fhir_update_of_the_end_date_under_another_act_name(
        live, soap, personas, start):
    """A FHIR client excludes by PUT with period.end (the act ``inclusion.modify``);
    CloseInclusion is the domain's own exclusion act (``inclusion.close``).
    The inclusion, its billing period and the audit trail are the same but
    for that name."""
    patient, psi_a = personas["patient-2"].niss, personas["psi-admin"].organisation_nihii
    steps: list[Step] = [lambda face, today: ("declare", face.declare("gp", "c", patient, psi_a, "information", today - timedelta(days=9), "agree"))]
    empty_database(live.gw)
    fhir_face = Fhir(live, personas)
    fhir = run(live, fhir_face, steps + [lambda face, today: ("end", face.update("gp", "c", {"end_date": today}, 1))], start)

    empty_database(live.gw)
    soap_face = Soap(soap)

    def close(face: Soap, today: date) -> tuple[str, Outcome]:
        return "end", face._inclusion("c", face._call("gp", "CloseInclusion", InclusionId=face.ids["c"], EndDate=today, Version=1))

    closed = run(live, soap_face, steps + [close], start)
    assert closed.outcomes == fhir.outcomes
    soap_actions = [r["action"] for r in sorted(closed.state["audit_record"], key=lambda r: r["seq"])]
    fhir_actions = [r["action"] for r in sorted(fhir.state["audit_record"], key=lambda r: r["seq"])]
    assert soap_actions == ["inclusion.declare", "inclusion.close"]
    assert fhir_actions == ["inclusion.declare", "inclusion.modify"]
    assert sorted(c["action"] for c in closed.state["inclusion_change"]) == ["close", "declare"]
    assert sorted(c["action"] for c in fhir.state["inclusion_change"]) == ["declare", "modify"]
    for state in (closed.state, fhir.state):
        for row in state["audit_record"]:
            row["action"] = row["action"].replace("inclusion.close", "inclusion.modify")
        for row in state["inclusion_change"]:
            row["action"] = row["action"].replace("close", "modify")
    compare(fhir, closed)


def test_IC_A1_IC_A2_IC_A3_IC_A4_reads_show_the_same_inclusions_and_refuse_with_the_same_rule(
        live, soap, personas, start):
    """Reads are the same act on both faces (``inclusion.consult``: a FHIR
    search by patient is consulting them), show the same inclusions and
    refuse with the same rule."""
    empty_database(live.gw)
    run(live, Soap(soap), scenario(personas)[:2], start)
    fhir = Fhir(live, personas)
    patient = personas["patient"].niss

    def fhir_search(who: str) -> Outcome:
        response = httpx.get(fhir._url(f"EpisodeOfCare?patient-identifier={SSIN_SYSTEM}|{patient}"), headers=fhir._headers(who))
        if response.status_code >= 400:
            return fhir._refusal(response)
        return ("ok", sorted(e["resource"]["id"] for e in response.json().get("entry", []) if e.get("search", {}).get("mode") == "match"))

    def soap_consult(who: str) -> Outcome:
        answer = Soap(soap)._call(who, "GetPatientInclusions", PatientSsin=patient)
        return answer if isinstance(answer, tuple) else ("ok", sorted(i.InclusionId for i in answer.Inclusion))

    for who in ("gp", "pharmacist", "patient", "psi-admin", "psi-admin-other", "gp-no-link", "pharmacist-no-link", "patient-2",
                "excluded-profession"):
        assert soap_consult(who) == fhir_search(who), who
    assert soap.service("psi-admin").GetPatientInclusions(PatientSsin=patient).PrincipalElsewhere is True
