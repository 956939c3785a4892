"""The care-team and referral mappings: their ConceptMaps are valid R4,
status codes read back as they were written, a per-item mapping (one
CareTeam.participant) has no resourceType and names the item in its errors,
and a Reference holds one identifier."""

from __future__ import annotations

import json
from datetime import date

import pytest

from gateway.conformance.fhir.validator import FhirValidator
from gateway.contracts import contract
from gateway.domain.care_teams import KINDS, MEMBER_KINDS
from gateway.domain.referrals import PROGRAMMES, TASK_TRANSITIONS, TRANSITIONS
from gateway.mapping.conceptmaps import conceptmap
from gateway.mapping.mapping import MappingError, mapping

SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
MINE = ("care-team-kind", "care-team-member-kind", "referral-programme", "referral-status-service-request", "referral-status-task")


@pytest.mark.parametrize("name", MINE)
def test_conceptmaps_are_valid_r4(name):
    resource = json.loads(contract("mappings", "conceptmaps", f"{name}.json").read_text(encoding="utf-8"))
    result = FhirValidator.default().validate(resource)
    assert result.valid, result.findings()


def test_every_domain_code_has_a_wire_code():
    assert set(conceptmap("care-team-kind").forward) == set(KINDS)
    assert set(conceptmap("care-team-member-kind").forward) == set(MEMBER_KINDS)
    assert set(conceptmap("referral-programme").forward) == set(PROGRAMMES)
    assert set(conceptmap("referral-status-service-request").forward) == set(TRANSITIONS)
    assert set(conceptmap("referral-status-task").forward) == set(TASK_TRANSITIONS)


def test_RF_1_statuses_are_fhirs_one_to_one():
    """The referral's status is FHIR's request status, each performer's Task's FHIR's task status: both read back as written."""
    for name, statuses in (("referral-status-service-request", TRANSITIONS), ("referral-status-task", TASK_TRANSITIONS)):
        codes = conceptmap(name)
        assert all(codes.to_wire(status) == status and codes.to_domain(status) == status for status in statuses), name


def test_a_participant_maps_alone_and_its_errors_name_the_item():
    member = mapping("care_team_member")
    item = member.to_fhir({"kind": "patient", "niss": "61033029906", "role": "patient", "period_start": date(2026, 1, 1)})
    assert item == {"member": {"type": "Patient", "identifier": {"system": SSIN, "value": "61033029906"}},
                    "role": [{"text": "patient"}], "period": {"start": "2026-01-01"}}
    assert member.from_fhir(item)["niss"] == "61033029906"
    with pytest.raises(MappingError) as err:
        member.from_fhir({"member": {"type": "Device"}}, at="CareTeam.participant[3]")
    assert (err.value.code, err.value.path) == ("unknown-code", "CareTeam.participant[3].member.type")


def test_a_care_team_without_patient_has_no_subject():
    team = mapping("care_team").to_fhir({"id": "t", "gateway_id": "t", "kind": "administrative-group", "status": "active",
                                         "managing_organisation": "98132227000"})
    assert "subject" not in team
    assert team["managingOrganization"] == [{"identifier": {"system": "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi",
                                                            "value": "98132227000"}}]
    assert team["identifier"] == [{"system": "https://care-gateway.be/fhir/NamingSystem/care-team", "value": "t"}]
