"""The perinatal programme in the domain: the episode and its care team,
the screening and its profile (PN-1), the consent and its withdrawal (PN-2),
the referral to support (RF-3)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from gateway.domain.model import AuditRecord
from gateway.domain.perinatal import screening as bib
from gateway.domain.perinatal.service import OpenEpisode, ReferToSupport
from gateway.domain.referrals import PerformerSpec
from tests.domain.perinatal.conftest import ALL_CLEAR, CHILD_BORN, DECLARED

CONCERNS = {**ALL_CLEAR, "housing": "concern", "violence": "concern", "language-literacy": "declined"}


def refer(personas, episode, screening, domain="housing"):
    return ReferToSupport(episode_id=episode.id, screening_id=screening.id, domain=domain,
                          service_requested="housing support service",
                          performers=(PerformerSpec(nihii=personas["psi-admin"].organisation_nihii, party_role="support-service"),))


def test_PN_1_the_episode_runs_from_the_pregnancy_to_the_child_third_birthday(gw, personas, episode, child):
    assert (episode.status, episode.consent.status, episode.ends_on) == ("active", "given", None)
    linked = gw.perinatal.link_child(personas["gp"].principal(), episode.id, child)
    assert (linked.child_niss, linked.child_born_on, linked.ends_on) == (child, CHILD_BORN, date(2028, 4, 1))
    assert [e.id for e in gw.perinatal.of_woman(personas["patient-2"].principal(), personas["patient-2"].niss)] == [episode.id]


def test_PN_1_only_the_care_team_acts_CT_5(gw, personas, team, episode):
    with pytest.raises(AccessDenied) as err:
        gw.perinatal.screen(personas["gp-no-link"].principal(), episode.id, ALL_CLEAR)
    assert (err.value.code, err.value.rule) == ("not-in-care-team", "PN-1")
    with pytest.raises(AccessDenied) as err:
        gw.perinatal.read(personas["gp-no-link"].principal(), episode.id)
    assert err.value.rule == "PN-1"
    with pytest.raises(AccessDenied) as err:  # she reads, the professionals screen
        gw.perinatal.screen(personas["patient-2"].principal(), episode.id, ALL_CLEAR)
    assert err.value.code == "professionals-only"
    with pytest.raises(Conflict):  # one follow-up in progress at a time
        gw.perinatal.open(personas["gp"].principal(), OpenEpisode(personas["patient-2"].niss, team.id, DECLARED, DECLARED))


def test_CT_3_an_administrative_group_is_no_perinatal_care_team(gw, personas):
    admin = gw.care_teams.create(personas["psi-admin"].principal(), CareTeamSpec(
        kind="administrative-group", patient_niss=personas["patient-2"].niss, managing_organisation=personas["psi-admin"].organisation_nihii,
        members=(MemberSpec("practitioner", nihii=personas["gp"].nihii, role="gp"),)))
    with pytest.raises(InvalidInput) as err:
        gw.perinatal.open(personas["gp"].principal(), OpenEpisode(personas["patient-2"].niss, admin.id, DECLARED, DECLARED))
    assert err.value.rule == "CT-3"


def test_PN_1_screening_derives_a_versioned_profile(gw, personas, episode):
    done = gw.perinatal.screen(personas["nurse"].principal(), episode.id, CONCERNS)
    assert done.action == ("housing", "violence")
    assert done.needs["language-literacy"] == "ask-again" and done.needs["financial"] == "none"
    assert (done.questionnaire_version, done.profile_version) == (bib.questionnaire_version(), bib.PROFILE_VERSION)
    assert gw.perinatal.screening(personas["patient-2"].principal(), done.id).answers == CONCERNS
    assert [s.id for s in gw.perinatal.screenings(personas["gp"].principal(), episode.id)] == [done.id]
    for answers, code in (({**ALL_CLEAR, "hobbies": "concern"}, "unknown-domain"),
                          ({k: v for k, v in ALL_CLEAR.items() if k != "violence"}, "missing-answer"),
                          ({**ALL_CLEAR, "housing": "maybe"}, "invalid-answer")):
        with pytest.raises(InvalidInput) as err:
            gw.perinatal.screen(personas["nurse"].principal(), episode.id, answers)
        assert (err.value.code, err.value.rule) == (code, "PN-1")


def test_RF_3_a_vulnerability_leads_to_a_referral_to_support(gw, personas, episode):
    done = gw.perinatal.screen(personas["nurse"].principal(), episode.id, CONCERNS)
    referral = gw.perinatal.refer(personas["nurse"].principal(), refer(personas, episode, done))
    assert (referral.programme, referral.reason) == ("perinatal", "perinatal vulnerability: housing")
    assert gw.perinatal.referral_links(personas["gp"].principal(), episode.id) == [(referral.id, done.id, "housing")]
    with pytest.raises(InvalidInput) as err:  # a domain with no concern is no reason to refer
        gw.perinatal.refer(personas["nurse"].principal(), refer(personas, episode, done, "financial"))
    assert (err.value.code, err.value.rule) == ("domain-needs-no-action", "RF-3")
    with pytest.raises(AccessDenied):  # outside the team: neither the referral nor its link is kept
        gw.perinatal.refer(personas["gp-no-link"].principal(), refer(personas, episode, done))
    assert [r.id for r in gw.referrals.for_patient(personas["patient-2"].principal(), personas["patient-2"].niss)] == [referral.id]


def test_PN_2_withdrawal_stops_every_processing_for_everyone_but_her(gw, personas, episode, database):
    her = personas["patient-2"].principal()
    done = gw.perinatal.screen(personas["nurse"].principal(), episode.id, CONCERNS)
    referral = gw.perinatal.refer(personas["nurse"].principal(), refer(personas, episode, done))
    withdrawn = gw.perinatal.withdraw_consent(her, episode.id)
    assert (withdrawn.consent.status, withdrawn.consent.withdrawn_by_role) == ("withdrawn", "patient")
    for who in ("nurse", "gp"):
        p = personas[who].principal()
        for act in (lambda: gw.perinatal.screen(p, episode.id, ALL_CLEAR), lambda: gw.perinatal.read(p, episode.id),
                    lambda: gw.perinatal.screenings(p, episode.id), lambda: gw.perinatal.screening(p, done.id),
                    lambda: gw.perinatal.refer(p, refer(personas, episode, done)), lambda: gw.referrals.get(p, referral.id)):
            with pytest.raises(AccessDenied) as err:
                act()
            assert err.value.rule == "PN-2", err.value
        assert gw.perinatal.of_woman(p, personas["patient-2"].niss) == []
        assert gw.referrals.for_patient(p, personas["patient-2"].niss) == []
    # what was done stays, and she still reads it all, with her access log (DS-1)
    assert gw.perinatal.read(her, episode.id).consent.status == "withdrawn"
    assert gw.perinatal.screening(her, done.id).action == ("housing", "violence")
    assert gw.referrals.get(her, referral.id).id == referral.id
    log = gw.access_log.about_me(her)
    assert any(e.action == "perinatal.screening.fill" and e.outcome == "denied" and e.rule == "PN-2" for e in log)
    with database.transaction() as session:
        refused = session.execute(select(AuditRecord).where(AuditRecord.rule == "PN-2", AuditRecord.outcome == "denied")).scalars().all()
    assert len(refused) >= 10


def test_PN_2_a_professional_records_the_withdrawal_and_it_is_final(gw, personas, episode):
    assert gw.perinatal.withdraw_consent(personas["gp"].principal(), episode.id).consent.withdrawn_by_role == "provider"
    with pytest.raises(InvalidInput) as err:
        gw.perinatal.withdraw_consent(personas["patient-2"].principal(), episode.id)
    assert (err.value.code, err.value.rule) == ("consent-already-withdrawn", "PN-2")
    with pytest.raises(AccessDenied) as err:
        gw.perinatal.withdraw_consent(personas["patient"].principal(), episode.id)
    assert err.value.rule == "IC-A9"


def test_PN_2_consent_before_screening_and_unknown_ids(gw, personas, team):
    with pytest.raises(InvalidInput) as err:
        gw.perinatal.open(personas["gp"].principal(), OpenEpisode(personas["patient-2"].niss, team.id, DECLARED, date(2027, 1, 1)))
    assert err.value.rule == "PN-2"
    with pytest.raises(NotFound):
        gw.perinatal.screen(personas["gp"].principal(), "no-such-episode", ALL_CLEAR)


def test_PN_2_a_perinatal_referral_needs_her_consent_in_force_through_the_referral_workflow_too(gw, personas):
    from gateway.domain.referrals import ReferralSpec

    spec = ReferralSpec(patient_niss=personas["patient-2"].niss, category="perinatal-support", service_requested="housing support",
                        programme="perinatal", performers=(PerformerSpec(nihii=personas["nurse"].nihii),))
    with pytest.raises(AccessDenied) as err:  # no follow-up, so no consent: the registered guard refuses
        gw.referrals.create(personas["gp"].principal(), spec)
    assert (err.value.code, err.value.rule) == ("no-consent", "PN-2")
    assert gw.referrals.create(personas["gp"].principal(), ReferralSpec(**{**spec.__dict__, "programme": "general"})).programme == "general"


def test_PN_2_RF_3_a_referral_to_support_follows_the_consent_of_its_own_follow_up(gw, personas, team, episode, clock):
    """She withdrew her consent in one follow-up and gave it in the next
    (another pregnancy): each referral to support is judged by the follow-up
    it rests on, never by whichever of hers happens to be newest."""
    nurse, gp, her = personas["nurse"].principal(), personas["gp"].principal(), personas["patient-2"].principal()
    first = gw.perinatal.refer(nurse, refer(personas, episode, gw.perinatal.screen(nurse, episode.id, CONCERNS)))
    gw.perinatal.withdraw_consent(her, episode.id)
    later = clock.today()
    second_episode = gw.perinatal.open(nurse, OpenEpisode(woman_niss=personas["patient-2"].niss, care_team_id=team.id,
                                                          pregnancy_declared_on=later, consent_given_on=later))
    second = gw.perinatal.refer(nurse, refer(personas, second_episode, gw.perinatal.screen(nurse, second_episode.id, CONCERNS)))
    assert dict(second.basis)["episode"] == second_episode.id
    assert gw.referrals.get(gp, second.id).id == second.id
    with pytest.raises(AccessDenied) as err:
        gw.referrals.get(gp, first.id)
    assert (err.value.code, err.value.rule) == ("consent-withdrawn", "PN-2")
    assert [r.id for r in gw.referrals.for_patient(gp, personas["patient-2"].niss)] == [second.id]
    assert {r.id for r in gw.referrals.for_patient(her, personas["patient-2"].niss)} == {first.id, second.id}
    assert dict(gw.referrals.get(her, first.id).basis) == {"episode": episode.id, "screening": dict(first.basis)["screening"],
                                                            "domain": "housing"}
