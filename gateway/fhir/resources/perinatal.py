"""The perinatal programme on FHIR (PN-1, PN-2, RF-3): its resources, told
from the other programmes' by the ``pn-`` id prefix and by their profile
or type, so that each resource type keeps one endpoint.

- EpisodeOfCare ``pn-<id>`` (be-cg-perinatal-episode): the woman's follow-up,
  opened with a POST by a professional of her care team with her consent's
  date; a PUT adds the child once born (the follow-up then ends on the
  child's third birthday). Searched by patient-identifier with
  ``type=…/perinatal-episode-type|perinatal-follow-up``.
- Consent ``pn-<episode id>`` (be-cg-perinatal-consent): her consent; a PUT
  with status inactive withdraws it (by her, or recorded by her team).
- Questionnaire ``perinatal-screening``, and QuestionnaireResponse ``pn-<id>``
  (be-cg-perinatal-screening): the screening, filled (POST) by her team,
  searched by subject (the episode).
- RiskAssessment ``pn-<screening id>`` (be-cg-perinatal-profile): the
  vulnerability profile derived from the screening, read only.
- DocumentReference ``perinatal-privacy-statement`` and ``perinatal-terms-of-use``:
  the privacy statement and terms of use (PN-3).
- ServiceRequest of programme perinatal with ``supportingInfo`` the follow-up and
  the screening, ``reasonCode`` the domain: a referral to support (RF-3), made
  by the referral workflow.
"""

from __future__ import annotations

from typing import Any, Callable

from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.perinatal import privacy
from gateway.domain.perinatal import screening as bib
from gateway.domain.perinatal.service import OpenEpisode, ReferToSupport
from gateway.domain.perinatal.views import EpisodeView, ScreeningView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.fhirpaths import ElementPaths
from gateway.fhir.resources.listing import PATIENT_IDENTIFIER, page, patient_niss
from gateway.fhir.search import parse_token
from gateway.mapping.mapping import mapping

BASE = "https://care-gateway.be/fhir"
PREFIX = "pn-"
EPISODE_PROFILE = f"{BASE}/StructureDefinition/be-cg-perinatal-episode"
SCREENING_PROFILE = f"{BASE}/StructureDefinition/be-cg-perinatal-screening"
PROFILE_PROFILE = f"{BASE}/StructureDefinition/be-cg-perinatal-profile"
CONSENT_PROFILE = f"{BASE}/StructureDefinition/be-cg-perinatal-consent"
TYPE_SYSTEM = f"{BASE}/CodeSystem/perinatal-episode-type"
TYPE_CODE = "perinatal-follow-up"
DOMAIN_SYSTEM = f"{BASE}/CodeSystem/perinatal-vulnerability-domain"
QUESTIONNAIRE = f"{BASE}/Questionnaire/{bib.QUESTIONNAIRE_ID}"
CHILD = f"{BASE}/StructureDefinition/perinatal-child"


def snake(domain: str) -> str:
    return domain.replace("-", "_")


def own_id(id: str, what: str, resource_type: str) -> str:
    if not id.startswith(PREFIX):
        raise FhirError.simple(404, "not-found", f"A perinatal {what}'s id is pn-<id>.", error_code=f"unknown-{what}",
                               expression=f"{resource_type}.id")
    return id[len(PREFIX):]


def target_id(reference: str, resource_type: str, where: str, rule: str) -> str:
    kind, _, target = (reference or "").partition("/")
    if kind != resource_type or not target.startswith(PREFIX) or "/" in target:
        raise FhirError.simple(422, "invalid", f"{where} names a perinatal {resource_type}: {resource_type}/pn-<id>.",
                               expression=where, error_code="invalid-reference", rule=rule)
    return target[len(PREFIX):]


