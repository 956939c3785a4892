"""The perinatal use cases (PN-1, PN-2, RF-3), for both faces.

Who may do what:
- the professionals of the episode's care team (CT-5: its members, as care
  providers in good standing) open the episode, link the child, screen and
  refer; membership is read from the care team at every act, so a
  professional taken off the team loses access at once;
- the woman reads everything of hers, always (DS-1), and withdraws her
  consent herself; a professional of the team may record her withdrawal;
- from the withdrawal on, nothing more is processed for anyone but her:
  new screenings, referrals and reads are refused under PN-2; nothing is
  deleted (what the law keeps stays, DS-5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from gateway.domain.inclusions import check_patient_niss, living_person
from gateway.domain.model import CareTeam
from gateway.domain.perinatal import screening as bib
from gateway.domain.perinatal.model import PerinatalEpisode, PerinatalReferral, PerinatalScreening
from gateway.domain.perinatal.views import ConsentView, EpisodeView, ScreeningView
from gateway.domain.principal import Principal, Role
from gateway.domain.referrals import PerformerSpec, ReferralService, ReferralSpec
from gateway.domain.subjects import subject_of
from gateway.domain.views import ReferralView

ACTIVE, FINISHED = "active", "finished"
GIVEN, WITHDRAWN = "given", "withdrawn"
PROGRAMME = "perinatal"
CLINICAL_KINDS = ("individual", "clinical-group")  # an administrative group (CT-3) is no clinical team


@dataclass(frozen=True)
class OpenEpisode:
    """A declared pregnancy, the care team that follows it, and the woman's consent (PN-2)."""

    woman_niss: str
    care_team_id: str
    pregnancy_declared_on: date
    consent_given_on: date
    expected_delivery: date | None = None


@dataclass(frozen=True)
class ReferToSupport:
    """RF-3: a referral to support for a domain the screening says needs action."""

    episode_id: str
    screening_id: str
    domain: str
    service_requested: str
    performers: tuple[PerformerSpec, ...] = field(default_factory=tuple)
    valid_until: date | None = None


def third_birthday(born: date) -> date:
    try:
        return born.replace(year=born.year + 3)
    except ValueError:  # 29 February
        return date(born.year + 3, 3, 1)


def unknown_episode() -> NotFound:
    return NotFound("unknown-episode", "No perinatal episode with this id.", path="id")


def unknown_screening() -> NotFound:
    return NotFound("unknown-screening", "No perinatal screening with this id.", path="id")


