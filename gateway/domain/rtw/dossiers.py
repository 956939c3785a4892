"""Use cases of the return-to-work dossier: open it, read it enriched from
the sources, search the dossiers a caller may see.

Each runs as one act (:mod:`gateway.domain.acts`): one policy decision with
its rule id, the write, one audit record, allowed or denied (RP-R2).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.inclusions import check_patient_niss
from gateway.domain.policy import Decision
from gateway.domain.ports import PersonRecord
from gateway.domain.principal import Principal
from gateway.domain.rtw.access_data import AccessData, AccessDataCache
from gateway.domain.rtw.model import RtwDossier
from gateway.domain.rtw.policy import ReturnToWorkPolicy
from gateway.domain.rtw.ports import TrioDirectory
from gateway.domain.rtw.roles import PartnerKind, partner_kind
from gateway.domain.rtw.views import DossierPage, DossierView

OPEN, CLOSED = "open", "closed"
STATUSES = (OPEN, CLOSED)
VIA = {PartnerKind.INSURER: "insurer", PartnerKind.PREVENTION: "prevention"}
RESOURCE = "rtw-dossier"


@dataclass(frozen=True)
class DossierQuery:
    """A search among the dossiers the caller may see (by person, partner, status)."""

    insured_niss: str | None = None
    partner_cbe: str | None = None  # the organisation that opened the dossier
    status: str | None = None
    page_size: int | None = None
    cursor: str | None = None


def unknown_dossier() -> NotFound:
    return NotFound("unknown-dossier", "No return-to-work dossier with this id.", path="id")


class RtwCore:
    """What the dossier and form use cases share: context, policy, sources."""

    def __init__(self, ctx: DomainContext, policy: ReturnToWorkPolicy, access: AccessDataCache,
                 trio: TrioDirectory) -> None:
        self.ctx = ctx
        self.policy = policy
        self.access = access
        self.trio = trio

    def person(self, niss: str) -> tuple[str, PersonRecord | None]:
        """The current number of a person (the register follows NISS changes) and their record."""
        person = self.ctx.register.person(niss)
        return (person.niss if person else niss), person

    def pseudonyms(self, niss: str, person: PersonRecord | None) -> list[str]:
        """The pseudonyms of every number of the person (current first): a dossier
        opened under a former number is theirs until the register's change is applied (IC-R5)."""
        numbers = (person.niss, *person.previous_niss) if person is not None else (niss,)
        return [self.ctx.pseudonyms.pseudonymise(n) for n in numbers]

    def access_data(self, niss: str, act: Act, person: PersonRecord | None) -> AccessData | None:
        return self.access.about(niss, act.today) if person is not None else None

    def decide_for(self, act: Act, niss: str, decide) -> tuple[Decision, PersonRecord | None, AccessData | None]:  # type: ignore[no-untyped-def]
        """The caller's standing, then the person's access data, then ``decide``:
        a caller without standing causes no look-up about the person."""
        act.require(self.policy.standing(act.principal), names_rule=False)
        current, person = self.person(niss)
        data = self.access_data(current, act, person)
        return act.require(decide(act.principal, person, data)), person, data

    def load(self, act: Act, dossier_id: str) -> RtwDossier:
        act.require(self.policy.standing(act.principal), names_rule=False)
        row = act.session.get(RtwDossier, dossier_id) if well_formed_id(dossier_id) else None
        if row is None:
            raise unknown_dossier()
        act.patient_pseudonym = row.insured_pseudonym
        return row

    def view(self, act: Act, row: RtwDossier, person: PersonRecord | None, data: AccessData | None) -> DossierView:
        kind = partner_kind(act.principal)
        trio = self.trio.has_dossier(person.niss) if person is not None and kind in (PartnerKind.INSURER, PartnerKind.PREVENTION) else None
        return DossierView(
            id=row.id, version=row.version,
            insured_niss=person.niss if person is not None else self.ctx.pseudonyms.reveal(row.insured_pseudonym),
            status=row.status, opened_via=row.opened_via, opened_by_role=row.opened_by_role,
            opened_by_cbe=row.opened_by_cbe, created_at=row.created_at, updated_at=row.updated_at,
            last_name=person.last_name if person else None, first_name=person.first_name if person else None,
            insurer=data.insurer if data else None, employers=data.employments if data else (),
            prevention_services=data.prevention_services if data else (),
            registrations=data.registrations if data else (), trio_dossier=trio,
        )


