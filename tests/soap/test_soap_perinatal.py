"""Perinatal v1 over SOAP, with real STS tokens and zeep clients built from
the published ?wsdl, every answer checked against Perinatal-v1.xsd: the
follow-up, the screening and its profile (PN-1), the referral to support
(RF-3), the consent's withdrawal by the woman and every further act refused
for everyone but her (PN-2)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.model import AuditRecord
from tests.soap.conftest import refused
from tests.soap.perinatal_soap import answers, perinatal_clients

DECLARED = date(2024, 8, 20)
CLEAR = {d: "no-concern" for d in ("social-isolation", "financial", "housing", "mental-health", "violence", "substance-use",
                                   "language-literacy", "pregnancy-history")}
CONCERNS = {**CLEAR, "violence": "concern", "financial": "declined"}


@pytest.fixture(scope="module")
def pn(live, personas):  # type: ignore[no-untyped-def]
    return perinatal_clients(live, personas)


@pytest.fixture(scope="module")
def team(live, personas):  # type: ignore[no-untyped-def]
    return live.gw.care_teams.create(personas["gp"].principal(), CareTeamSpec(
        kind="clinical-group", patient_niss=personas["patient-2"].niss,
        members=(MemberSpec("practitioner", nihii=personas["gp"].nihii, role="gp"),
                 MemberSpec("practitioner", nihii=personas["nurse"].nihii, role="midwife"))))


def test_PN_1_PN_2_RF_3_the_follow_up_over_soap(live, pn, personas, team, registries):
    woman = personas["patient-2"].niss
    opened = pn("nurse").OpenEpisode(WomanSsin=woman, CareTeamId=team.id, PregnancyDeclaredOn=DECLARED, ConsentGivenOn=DECLARED)
    episode = opened.Episode[0]
    assert (episode.Status, episode.ConsentStatus, episode.WomanSsin) == ("active", "given", woman)
    child = next(p.niss for p in registries.people if p.birth_date == date(2025, 4, 1))
    assert pn("gp").LinkChild(EpisodeId=episode.EpisodeId, ChildSsin=child).Episode[0].EndsOn == date(2028, 4, 1)
    assert [e.EpisodeId for e in pn("gp").GetWomanEpisodes(WomanSsin=woman).Episode] == [episode.EpisodeId]
    # PN-1: the screening and its derived, versioned profile
    done = pn("nurse").SubmitScreening(EpisodeId=episode.EpisodeId, Answers=answers(CONCERNS)).Screening[0]
    assert (done.Profile.Violence, done.Profile.Financial, done.Profile.Housing) == ("action", "ask-again", "none")
    assert (done.QuestionnaireVersion, done.ProfileVersion) == ("1.0.0", "1")
    assert pn("gp").GetScreening(ScreeningId=done.ScreeningId).Screening[0].Answers.Violence == "concern"
    fault = refused(pn("gp-no-link").SubmitScreening, EpisodeId=episode.EpisodeId, Answers=answers(CLEAR))
    assert (fault["Code"], fault["Rule"]) == ("not-in-care-team", "PN-1")
    # RF-3: a referral to support for the domain that needs action, and only for it
    made = pn("nurse").ReferToSupport(EpisodeId=episode.EpisodeId, ScreeningId=done.ScreeningId, Domain="violence",
                                      ServiceRequested="violence support centre",
                                      PerformerNihii=[personas["psi-admin"].organisation_nihii])
    assert made.Reason == "perinatal vulnerability: violence"
    from gateway.soap.referral import NS as RF_NS, PATH as RF_PATH
    from tests.soap.care_referral_callers import ServiceCallers

    referrals = ServiceCallers(live, personas, path=RF_PATH, ns=RF_NS, xsd=("soap", "referral", "Referral-v1.xsd"))
    basis = referrals.service("gp").GetReferral(ReferralId=made.ReferralId).Referral.SupportBasis  # RF-3, read back
    assert (basis.EpisodeId, basis.ScreeningId, basis.Domain) == (episode.EpisodeId, done.ScreeningId, "violence")
    fault = refused(pn("nurse").ReferToSupport, EpisodeId=episode.EpisodeId, ScreeningId=done.ScreeningId, Domain="housing",
                    ServiceRequested="housing support")
    assert (fault["Code"], fault["Rule"]) == ("domain-needs-no-action", "RF-3")
    # PN-2: she withdraws with her own token; nothing more for anyone but her
    withdrawn = pn("patient-2").WithdrawConsent(EpisodeId=episode.EpisodeId).Consent
    assert (withdrawn.Status, withdrawn.WithdrawnBy) == ("withdrawn", "patient")
    for key in ("nurse", "gp"):
        for call, kwargs in ((pn(key).SubmitScreening, dict(EpisodeId=episode.EpisodeId, Answers=answers(CLEAR))),
                             (pn(key).GetEpisode, dict(EpisodeId=episode.EpisodeId)),
                             (pn(key).GetScreening, dict(ScreeningId=done.ScreeningId)),
                             (pn(key).GetEpisodeScreenings, dict(EpisodeId=episode.EpisodeId)),
                             (pn(key).ReferToSupport, dict(EpisodeId=episode.EpisodeId, ScreeningId=done.ScreeningId,
                                                           Domain="violence", ServiceRequested="again"))):
            assert refused(call, **kwargs)["Rule"] == "PN-2"
    assert pn("patient-2").GetEpisode(EpisodeId=episode.EpisodeId).Episode[0].ConsentStatus == "withdrawn"
    assert pn("patient-2").GetScreening(ScreeningId=done.ScreeningId).Screening[0].Profile.Violence == "action"
    with live.gw.db.transaction() as session:
        soap_refusals = session.execute(select(AuditRecord).where(AuditRecord.rule == "PN-2", AuditRecord.channel == "soap",
                                                                  AuditRecord.outcome == "denied")).scalars().all()
    assert len(soap_refusals) == 10
    assert pn.schema.checked >= 8


def test_PN_2_the_consent_date_cannot_be_in_the_future(pn, personas, team):
    fault = refused(pn("nurse").OpenEpisode, WomanSsin=personas["patient-2"].niss, CareTeamId=team.id,
                    PregnancyDeclaredOn=DECLARED, ConsentGivenOn=date(2099, 1, 1))
    assert (fault["Rule"], fault["Path"]) == ("PN-2", "/Envelope/Body/OpenEpisodeRequest/ConsentGivenOn")


def test_PN_3_the_privacy_statement_and_terms_of_use_over_soap(pn):
    from gateway.domain.perinatal import privacy

    for name in (privacy.STATEMENT, privacy.TERMS):
        answer = pn("patient-2").GetDocument(Name=name)
        assert (answer.Title, answer.Text) == (privacy.TITLES[name], privacy.document(name))