class PerinatalService:
    """The programme's use cases."""

    def __init__(self, ctx: DomainContext, referrals: ReferralService) -> None:
        self.ctx = ctx
        self.referrals = referrals

    # ------------------------------------------------------------ access
    def _is_her(self, principal: Principal, woman_niss: str) -> bool:
        if principal.role is not Role.PATIENT:
            return False
        if principal.niss == woman_niss:
            return True
        person = self.ctx.register.person(woman_niss)
        return person is not None and principal.niss in (person.niss, *person.previous_niss)

    def _is_member(self, session, team_id: str, principal: Principal) -> bool:  # type: ignore[no-untyped-def]
        team = session.get(CareTeam, team_id)
        if team is None:
            return False
        me = self.ctx.pseudonyms.pseudonymise(principal.niss)
        mine = {x for x in (principal.nihii, principal.organisation_nihii) if x}
        return any(m.kind != "patient" and (m.member_pseudonym == me or (m.member_nihii and m.member_nihii in mine))
                   for m in team.members)

    def _professional(self, act: Act, team_id: str) -> None:
        """PN-1, CT-5: a care provider in good standing, member of the care team."""
        act.require(self.ctx.policy.standing(act.principal), names_rule=False)
        if act.principal.role is not Role.PROVIDER or not self._is_member(act.session, team_id, act.principal):
            raise AccessDenied("not-in-care-team", "Only the professionals of the woman's perinatal care team act in her "
                               "follow-up; ask a member of the team to add you to it.", rule="PN-1")

    def _decide(self, act: Act, ep: PerinatalEpisode, *, professional_act: bool) -> bool:
        """May the caller do this with the episode? True when the caller is the woman."""
        woman = self.ctx.pseudonyms.reveal(ep.woman_pseudonym)
        if self._is_her(act.principal, woman):
            if professional_act:
                raise AccessDenied("professionals-only", "This is done by a professional of your care team.", rule="PN-1")
            act.rule = "DS-1"
            return True
        if act.principal.role is Role.PATIENT:
            raise AccessDenied("not-own-data", "A person reads only their own follow-up.", rule="IC-A9")
        self._professional(act, ep.care_team_id)
        if ep.consent_status == WITHDRAWN:
            raise AccessDenied("consent-withdrawn", "The woman withdrew her consent: from then on nothing more of her "
                               "follow-up is processed, read or written, by anyone but her.", rule="PN-2")
        act.rule = "PN-1"
        return False

    def _load(self, act: Act, episode_id: str) -> PerinatalEpisode:
        ep = act.session.get(PerinatalEpisode, episode_id) if well_formed_id(episode_id) else None
        if ep is None:
            raise unknown_episode()
        act.patient_pseudonym = ep.woman_pseudonym
        return ep

    def _open_for_processing(self, act: Act, ep: PerinatalEpisode) -> None:
        if self._status(ep, act.today) == FINISHED:
            raise InvalidInput("episode-finished", f"The follow-up ended on {ep.ends_on} (the child's third birthday).",
                               rule="PN-1", path="period.end")

    @staticmethod
    def _status(ep: PerinatalEpisode, today: date) -> str:
        return FINISHED if ep.status == FINISHED or (ep.ends_on is not None and today > ep.ends_on) else ACTIVE

    # ------------------------------------------------------------- views
    def _view(self, ep: PerinatalEpisode, today: date) -> EpisodeView:
        reveal = self.ctx.pseudonyms.reveal
        return EpisodeView(
            id=ep.id, version=ep.version, woman_niss=reveal(ep.woman_pseudonym), care_team_id=ep.care_team_id,
            status=self._status(ep, today), pregnancy_declared_on=ep.pregnancy_declared_on,
            expected_delivery=ep.expected_delivery, child_niss=reveal(ep.child_pseudonym) if ep.child_pseudonym else None,
            child_born_on=ep.child_born_on, ends_on=ep.ends_on,
            consent=ConsentView(ep.consent_status, ep.consent_given_on, ep.consent_recorded_by_role, ep.consent_withdrawn_at,
                                ep.consent_withdrawn_by_role),
            opened_by_nihii=ep.opened_by_nihii, created_at=ep.created_at, updated_at=ep.updated_at,
        )

    def _screening_view(self, row: PerinatalScreening, woman_niss: str) -> ScreeningView:
        order = bib.domains()
        return ScreeningView(
            id=row.id, episode_id=row.episode_id, woman_niss=woman_niss, questionnaire_version=row.questionnaire_version,
            profile_version=row.profile_version, answers={d: row.answers[d] for d in order if d in row.answers},
            needs={d: row.needs[d] for d in order if d in row.needs}, screened_by_nihii=row.screened_by_nihii,
            created_at=row.created_at,
        )

    # --------------------------------------------------------- episodes
    def open(self, principal: Principal, cmd: OpenEpisode, *, channel: str = "internal") -> EpisodeView:
        """A professional of her care team opens the follow-up, with her consent (PN-2)."""
        ctx = self.ctx

        def body(act: Act) -> EpisodeView:
            niss = check_patient_niss(cmd.woman_niss, "patient")
            act.patient_pseudonym = ctx.pseudonyms.pseudonymise(niss)
            team = act.session.get(CareTeam, cmd.care_team_id) if well_formed_id(cmd.care_team_id) else None
            if team is None:
                raise NotFound("unknown-care-team", "No care team with this id; create the woman's care team first.",
                               rule="CT-5", path="team")
            self._professional(act, team.id)
            person = living_person(ctx, niss)
            pseudonym = ctx.pseudonyms.pseudonymise(person.niss)
            act.patient_pseudonym = pseudonym
            if team.patient_pseudonym != pseudonym:
                raise InvalidInput("care-team-of-another-patient", "The care team named is not this woman's.", rule="CT-5",
                                   path="team")
            if team.kind not in CLINICAL_KINDS or team.status != "active":
                raise InvalidInput("not-a-clinical-team", "The follow-up needs an active clinical care team (CT-1 or CT-2); "
                                   "an administrative group (CT-3) is not one.", rule="CT-3", path="team")
            if cmd.consent_given_on > act.today:
                raise InvalidInput("consent-in-future", "The consent's date cannot be in the future.", rule="PN-2",
                                   path="consent.date")
            if cmd.pregnancy_declared_on > act.today:
                raise InvalidInput("declared-in-future", "The pregnancy's declaration date cannot be in the future.",
                                   rule="PN-1", path="period.start")
            if cmd.expected_delivery is not None and cmd.expected_delivery < cmd.pregnancy_declared_on:
                raise InvalidInput("delivery-before-declaration", "The expected delivery date is before the declaration.",
                                   rule="PN-1", path="expected_delivery")
            running = act.session.execute(select(PerinatalEpisode.id).where(
                PerinatalEpisode.woman_pseudonym == pseudonym, PerinatalEpisode.status == ACTIVE,
                PerinatalEpisode.consent_status == GIVEN)).scalars().all()
            if any(self._status(act.session.get(PerinatalEpisode, i), act.today) == ACTIVE for i in running):  # type: ignore[arg-type]
                raise Conflict("episode-already-open", "The woman already has a follow-up in progress; use it.", rule="PN-1")
            ep = PerinatalEpisode(
                id=str(uuid.uuid4()), woman_pseudonym=pseudonym, care_team_id=team.id, status=ACTIVE,
                pregnancy_declared_on=cmd.pregnancy_declared_on, expected_delivery=cmd.expected_delivery,
                consent_status=GIVEN, consent_given_on=cmd.consent_given_on, consent_recorded_by_pseudonym=act.actor_pseudonym,
                consent_recorded_by_role=principal.role.value, opened_by_pseudonym=act.actor_pseudonym,
                opened_by_nihii=principal.nihii, created_at=act.now, updated_at=act.now,
            )
            act.session.add(ep)
            act.session.flush()
            act.resource_id = ep.id
            act.rule = "PN-2"
            act.detail.update(care_team=team.id, consent="given")
            return self._view(ep, act.today)

        return ctx.runner.run(principal, "perinatal.episode.open", body, channel=channel, resource_type="perinatal-episode")

    def read(self, principal: Principal, episode_id: str, *, channel: str = "internal") -> EpisodeView:
        def body(act: Act) -> EpisodeView:
            ep = self._load(act, episode_id)
            self._decide(act, ep, professional_act=False)
            return self._view(ep, act.today)

        return self.ctx.runner.run(principal, "perinatal.episode.read", body, channel=channel,
                                   resource_type="perinatal-episode", resource_id=episode_id)

    def of_woman(self, principal: Principal, woman_niss: str, *, channel: str = "internal") -> list[EpisodeView]:
        """Her episodes the caller may see: all, for her; for a professional, those
        of a team they belong to whose consent is in force (PN-2)."""
        ctx = self.ctx

        def body(act: Act) -> list[EpisodeView]:
            who = subject_of(ctx, principal, woman_niss, "patient")
            act.patient_pseudonym = who.pseudonym
            rows = act.session.execute(select(PerinatalEpisode).where(PerinatalEpisode.woman_pseudonym == who.pseudonym)
                                       .order_by(PerinatalEpisode.created_at, PerinatalEpisode.id)).scalars().all()
            if principal.role is Role.PATIENT:
                if not who.same_person:
                    raise AccessDenied("not-own-data", "A person reads only their own follow-up.", rule="IC-A9")
                act.rule = "DS-1"
                return [self._view(ep, act.today) for ep in rows]
            act.require(ctx.policy.standing(principal), names_rule=False)
            visible = [ep for ep in rows if principal.role is Role.PROVIDER and self._is_member(act.session, ep.care_team_id, principal)]
            withheld = [ep for ep in visible if ep.consent_status == WITHDRAWN]
            act.rule = "PN-2" if withheld else "PN-1"
            act.detail.update(returned=len(visible) - len(withheld), withheld=len(withheld))
            return [self._view(ep, act.today) for ep in visible if ep.consent_status != WITHDRAWN]

        return ctx.runner.run(principal, "perinatal.episode.search", body, channel=channel, resource_type="perinatal-episode")

    def link_child(self, principal: Principal, episode_id: str, child_niss: str, *, channel: str = "internal") -> EpisodeView:
        """Once born, the child is linked: the follow-up runs to the child's third birthday."""
        ctx = self.ctx

        def body(act: Act) -> EpisodeView:
            ep = self._load(act, episode_id)
            self._decide(act, ep, professional_act=True)
            self._open_for_processing(act, ep)
            niss = check_patient_niss(child_niss, "child")
            child = ctx.register.person(niss)
            if child is None or child.birth_date is None:
                raise NotFound("unknown-child", "No child with this NISS and a birth date in the national register.",
                               rule="PN-1", path="child")
            pseudonym = ctx.pseudonyms.pseudonymise(child.niss)
            if pseudonym == ep.woman_pseudonym:
                raise InvalidInput("child-is-the-woman", "The child is another person than the woman.", rule="PN-1", path="child")
            if ep.child_pseudonym is not None and ep.child_pseudonym != pseudonym:
                raise Conflict("child-already-linked", "Another child is already linked to this follow-up.", rule="PN-1",
                               path="child")
            if child.birth_date < ep.pregnancy_declared_on:
                raise InvalidInput("born-before-declaration", f"The child was born on {child.birth_date}, before the "
                                   f"pregnancy was declared ({ep.pregnancy_declared_on}).", rule="PN-1", path="child")
            ep.child_pseudonym, ep.child_born_on = pseudonym, child.birth_date
            ep.ends_on = third_birthday(child.birth_date)
            ep.updated_at = act.now
            act.session.flush()
            act.detail.update(ends_on=ep.ends_on.isoformat())
            return self._view(ep, act.today)

        return ctx.runner.run(principal, "perinatal.episode.link-child", body, channel=channel,
                              resource_type="perinatal-episode", resource_id=episode_id)

    # ----------------------------------------------------------- consent
    def withdraw_consent(self, principal: Principal, episode_id: str, *, channel: str = "internal") -> EpisodeView:
        """PN-2: by the woman herself, or recorded by a professional of her team."""
        ctx = self.ctx

        def body(act: Act) -> EpisodeView:
            ep = self._load(act, episode_id)
            woman = ctx.pseudonyms.reveal(ep.woman_pseudonym)
            if not self._is_her(principal, woman):
                if principal.role is Role.PATIENT:
                    raise AccessDenied("not-own-data", "A person withdraws only their own consent.", rule="IC-A9")
                self._professional(act, ep.care_team_id)
            if ep.consent_status == WITHDRAWN:
                raise InvalidInput("consent-already-withdrawn", f"The consent was withdrawn on {ep.consent_withdrawn_at}.",
                                   rule="PN-2", path="status")
            ep.consent_status, ep.consent_withdrawn_at = WITHDRAWN, act.now
            ep.consent_withdrawn_by_role = principal.role.value
            ep.updated_at = act.now
            act.session.flush()
            act.rule = "PN-2"
            act.detail.update(consent="withdrawn")
            return self._view(ep, act.today)

        return ctx.runner.run(principal, "perinatal.consent.withdraw", body, channel=channel,
                              resource_type="perinatal-episode", resource_id=episode_id)

    # --------------------------------------------------------- screening
    def screen(self, principal: Principal, episode_id: str, answers: Mapping[str, str], *,
               channel: str = "internal") -> ScreeningView:
        """PN-1: a professional of her team fills the screening with her; the
        profile is derived and stored with both versions."""
        ctx = self.ctx

        def body(act: Act) -> ScreeningView:
            ep = self._load(act, episode_id)
            self._decide(act, ep, professional_act=True)
            self._open_for_processing(act, ep)
            checked = bib.check_answers(answers)
            profile = bib.derive(checked)
            row = PerinatalScreening(
                id=str(uuid.uuid4()), episode_id=ep.id, questionnaire_version=bib.questionnaire_version(),
                profile_version=profile.version, answers=checked, needs=profile.needs,
                screened_by_pseudonym=act.actor_pseudonym, screened_by_nihii=principal.nihii, created_at=act.now,
            )
            act.session.add(row)
            ep.updated_at = act.now
            act.session.flush()
            act.resource_id = row.id
            act.detail.update(episode=ep.id, action=len(profile.action))
            return self._screening_view(row, ctx.pseudonyms.reveal(ep.woman_pseudonym))

        return ctx.runner.run(principal, "perinatal.screening.fill", body, channel=channel, resource_type="perinatal-screening")

    def screening(self, principal: Principal, screening_id: str, *, channel: str = "internal") -> ScreeningView:
        ctx = self.ctx

        def body(act: Act) -> ScreeningView:
            row = act.session.get(PerinatalScreening, screening_id) if well_formed_id(screening_id) else None
            if row is None:
                raise unknown_screening()
            act.patient_pseudonym = row.episode.woman_pseudonym
            self._decide(act, row.episode, professional_act=False)
            return self._screening_view(row, ctx.pseudonyms.reveal(row.episode.woman_pseudonym))

        return ctx.runner.run(principal, "perinatal.screening.read", body, channel=channel,
                              resource_type="perinatal-screening", resource_id=screening_id)

    def screenings(self, principal: Principal, episode_id: str, *, channel: str = "internal") -> list[ScreeningView]:
        ctx = self.ctx

        def body(act: Act) -> list[ScreeningView]:
            ep = self._load(act, episode_id)
            self._decide(act, ep, professional_act=False)
            woman = ctx.pseudonyms.reveal(ep.woman_pseudonym)
            act.detail["returned"] = len(ep.screenings)
            return [self._screening_view(r, woman) for r in ep.screenings]

        return ctx.runner.run(principal, "perinatal.screening.search", body, channel=channel,
                              resource_type="perinatal-screening")

    # ---------------------------------------------------------- referral
    def refer(self, principal: Principal, cmd: ReferToSupport, *, channel: str = "internal") -> ReferralView:
        """RF-3: from a vulnerability of her latest screening, a referral to a
        support service (programme perinatal), made by the referral workflow;
        both are kept, or neither."""
        ctx = self.ctx
        runner = ctx.runner
        niss = self._woman_of(principal, cmd.episode_id, channel)
        with runner.atomic():
            view = self.referrals.create(principal, ReferralSpec(
                patient_niss=niss, category="perinatal-support", service_requested=cmd.service_requested, programme=PROGRAMME,
                reason=f"perinatal vulnerability: {cmd.domain}", valid_until=cmd.valid_until, performers=cmd.performers,
            ), channel=channel)

            def body(act: Act) -> None:
                ep = self._load(act, cmd.episode_id)
                self._decide(act, ep, professional_act=True)
                self._open_for_processing(act, ep)
                latest = ep.screenings[-1] if ep.screenings else None
                if latest is None or latest.id != cmd.screening_id:
                    raise InvalidInput("not-the-latest-screening", "Refer from the woman's latest screening of this "
                                       "follow-up: its profile is the one in force.", rule="RF-3", path="screening")
                if latest.needs.get(cmd.domain) != "action":
                    raise InvalidInput("domain-needs-no-action", f"The screening's profile says the domain {cmd.domain!r} "
                                       f"needs no action; it needs action in: {', '.join(bib.derive(latest.answers).action) or 'none'}.",
                                       rule="RF-3", path="domain")
                act.session.add(PerinatalReferral(referral_id=view.id, episode_id=ep.id, screening_id=latest.id,
                                                  domain=cmd.domain, created_at=act.now))
                act.resource_id = view.id
                act.rule = "RF-3"
                act.detail.update(episode=ep.id, domain=cmd.domain)

            runner.run(principal, "perinatal.refer", body, channel=channel, resource_type="referral")
        return replace(view, basis=(("episode", cmd.episode_id), ("screening", cmd.screening_id), ("domain", cmd.domain)))

    def _woman_of(self, principal: Principal, episode_id: str, channel: str) -> str:
        """The episode's woman, for the referral (the perinatal act that
        follows it, in one group with it, decides who may refer)."""
        with self.ctx.db.transaction() as session:
            ep = session.get(PerinatalEpisode, episode_id) if well_formed_id(episode_id) else None
            woman = ep.woman_pseudonym if ep is not None else None
        if woman is None:
            def refused(act: Act) -> None:
                raise unknown_episode()
            self.ctx.runner.run(principal, "perinatal.refer", refused, channel=channel, resource_type="referral")
        return self.ctx.pseudonyms.reveal(woman)  # type: ignore[arg-type]

    def referral_links(self, principal: Principal, episode_id: str, *, channel: str = "internal") -> list[tuple[str, str, str]]:
        """(referral id, screening id, domain) of the episode's referrals to support."""
        def body(act: Act) -> list[tuple[str, str, str]]:
            ep = self._load(act, episode_id)
            self._decide(act, ep, professional_act=False)
            rows = act.session.execute(select(PerinatalReferral).where(PerinatalReferral.episode_id == ep.id)
                                       .order_by(PerinatalReferral.created_at)).scalars().all()
            return [(r.referral_id, r.screening_id, r.domain) for r in rows]

        return self.ctx.runner.run(principal, "perinatal.referral.search", body, channel=channel, resource_type="referral")

    @staticmethod
    def referral_basis(session: Session, referral_id: str) -> tuple[tuple[str, str], ...]:
        """RF-3: what a referral to support rests on (its follow-up, the
        screening and the vulnerability domain), for every read of it; nothing
        once the follow-up is purged."""
        row = session.get(PerinatalReferral, referral_id)
        if row is None:
            return ()
        return (("episode", row.episode_id), ("screening", row.screening_id), ("domain", row.domain))

    def purge(self, *, dry_run: bool = False, today: date | None = None):  # type: ignore[no-untyped-def]
        """DS-8, for the gateway's purge (:mod:`gateway.domain.perinatal.retention`)."""
        from gateway.domain.perinatal import retention

        return retention.purge(self.ctx, dry_run=dry_run, today=today)

    # -------------------------------------------------- the referral guard
    def referral_guard(self, act: Act, patient_niss: str, operation: str, referral_id: str | None = None) -> None:
        """PN-2 for the referral workflow's perinatal referrals: for anyone but
        the woman, nothing is processed once her consent is withdrawn (or
        when no consent is in force). A referral to support is judged by the
        consent of the follow-up it rests on (RF-3); any other (a new one, or
        one made straight through the workflow) needs one of her follow-ups
        with her consent in force: she may have several, one per pregnancy."""
        if self._is_her(act.principal, patient_niss):
            return
        link = act.session.get(PerinatalReferral, referral_id) if referral_id else None
        if link is not None:
            episode = act.session.get(PerinatalEpisode, link.episode_id)
            rows = [episode] if episode is not None else []
        else:
            pseudonym = self.ctx.pseudonyms.pseudonymise(patient_niss)
            rows = act.session.execute(select(PerinatalEpisode).where(PerinatalEpisode.woman_pseudonym == pseudonym)).scalars().all()
        if not any(row.consent_status == GIVEN for row in rows):
            raise AccessDenied("consent-withdrawn" if rows else "no-consent",
                               "A perinatal referral rests on the woman's consent, which is not in force: nothing more is "
                               "processed for her by anyone but her.", rule="PN-2")