class DossierService:
    """The dossier use cases, for both faces."""

    def __init__(self, core: RtwCore) -> None:
        self.core = core

    def open(self, principal: Principal, insured_niss: str, *, via_trio: bool = False,
             channel: str = "internal") -> tuple[DossierView, bool]:
        """Open the dossier of an insured person (or return the open one):
        by their insurer or a prevention service of their employer, or on a
        TRIO link, when TRIO holds a dossier for the person. Returns the
        dossier and whether it was created."""
        core = self.core

        def body(act: Act) -> tuple[DossierView, bool]:
            niss = check_patient_niss(insured_niss, "insured.niss")
            act.patient_pseudonym = core.ctx.pseudonyms.pseudonymise(niss)
            decision, person, data = core.decide_for(act, niss, core.policy.open_dossier)
            assert person is not None  # a decision that allows names a known person
            pseudonym = core.ctx.pseudonyms.pseudonymise(person.niss)
            act.patient_pseudonym = pseudonym
            existing = act.session.execute(
                select(RtwDossier).where(RtwDossier.insured_pseudonym.in_(core.pseudonyms(person.niss, person)),
                                         RtwDossier.status == OPEN).limit(1)
            ).scalar_one_or_none()
            if existing is not None:
                act.resource_id = existing.id
                act.detail["created"] = False
                return core.view(act, existing, person, data), False
            if via_trio and not core.trio.has_dossier(person.niss):
                raise InvalidInput("no-trio-dossier", "TRIO holds no dossier for this person: open the dossier without the "
                                   "TRIO link.", rule="RP-F9", path="trio")
            kind = partner_kind(principal)
            row = RtwDossier(
                id=str(uuid.uuid4()), insured_pseudonym=pseudonym, status=OPEN,
                opened_via="trio" if via_trio else VIA[kind],  # type: ignore[index]
                opened_by_pseudonym=act.actor_pseudonym, opened_by_role=principal.role.value,
                opened_by_cbe=decision.organisation or "", created_at=act.now, updated_at=act.now,
            )
            act.session.add(row)
            act.session.flush()
            act.resource_id = row.id
            act.detail.update(created=True, via=row.opened_via)
            return core.view(act, row, person, data), True

        return core.ctx.runner.run(principal, "rtw.dossier.open", body, channel=channel, resource_type=RESOURCE)

    def read(self, principal: Principal, dossier_id: str, *, channel: str = "internal") -> DossierView:
        core = self.core

        def body(act: Act) -> DossierView:
            row = core.load(act, dossier_id)
            niss = core.ctx.pseudonyms.reveal(row.insured_pseudonym)
            _, person, data = core.decide_for(act, niss, core.policy.access_dossier)
            return core.view(act, row, person, data)

        return core.ctx.runner.run(principal, "rtw.dossier.read", body, channel=channel, resource_type=RESOURCE,
                                   resource_id=dossier_id)

    def close(self, principal: Principal, dossier_id: str, *, channel: str = "internal") -> DossierView:
        """Close a dossier (its partners with access who may open one)."""
        core = self.core

        def body(act: Act) -> DossierView:
            row = core.load(act, dossier_id)
            niss = core.ctx.pseudonyms.reveal(row.insured_pseudonym)
            _, person, data = core.decide_for(act, niss, core.policy.open_dossier)
            if row.status != CLOSED:
                row.status, row.updated_at = CLOSED, act.now
                act.session.flush()
            return core.view(act, row, person, data)

        return core.ctx.runner.run(principal, "rtw.dossier.close", body, channel=channel, resource_type=RESOURCE,
                                   resource_id=dossier_id)

    def search(self, principal: Principal, query: DossierQuery, *, channel: str = "internal") -> DossierPage:
        """The dossiers matching ``query`` that the caller may see, in id order, a page at a time.
        A dossier the caller may not see is skipped, never shown (RP-A1..RP-A5)."""
        core = self.core
        settings = core.ctx.settings
        size = settings.default_page_size if query.page_size is None else query.page_size

        def body(act: Act) -> DossierPage:
            if not 1 <= size <= settings.max_page_size:
                raise InvalidInput("page-size-out-of-range", f"The page size must be between 1 and {settings.max_page_size}.",
                                   path="_count")
            if query.status is not None and query.status not in STATUSES:
                raise InvalidInput("invalid-status", f"The status is 'open' or 'closed', not {query.status!r}.", path="status")
            act.require(core.policy.standing(principal), names_rule=False)
            conditions = []
            if query.insured_niss:
                niss = check_patient_niss(query.insured_niss, "insured.niss")
                current, person = core.person(niss)
                act.patient_pseudonym = core.ctx.pseudonyms.pseudonymise(current)
                act.require(core.policy.access_dossier(principal, person, core.access_data(current, act, person)))
                conditions.append(RtwDossier.insured_pseudonym.in_(core.pseudonyms(current, person)))
            elif partner_kind(principal) is not PartnerKind.INAMI and query.partner_cbe is None:
                raise InvalidInput("criteria-required", "Name the insured person (NISS) or a partner organisation (CBE): "
                                   "dossiers are not listed wholesale.", rule="RP-A4", path="insured.niss")
            if query.partner_cbe:
                conditions.append(RtwDossier.opened_by_cbe == query.partner_cbe)
            if query.status:
                conditions.append(RtwDossier.status == query.status)
            found: list[DossierView] = []
            after = query.cursor or ""
            more = False
            while not more:
                batch = act.session.execute(select(RtwDossier).where(*conditions, RtwDossier.id > after)
                                            .order_by(RtwDossier.id).limit(100)).scalars().all()
                for row in batch:
                    niss = core.ctx.pseudonyms.reveal(row.insured_pseudonym)
                    current, person = core.person(niss)
                    data = core.access_data(current, act, person)
                    if core.policy.access_dossier(principal, person, data).allowed:
                        if len(found) == size:
                            more = True
                            break
                        found.append(core.view(act, row, person, data))
                if len(batch) < 100:
                    break
                after = batch[-1].id
            if act.rule is None:  # no person named: the rule that limits what the caller sees
                act.rule = "RP-A4" if partner_kind(principal) is PartnerKind.INAMI else "RP-A1"
            act.detail["returned"] = len(found)
            return DossierPage(tuple(found), found[-1].id if more and found else None)

        return core.ctx.runner.run(principal, "rtw.dossier.search", body, channel=channel, resource_type=RESOURCE)


def year_of(at: datetime) -> int:
    from gateway.domain.clock import BRUSSELS

    return at.astimezone(BRUSSELS).year