def _ordered(resource: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    return {**{k: resource[k] for k in first if k in resource}, **{k: v for k, v in resource.items() if k not in first}}


def _current(resource: dict[str, Any], vid: str) -> dict[str, Any]:
    if resource["meta"]["versionId"] != vid:
        kind = resource["resourceType"]
        raise FhirError.simple(404, "not-found", f"{kind}/{resource['id']} is at version {resource['meta']['versionId']}; only "
                               "the current version is kept.", error_code="unknown-version", expression=f"{kind}.meta.versionId")
    return resource


# ------------------------------------------------------------------ views


def episode_to_fhir(view: EpisodeView) -> dict[str, Any]:
    resource = mapping("perinatal_episode").to_fhir({
        "id": PREFIX + view.id, "version": str(view.version), "woman_niss": view.woman_niss, "status": view.status,
        "care_team": f"CareTeam/{view.care_team_id}", "pregnancy_declared_on": view.pregnancy_declared_on,
        "expected_delivery": view.expected_delivery, "consent_given_on": view.consent.given_on, "child_niss": view.child_niss,
        "ends_on": view.ends_on, "opened_by_nihii": view.opened_by_nihii, "updated_at": instant(view.updated_at),
    })
    for ext in resource.get("extension", []):
        if ext["url"] == CHILD:
            ext["valueIdentifier"]["system"] = SSIN_SYSTEM
    return _ordered(resource, ("resourceType", "id", "meta", "extension", "status", "type"))


def consent_to_fhir(view: EpisodeView) -> dict[str, Any]:
    consent = view.consent
    resource = mapping("perinatal_consent").to_fhir({
        "id": PREFIX + view.id, "status": consent.status, "woman_niss": view.woman_niss, "given_on": consent.given_on,
        "withdrawn_at": instant(consent.withdrawn_at) if consent.withdrawn_at else None,
        "episode": f"EpisodeOfCare/{PREFIX}{view.id}",
    })
    resource["meta"].update(versionId=str(view.version), lastUpdated=instant(view.updated_at))
    resource["provision"]["data"][0]["meaning"] = "related"
    if consent.withdrawn_at is not None:
        resource["provision"]["period"]["start"] = consent.given_on.isoformat()
    return _ordered(resource, ("resourceType", "id", "meta", "status", "scope", "category", "patient", "dateTime"))


def screening_to_fhir(view: ScreeningView) -> dict[str, Any]:
    values: dict[str, Any] = {snake(d): a for d, a in view.answers.items()}
    values.update(id=PREFIX + view.id, episode=f"EpisodeOfCare/{PREFIX}{view.episode_id}",
                  questionnaire=f"{QUESTIONNAIRE}|{view.questionnaire_version}", screened_by_nihii=view.screened_by_nihii,
                  created_at=instant(view.created_at))
    resource = mapping("perinatal_screening").to_fhir(values)
    resource["meta"]["versionId"] = "1"
    order = list(bib.domains())
    resource["item"] = sorted(resource["item"], key=lambda i: order.index(i["linkId"]))
    return _ordered(resource, ("resourceType", "id", "meta", "questionnaire", "status", "subject"))


def profile_to_fhir(view: ScreeningView) -> dict[str, Any]:
    values: dict[str, Any] = {f"need_{snake(d)}": n for d, n in view.needs.items()}
    values.update(id=PREFIX + view.id, woman_niss=view.woman_niss, screening=f"QuestionnaireResponse/{PREFIX}{view.id}", profile_version=view.profile_version,
                  created_at=instant(view.created_at))
    resource = mapping("perinatal_profile").to_fhir(values)
    resource["meta"]["versionId"] = "1"
    order = list(bib.domains())
    resource["prediction"] = sorted(resource["prediction"], key=lambda p: order.index(p["id"]))
    return _ordered(resource, ("resourceType", "id", "meta", "status", "method", "subject"))


# --------------------------------------------------------------- handlers


class PerinatalEpisodeHandler(ResourceHandler):
    resource_type = "EpisodeOfCare"
    profile = EPISODE_PROFILE
    interactions = ("read", "vread", "create", "update", "search-type")
    documentation = ("A perinatal follow-up (type perinatal-episode-type#perinatal-follow-up, id pn-<id>): opened by a "
                     "professional of the woman's care team with the day she consented (extension perinatal-consent-given, "
                     "PN-2); a PUT adds the child (extension perinatal-child) once born, the follow-up then ends on the "
                     "child's third birthday. Searched by patient-identifier with "
                     f"type={TYPE_SYSTEM}|{TYPE_CODE} (PN-1, CT-5).")
    search_params = (
        SearchParam("patient-identifier", "token", "The woman's NISS", PATIENT_IDENTIFIER),
        SearchParam("type", "token", f"{TYPE_SYSTEM}|{TYPE_CODE} for perinatal follow-ups"),
    )
    paths = {"patient": "EpisodeOfCare.patient.identifier", "team": "EpisodeOfCare.team",
             "consent.date": f"EpisodeOfCare.extension('{BASE}/StructureDefinition/perinatal-consent-given')",
             "period.start": "EpisodeOfCare.period.start", "period.end": "EpisodeOfCare.period.end",
             "expected_delivery": f"EpisodeOfCare.extension('{BASE}/StructureDefinition/perinatal-expected-delivery')",
             "child": f"EpisodeOfCare.extension('{CHILD}')"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return episode_to_fhir(call.cases.perinatal.read(call.principal, own_id(id, "episode", "EpisodeOfCare"), channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return _current(self.read(call, id), vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        if resource.get("status") != "active":
            raise FhirError.simple(422, "business-rule", "A perinatal follow-up is opened with status active.",
                                   expression="EpisodeOfCare.status", error_code="invalid-initial-status", rule="PN-1")
        values = mapping("perinatal_episode").from_fhir(resource, only={"woman_niss", "care_team", "pregnancy_declared_on",
                                                                       "expected_delivery", "consent_given_on"})
        if values["consent_given_on"] is None:
            raise FhirError.simple(422, "required", "A perinatal follow-up rests on the woman's consent: give the day she "
                                   "consented (extension perinatal-consent-given).", expression=self.paths["consent.date"],
                                   error_code="missing-consent", rule="PN-2")
        team = values.pop("care_team")
        kind, _, team_id = team.partition("/")
        if kind != "CareTeam" or not team_id:
            raise FhirError.simple(422, "invalid", "EpisodeOfCare.team names the care team: CareTeam/<id>.",
                                   expression="EpisodeOfCare.team", error_code="invalid-reference", rule="CT-5")
        view = call.cases.perinatal.open(call.principal, OpenEpisode(care_team_id=team_id, **values), channel=CHANNEL)
        return Written(episode_to_fhir(view), True)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        """Only the child is added (once); anything else of a follow-up is fixed."""
        episode_id = own_id(id, "episode", "EpisodeOfCare")
        child = mapping("perinatal_episode").from_fhir(resource, only={"child_niss"})["child_niss"]
        perinatal = call.cases.perinatal
        if child is None:
            raise FhirError.simple(422, "business-rule", "A PUT of a perinatal follow-up adds the child (extension "
                                   "perinatal-child, the child's NISS); nothing else of it changes.",
                                   expression="EpisodeOfCare.extension", error_code="invalid-change", rule="PN-1")
        return Written(episode_to_fhir(perinatal.link_child(call.principal, episode_id, child, channel=CHANNEL)), False)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        niss = patient_niss(call, params, "perinatal follow-ups")
        views = call.cases.perinatal.of_woman(call.principal, niss, channel=CHANNEL)
        return page([episode_to_fhir(v) for v in views], count, cursor)


class PerinatalConsentHandler(ResourceHandler):
    resource_type = "Consent"
    profile = CONSENT_PROFILE
    interactions = ("read", "vread", "update")
    documentation = ("The woman's consent to her perinatal follow-up (Consent pn-<episode id>, PN-2): active while given; a PUT "
                     "with status inactive withdraws it, by her or recorded by a professional of her care team. From then on "
                     "nothing more is processed for anyone but her; what was done stays.")
    paths = {"status": "Consent.status"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return consent_to_fhir(call.cases.perinatal.read(call.principal, own_id(id, "consent", "Consent"), channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return _current(self.read(call, id), vid)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        if resource.get("status") != "inactive":
            raise FhirError.simple(422, "business-rule", "A perinatal consent changes only by its withdrawal: status inactive.",
                                   expression="Consent.status", error_code="invalid-status-change", rule="PN-2")
        view = call.cases.perinatal.withdraw_consent(call.principal, own_id(id, "consent", "Consent"), channel=CHANNEL)
        return Written(consent_to_fhir(view), False)


class PerinatalScreeningHandler(ResourceHandler):
    resource_type = "QuestionnaireResponse"
    profile = SCREENING_PROFILE
    interactions = ("read", "vread", "create", "search-type")
    documentation = (f"A perinatal screening (QuestionnaireResponse pn-<id>, answering {QUESTIONNAIRE}): filled by a professional "
                     "of the woman's care team once she consented (PN-1, PN-2), its subject the follow-up; its derived "
                     "vulnerability profile is RiskAssessment/pn-<id>. Searched by subject=EpisodeOfCare/pn-<id>.")
    search_params = (SearchParam("subject", "reference", "The follow-up: EpisodeOfCare/pn-<id>"),)
    paths = {**{f"item.{d}": f"QuestionnaireResponse.item.where(linkId = '{d}')" for d in bib.domains()},
             "episode": "QuestionnaireResponse.subject"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        view = call.cases.perinatal.screening(call.principal, own_id(id, "screening", "QuestionnaireResponse"), channel=CHANNEL)
        return screening_to_fhir(view)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return _current(self.read(call, id), vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        if resource.get("status") != "completed":
            raise FhirError.simple(422, "business-rule", "A screening is sent completed.", expression="QuestionnaireResponse.status",
                                   error_code="invalid-initial-status", rule="PN-1")
        asked = str(resource.get("questionnaire") or "").partition("|")
        if asked[0] != QUESTIONNAIRE or (asked[2] and asked[2] != bib.questionnaire_version()):
            raise FhirError.simple(422, "business-rule", f"A screening answers {QUESTIONNAIRE}|{bib.questionnaire_version()}.",
                                   expression="QuestionnaireResponse.questionnaire", error_code="wrong-questionnaire", rule="PN-1")
        known = {i.get("linkId") for i in resource.get("item") or []} - set(bib.domains())
        if known:
            name = sorted(str(k) for k in known)[0]
            raise FhirError.simple(422, "business-rule", f"{name!r} is not a domain of the screening.", rule="PN-1",
                                   expression=f"QuestionnaireResponse.item.where(linkId = '{name}')", error_code="unknown-domain")
        names = {snake(d): d for d in bib.domains()}
        values = mapping("perinatal_screening").from_fhir(resource, only={*names, "episode"})
        episode = target_id(values.pop("episode"), "EpisodeOfCare", "QuestionnaireResponse.subject", "PN-1")
        view = call.cases.perinatal.screen(call.principal, episode, {names[k]: v for k, v in values.items()}, channel=CHANNEL)
        return Written(screening_to_fhir(view), True)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        subjects = values_of(params, "subject")
        if len(subjects) != 1:
            raise FhirError.simple(400, "required", "Search perinatal screenings by follow-up: subject=EpisodeOfCare/pn-<id>.",
                                   expression="subject", error_code="subject-required")
        raw = subjects[0] if "/" in subjects[0] else f"EpisodeOfCare/{subjects[0]}"
        episode = target_id(raw, "EpisodeOfCare", "subject", "PN-1")
        views = call.cases.perinatal.screenings(call.principal, episode, channel=CHANNEL)
        return page([screening_to_fhir(v) for v in views], count, cursor)


class PerinatalProfileHandler(ResourceHandler):
    resource_type = "RiskAssessment"
    profile = PROFILE_PROFILE
    interactions = ("read", "vread")
    documentation = ("The vulnerability profile derived from a perinatal screening (RiskAssessment pn-<screening id>, PN-1): one "
                     "prediction per domain, its id the domain, saying action, none or ask-again; method names the rules' "
                     "version. Read only, under the screening's access rules (PN-2).")

    def read(self, call: Call, id: str) -> dict[str, Any]:
        view = call.cases.perinatal.screening(call.principal, own_id(id, "profile", "RiskAssessment"), channel=CHANNEL)
        return profile_to_fhir(view)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return _current(self.read(call, id), vid)


class PerinatalQuestionnaire(ResourceHandler):
    """The published screening, served as it is in profiles/."""

    resource_type = "Questionnaire"
    documentation = f"The perinatal screening ({QUESTIONNAIRE}) every be-cg-perinatal-screening answers."

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return bib.questionnaire()

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        return page([bib.questionnaire()], count, cursor)


def support_basis(basis: dict[str, str], reason_code: list[dict[str, Any]] | None) -> dict[str, Any]:
    """RF-3 on a referral to support as it is read back: the follow-up and
    the screening in ``supportingInfo``, the vulnerability domain coded in
    ``reasonCode`` beside the reason's text, as it was written."""
    reason = dict((reason_code or [{}])[0])
    reason["coding"] = [{"system": DOMAIN_SYSTEM, "code": basis["domain"]}]
    return {"supportingInfo": [{"reference": f"EpisodeOfCare/{PREFIX}{basis['episode']}"},
                               {"reference": f"QuestionnaireResponse/{PREFIX}{basis['screening']}"}],
            "reasonCode": [{"coding": reason.pop("coding"), **reason}]}


def is_perinatal_referral(resource: dict[str, Any]) -> bool:
    return any(str(r.get("reference") or "").startswith(f"QuestionnaireResponse/{PREFIX}")
               for r in resource.get("supportingInfo") or [])


class PerinatalReferralHandler(ResourceHandler):
    """RF-3: a ServiceRequest of programme perinatal whose supportingInfo
    names the follow-up and the screening, its reasonCode the vulnerability."""

    resource_type = "ServiceRequest"

    def __init__(self, profile: str | None) -> None:
        self.profile = profile

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        from gateway.fhir.resources.referral import _READ, _normalised, _performers, service_request

        infos = [str(i.get("reference") or "") for i in resource.get("supportingInfo") or []]
        screenings = [i for i in infos if i.startswith("QuestionnaireResponse/")]
        episodes = [i for i in infos if i.startswith("EpisodeOfCare/")]
        domains = [c.get("code") for rc in resource.get("reasonCode") or [] for c in rc.get("coding", [])
                   if c.get("system") == DOMAIN_SYSTEM]
        if len(screenings) != 1 or len(episodes) != 1 or len(domains) != 1:
            raise FhirError.simple(422, "business-rule", "A referral to support names the follow-up (EpisodeOfCare/pn-<id>) and "
                                   "the screening (QuestionnaireResponse/pn-<id>) in supportingInfo, and the vulnerability in "
                                   f"reasonCode ({DOMAIN_SYSTEM}).", expression="ServiceRequest.supportingInfo",
                                   error_code="vulnerability-required", rule="RF-3")
        screening = target_id(screenings[0], "QuestionnaireResponse", "ServiceRequest.supportingInfo", "RF-3")
        episode = target_id(episodes[0], "EpisodeOfCare", "ServiceRequest.supportingInfo", "RF-3")
        incoming = _normalised(resource)
        values = mapping("referral").from_fhir(incoming, only=_READ)
        if values["programme"] != "perinatal":
            raise FhirError.simple(422, "business-rule", "A referral to support from a screening is of programme perinatal.",
                                   expression="ServiceRequest.category", error_code="wrong-programme", rule="RF-3")
        view = call.cases.perinatal.refer(call.principal, ReferToSupport(
            episode_id=episode, screening_id=screening, domain=str(domains[0]), service_requested=values["service_requested"],
            performers=tuple(_performers(incoming, values["performer_role"])), valid_until=values["valid_until"]), channel=CHANNEL)
        return Written(service_request(view), True)


class PerinatalDocumentHandler(ResourceHandler):
    """PN-3: the privacy statement and the terms of use, generated from
    profiles/perinatal-privacy.yaml (the programme's one source of truth)."""

    resource_type = "DocumentReference"
    interactions = ("read", "search-type")
    documentation = ("The perinatal programme's privacy statement (perinatal-privacy-statement) and terms of use "
                     "(perinatal-terms-of-use), as markdown attachments generated from the programme's data, purposes, roles, "
                     "retention and rights (PN-3); any authenticated caller reads them.")

    def _document(self, call: Call, name: str) -> dict[str, Any]:
        import base64

        text = privacy.document(name)
        source = privacy.source()
        return {
            "resourceType": "DocumentReference", "id": name, "meta": {"versionId": str(source["version"])},
            "status": "current", "docStatus": "final",
            "type": {"text": privacy.TITLES[name]},
            "category": [{"text": "perinatal programme (PN-3)"}],
            "date": f"{source['updated']}T00:00:00Z",
            "description": f"{privacy.TITLES[name]}: {source['programme']}",
            "content": [{"attachment": {"contentType": "text/markdown; charset=utf-8", "language": "en",
                                        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                                        "title": privacy.TITLES[name]}}],
        }

    def read(self, call: Call, id: str) -> dict[str, Any]:
        if id not in privacy.TITLES:
            raise FhirError.simple(404, "not-found", f"The documents served are {', '.join(privacy.TITLES)}.",
                                   error_code="unknown-document", expression="DocumentReference.id")
        return self._document(call, id)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        return page([self._document(call, name) for name in privacy.TITLES], count, cursor)


# --------------------------------------------------------------- dispatch


class ProgrammeDispatch(ResourceHandler):
    """One resource type shared with another programme: each interaction goes
    to the perinatal handler for a ``pn-`` id (or ``ids``), a written resource
    ``written`` says is perinatal, or a search ``searched`` says is; to the
    other handler otherwise."""

    def __init__(self, other: ResourceHandler, mine: ResourceHandler, *, written: Callable[[dict[str, Any]], bool],
                 searched: Callable[[list[tuple[str, str]]], bool] = lambda params: False, ids: tuple[str, ...] = ()) -> None:
        self.other, self.mine, self.written, self.searched, self.ids = other, mine, written, searched, ids
        self.resource_type = other.resource_type
        self.profile = other.profile
        supported = getattr(other, "supported_profiles", ()) or ((other.profile,) if other.profile else ())
        self.supported_profiles = tuple(dict.fromkeys((*supported, *((mine.profile,) if mine.profile else ()))))
        self.interactions = tuple(dict.fromkeys(other.interactions + mine.interactions))
        names = {p.name for p in other.search_params}
        self.search_params = other.search_params + tuple(p for p in mine.search_params if p.name not in names)
        self.conditional_create, self.update_create = other.conditional_create, other.update_create
        self.includes, self.rev_includes = other.includes, other.rev_includes
        self.documentation = " ".join(d for d in (other.documentation, mine.documentation) if d)
        self.paths = ElementPaths(self.resource_type, {**mine.paths, **other.paths})

    def _by_id(self, id: str) -> ResourceHandler:
        return self.mine if id.startswith(PREFIX) or id in self.ids else self.other

    def profile_for(self, resource: dict[str, Any]) -> str | None:
        if self.written(resource):
            return self.mine.profile
        return self.other.profile_for(resource) if hasattr(self.other, "profile_for") else self.other.profile

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self._by_id(id).read(call, id)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return self._by_id(id).vread(call, id, vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        return (self.mine if self.written(resource) else self.other).create(call, resource)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        return self._by_id(id).update(call, id, resource, if_match)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        return (self.mine if self.searched(params) else self.other).search(call, params, count, cursor)

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        return self._by_id(id).history_instance(call, id)

    def history_type(self, call: Call, params: list[tuple[str, str]]) -> list[tuple[dict[str, Any], str, str]]:
        return self.other.history_type(call, params)

    def find_existing(self, call: Call, criteria: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return self.search(call, criteria, 2, None).matches


def _has_profile_or_type(profile: str, system: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def written(resource: dict[str, Any]) -> bool:
        if profile in (resource.get("meta") or {}).get("profile", []):
            return True
        return system is not None and any(c.get("system") == system for t in resource.get("type", []) for c in t.get("coding", []))

    return written


def _searches_episodes(params: list[tuple[str, str]]) -> bool:
    return any(parse_token(part).system == TYPE_SYSTEM or parse_token(part).code == TYPE_CODE
               for raw in values_of(params, "type") for part in raw.split(","))


def _searches_screenings(params: list[tuple[str, str]]) -> bool:
    return any(f"/{PREFIX}" in v or v.startswith(PREFIX) for v in values_of(params, "subject"))


def _is_screening(resource: dict[str, Any]) -> bool:
    return (SCREENING_PROFILE in (resource.get("meta") or {}).get("profile", [])
            or str(resource.get("questionnaire") or "").startswith(QUESTIONNAIRE))


def perinatal_handlers(handlers: list[ResourceHandler]) -> list[ResourceHandler]:
    """``handlers`` with the perinatal resources added: each shared type
    dispatched, the types of its own appended."""
    by_type = {h.resource_type: h for h in handlers}
    mine: dict[str, tuple[ResourceHandler, dict[str, Any]]] = {
        "EpisodeOfCare": (PerinatalEpisodeHandler(), dict(written=_has_profile_or_type(EPISODE_PROFILE, TYPE_SYSTEM),
                                                          searched=_searches_episodes)),
        "Consent": (PerinatalConsentHandler(), dict(written=_has_profile_or_type(CONSENT_PROFILE))),
        "QuestionnaireResponse": (PerinatalScreeningHandler(), dict(written=_is_screening, searched=_searches_screenings)),
        "Questionnaire": (PerinatalQuestionnaire(), dict(written=lambda r: False, ids=(bib.QUESTIONNAIRE_ID,),
                                                                     searched=lambda params: QUESTIONNAIRE in values_of(params, "url"))),
        "ServiceRequest": (PerinatalReferralHandler(by_type["ServiceRequest"].profile if "ServiceRequest" in by_type else None),
                           dict(written=is_perinatal_referral)),
    }
    out = [ProgrammeDispatch(h, mine[h.resource_type][0], **mine[h.resource_type][1]) if h.resource_type in mine else h
           for h in handlers]
    return out + [PerinatalProfileHandler(), PerinatalDocumentHandler()]


__all__ = ["PerinatalEpisodeHandler", "ProgrammeDispatch", "consent_to_fhir", "episode_to_fhir", "perinatal_handlers",
           "profile_to_fhir", "screening_to_fhir"]
