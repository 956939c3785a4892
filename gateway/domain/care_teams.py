"""Care teams (CT-1..CT-5): who cares for a patient, kept apart from billing.

A care team is an individual provider (CT-1), a clinical group sharing
clinical responsibility (CT-2) or an administrative group (CT-3). Being a
member gives no access to inclusion data (CT-4): that stays with the
policy of Integrated Care. A member sees the team; a non-member needs the
relationship with the patient that consulting their inclusions needs (CT-5).

Every version of a team is kept (:class:`CareTeamVersion`): vread and
history show the team as it was, to whoever may see it as it is now (CT-5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import or_, select
from sqlalchemy.orm.attributes import flag_modified

from gateway.domain import audit_subjects
from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Concealed, InvalidInput, NotFound, VersionConflict
from gateway.domain.identifiers import InvalidIdentifier, check_nihii
from gateway.domain.inclusions import check_dates, check_patient_niss
from gateway.domain.model import CareTeam, CareTeamMember, CareTeamVersion
from gateway.domain.policy import PSI_ROLES
from gateway.domain.subjects import subject_of
from gateway.domain.views import CareTeamView, MemberView
from gateway.domain.principal import Principal

KINDS = {"individual": "CT-1", "clinical-group": "CT-2", "administrative-group": "CT-3"}
STATUSES = ("proposed", "active", "suspended", "inactive", "entered-in-error")
MEMBER_KINDS = ("patient", "practitioner", "organisation", "related-person", "practitioner-role", "care-team")


@dataclass(frozen=True)
class MemberSpec:
    kind: str
    niss: str | None = None
    nihii: str | None = None
    role: str | None = None
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class CareTeamSpec:
    kind: str
    status: str = "active"
    patient_niss: str | None = None
    name: str | None = None
    managing_organisation: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    members: tuple[MemberSpec, ...] = field(default_factory=tuple)


def team_snapshot(team: CareTeam, subject: Callable[[str], str]) -> dict[str, Any]:
    """What a kept version holds: the team's items, each member who is a person
    by ``subject`` (the audit trail's token for them, whose link follows a new
    number, IC-R5, and is cut when their data are purged, IC-R6): never a
    pseudonym nor a plaintext NISS."""
    day = lambda d: d.isoformat() if d else None  # noqa: E731
    return {
        "kind": team.kind, "status": team.status, "name": team.name, "managing_organisation": team.managing_organisation,
        "period_start": day(team.period_start), "period_end": day(team.period_end),
        "members": [{"kind": m.kind, "subject": subject(m.member_pseudonym) if m.member_pseudonym else None, "nihii": m.member_nihii,
                     "role": m.role, "period_start": day(m.period_start), "period_end": day(m.period_end)} for m in team.members],
    }


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class CareTeamService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    # ---------------------------------------------------------------- checks
    def _validate(self, spec: CareTeamSpec) -> tuple[str | None, list[tuple[MemberSpec, str | None]]]:
        rule = KINDS.get(spec.kind)
        if rule is None:
            raise InvalidInput("invalid-care-team-kind", f"The kind of care team must be one of {', '.join(KINDS)}, not {spec.kind!r}.",
                               rule="CT-1", path="category")
        if spec.status not in STATUSES:
            raise InvalidInput("invalid-status", f"The status must be one of {', '.join(STATUSES)}.", path="status")
        if spec.period_start and spec.period_end:
            try:
                check_dates(spec.period_start, spec.period_end)
            except InvalidInput as exc:
                raise InvalidInput(exc.code, exc.message, rule="IC-R3",
                                   path="period.start" if exc.path == "start_date" else "period.end") from None
        patient = check_patient_niss(spec.patient_niss, "subject") if spec.patient_niss else None
        if patient is not None:
            person = self.ctx.register.person(patient)
            if person is None:
                raise NotFound("unknown-patient", f"No person with NISS {patient} in the national register.", path="subject")
            patient = person.niss  # a team is kept under the person's current number (IC-R5)
        members: list[tuple[MemberSpec, str | None]] = []
        for i, m in enumerate(spec.members):
            path = f"participant[{i}]"
            if m.kind not in MEMBER_KINDS:
                raise InvalidInput("invalid-member-kind", f"A member is one of {', '.join(MEMBER_KINDS)}, not {m.kind!r}.", path=path)
            if m.nihii:
                try:
                    check_nihii(m.nihii)
                except InvalidIdentifier as exc:
                    raise InvalidInput("invalid-nihii", exc.message, path=f"{path}.member.identifier") from None
                if m.kind == "practitioner" and self.ctx.facts.professional(m.nihii) is None:
                    raise InvalidInput("unknown-provider", f"NIHII {m.nihii} is not a care provider known in CoBrHa.",
                                       path=f"{path}.member.identifier")
                if m.kind == "organisation" and self.ctx.facts.organisation(m.nihii) is None:
                    raise InvalidInput("unknown-organisation", f"NIHII {m.nihii} is not an organisation known in CoBrHa.",
                                       path=f"{path}.member.identifier")
            niss = check_patient_niss(m.niss, f"{path}.member.identifier") if m.niss else None
            if niss is not None:
                known = self.ctx.register.person(niss)
                niss = known.niss if known else niss
            if m.kind in ("practitioner", "organisation") and not m.nihii:
                raise InvalidInput("member-without-nihii", "A practitioner or organisation member is named by its NIHII.",
                                   path=f"{path}.member.identifier")
            if m.kind == "practitioner" and niss is None:
                niss = self.ctx.facts.professional(m.nihii or "").niss  # type: ignore[union-attr]
            members.append((m, niss))
        practitioners = [m for m, _ in members if m.kind == "practitioner"]
        if spec.kind == "individual" and (len(practitioners) != 1 or patient is None):
            raise InvalidInput("individual-care-team", "An individual care team (CT-1) has exactly one care provider and one patient.",
                               rule="CT-1", path="participant")
        if spec.kind == "clinical-group" and len(practitioners) < 2:
            raise InvalidInput("clinical-group-too-small", "A clinical group (CT-2) gathers at least two care providers sharing clinical responsibility.",
                               rule="CT-2", path="participant")
        if spec.kind == "administrative-group" and not spec.managing_organisation:
            raise InvalidInput("administrative-group-without-organisation",
                               "An administrative group (CT-3) names the organisation that manages it.", rule="CT-3", path="managingOrganization")
        return patient, members

    def _is_member(self, team: CareTeam, principal: Principal) -> bool:
        me = self.ctx.pseudonyms.pseudonymise(principal.niss)
        mine = {x for x in (principal.nihii, principal.organisation_nihii) if x}
        return any(m.member_pseudonym == me or (m.member_nihii and m.member_nihii in mine) for m in team.members)

    def _view(self, team: CareTeam) -> CareTeamView:
        reveal = self.ctx.pseudonyms.reveal
        return CareTeamView(
            id=team.id, version=team.version, kind=team.kind,
            patient_niss=reveal(team.patient_pseudonym) if team.patient_pseudonym else None,
            name=team.name, managing_organisation=team.managing_organisation, status=team.status,
            period_start=team.period_start, period_end=team.period_end,
            members=tuple(MemberView(m.kind, reveal(m.member_pseudonym) if m.member_pseudonym else None, m.member_nihii,
                                     m.role, m.period_start, m.period_end) for m in team.members),
            updated_at=team.updated_at,
        )

    def _version_view(self, team: CareTeam, row: CareTeamVersion, people: dict[str, str]) -> CareTeamView:
        """The team as one kept version shows it (its patient never changes);
        ``people``: token -> pseudonym (a purged member's token names no one)."""
        reveal, snap = self.ctx.pseudonyms.reveal, row.snapshot

        def person(member: dict[str, Any]) -> str | None:
            pseudonym = people.get(member.get("subject") or "")
            return reveal(pseudonym) if pseudonym else None

        return CareTeamView(
            id=team.id, version=row.version, kind=snap["kind"],
            patient_niss=reveal(team.patient_pseudonym) if team.patient_pseudonym else None,
            name=snap["name"], managing_organisation=snap["managing_organisation"], status=snap["status"],
            period_start=_date(snap["period_start"]), period_end=_date(snap["period_end"]),
            members=tuple(MemberView(m["kind"], person(m), m["nihii"], m["role"],
                                     _date(m["period_start"]), _date(m["period_end"])) for m in snap["members"]),
            updated_at=row.at if isinstance(row.at, datetime) else datetime.fromisoformat(str(row.at)),
        )

    def _record(self, act: Act, team: CareTeam, action: str) -> None:
        """Keep the version the act just made."""
        act.session.flush()
        subject = lambda pseudonym: audit_subjects.token_for(act.session, pseudonym, act.now)  # noqa: E731
        act.session.add(CareTeamVersion(care_team_id=team.id, version=team.version, action=action, at=act.now,
                                        actor_role=act.principal.role.value, snapshot=team_snapshot(team, subject)))
        act.session.flush()

    def _fill(self, act: Act, team: CareTeam, spec: CareTeamSpec, patient: str | None, members: list[tuple[MemberSpec, str | None]]) -> None:
        pseudo = self.ctx.pseudonyms.pseudonymise
        team.kind, team.status, team.name = spec.kind, spec.status, spec.name
        team.patient_pseudonym = pseudo(patient) if patient else None
        team.managing_organisation = spec.managing_organisation
        team.period_start, team.period_end = spec.period_start, spec.period_end
        team.updated_at = act.now
        team.members = [
            CareTeamMember(kind=m.kind, member_pseudonym=pseudo(niss) if niss else None, member_nihii=m.nihii, role=m.role,
                           period_start=m.period_start, period_end=m.period_end)
            for m, niss in members
        ]

    # ------------------------------------------------------------- use cases
    def create(self, principal: Principal, spec: CareTeamSpec, *, channel: str = "internal") -> CareTeamView:
        ctx = self.ctx

        def body(act: Act) -> CareTeamView:
            patient, members = self._validate(spec)
            act.patient_pseudonym = ctx.pseudonyms.pseudonymise(patient) if patient else None
            me = ctx.pseudonyms.pseudonymise(principal.niss)
            is_member = any(niss and ctx.pseudonyms.pseudonymise(niss) == me for _, niss in members) or any(
                m.nihii and m.nihii in {principal.nihii, principal.organisation_nihii} for m, _ in members)
            act.require(ctx.policy.care_team_write(principal, patient, spec.managing_organisation, is_member))
            team = CareTeam(id=str(uuid.uuid4()), created_at=act.now, status=spec.status, kind=spec.kind)
            self._fill(act, team, spec, patient, members)
            act.session.add(team)
            self._record(act, team, "create")
            act.resource_id = team.id
            act.detail.update(kind=spec.kind, rule=KINDS[spec.kind], members=len(members))
            return self._view(team)

        return ctx.runner.run(principal, "care-team.create", body, channel=channel, resource_type="care-team")

    def _load(self, act: Act, team_id: str) -> CareTeam:
        if act.principal.role in PSI_ROLES:  # standing first: its refusal must not depend on the id
            act.require(self.ctx.policy.standing(act.principal), names_rule=False)
        team = act.session.get(CareTeam, team_id) if well_formed_id(team_id) else None
        if team is None:
            raise unknown_care_team()
        act.patient_pseudonym = team.patient_pseudonym
        return team

    def _read_decision(self, act: Act, team: CareTeam):  # type: ignore[no-untyped-def]
        niss = self.ctx.pseudonyms.reveal(team.patient_pseudonym) if team.patient_pseudonym else None
        person = self.ctx.register.person(niss) if niss else None
        same = person is not None and act.principal.niss in (person.niss, *person.previous_niss)
        return self.ctx.policy.care_team_read(act.principal, niss, self._is_member(team, act.principal), same_person=same,
                                              managing_organisation=team.managing_organisation)

    def _can_read(self, act: Act, team: CareTeam) -> None:
        """CT-5; for PSI staff a team they may not see does not exist (IC-A3)."""
        decision = self._read_decision(act, team)
        if not decision.allowed and decision.rule == "IC-A3":
            act.rule = decision.rule
            raise Concealed(unknown_care_team(), AccessDenied(decision.code, decision.reason, rule=decision.rule))
        act.require(decision)

    def get(self, principal: Principal, team_id: str, *, channel: str = "internal") -> CareTeamView:
        def body(act: Act) -> CareTeamView:
            team = self._load(act, team_id)
            self._can_read(act, team)
            return self._view(team)

        return self.ctx.runner.run(principal, "care-team.read", body, channel=channel, resource_type="care-team", resource_id=team_id)

    def versions(self, principal: Principal, team_id: str, version: int | None = None, *,
                 channel: str = "internal") -> list[CareTeamView]:
        """Every kept version, oldest first (or only ``version``), read under
        CT-5 as the team stands now: an unknown version is NotFound."""
        def body(act: Act) -> list[CareTeamView]:
            team = self._load(act, team_id)
            self._can_read(act, team)
            query = select(CareTeamVersion).where(CareTeamVersion.care_team_id == team.id)
            if version is not None:
                query = query.where(CareTeamVersion.version == min(max(version, 0), 2**31 - 1))  # an integer column's range
                act.detail["version"] = version
            rows = act.session.execute(query.order_by(CareTeamVersion.version)).scalars().all()
            if version is not None and not rows:
                raise NotFound("unknown-version", f"Care team {team.id} has no version {version}; it is at version {team.version}.",
                               rule="CT-5", path="version")
            act.detail["returned"] = len(rows)
            tokens = {m["subject"] for row in rows for m in row.snapshot["members"] if m.get("subject")}
            people = audit_subjects.pseudonyms_of(act.session, tokens)
            return [self._version_view(team, row, people) for row in rows]

        action = "care-team.read" if version is not None else "care-team.history"
        return self.ctx.runner.run(principal, action, body, channel=channel, resource_type="care-team", resource_id=team_id)

    def update(self, principal: Principal, team_id: str, spec: CareTeamSpec, *, expected_version: int | None = None,
               channel: str = "internal") -> CareTeamView:
        ctx = self.ctx

        def body(act: Act) -> CareTeamView:
            team = self._load(act, team_id)
            niss = ctx.pseudonyms.reveal(team.patient_pseudonym) if team.patient_pseudonym else None
            if principal.role in PSI_ROLES:
                self._can_read(act, team)  # another project's team does not exist for them (IC-A3)
            act.require(ctx.policy.care_team_write(principal, niss, team.managing_organisation, self._is_member(team, principal)))
            if expected_version is not None and expected_version != team.version:
                raise VersionConflict("version-conflict", f"Care team {team.id} is at version {team.version}, not {expected_version}.", path="version")
            patient, members = self._validate(spec)
            if patient != niss:
                raise InvalidInput("care-team-patient-fixed", "A care team's patient cannot change; create another team.", path="subject")
            self._fill(act, team, spec, patient, members)
            flag_modified(team, "updated_at")  # every update is a new version, even of the same items at the same instant
            self._record(act, team, "update")
            return self._view(team)

        return ctx.runner.run(principal, "care-team.update", body, channel=channel, resource_type="care-team", resource_id=team_id)

    def for_patient(self, principal: Principal, patient_niss: str, *, channel: str = "internal") -> list[CareTeamView]:
        """The patient's care teams the caller may see (CT-5)."""
        ctx = self.ctx

        def body(act: Act) -> list[CareTeamView]:
            who = subject_of(ctx, principal, patient_niss, "patient")  # under any of the person's numbers (IC-R5)
            act.patient_pseudonym = who.pseudonym
            teams = act.session.execute(
                select(CareTeam).where(or_(CareTeam.patient_pseudonym == who.pseudonym,
                                           CareTeam.id.in_(select(CareTeamMember.care_team_id).where(CareTeamMember.member_pseudonym == who.pseudonym))))
                .order_by(CareTeam.created_at, CareTeam.id)
            ).scalars().all()
            visible = [self._view(team) for team in teams
                       if ctx.policy.care_team_read(principal, who.niss, self._is_member(team, principal), same_person=who.same_person,
                                                    managing_organisation=team.managing_organisation).allowed]
            act.rule = "CT-5"
            if not visible and principal.role not in PSI_ROLES:
                # The refusal depends on the caller and the patient only, never on whether teams exist.
                act.require(ctx.policy.care_team_read(principal, who.niss, False, same_person=who.same_person))
            act.detail["returned"] = len(visible)
            return visible

        return ctx.runner.run(principal, "care-team.search", body, channel=channel, resource_type="care-team")


def unknown_care_team() -> NotFound:
    """The one answer for a care-team id the caller cannot use (unknown, or another project's)."""
    return NotFound("unknown-care-team", "No care team with this id.", path="id")
