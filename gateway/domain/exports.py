"""Periodic exports to the insurers (IC-R7).

Each insurer receives only its own members (affiliation asked of CIN data at
export time). A person's active restriction or objection (DS-3, DS-4) keeps
them out of the research export. The billing export carries the inclusions changed in the
period; the research export carries only patients whose decision in force
is ``agree``, and only their data from the date they agreed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sqlalchemy import select

from gateway.domain.acts import Act
from gateway.domain.context import DomainContext
from gateway.domain.errors import InvalidInput
from gateway.domain.inclusions import current_consent
from gateway.domain.model import Inclusion
from gateway.domain.rights import is_restricted, research_blocked
from gateway.domain.principal import Principal

INSURER_CODES = ("100", "200", "300", "400", "500", "600", "900")


@dataclass(frozen=True)
class BillingLine:
    patient_niss: str
    inclusion_id: str
    psi_nihii: str
    status: str
    start_date: date
    end_date: date | None
    billing_start: date
    billing_end: date | None
    consent_decision: str | None
    consent_date: date | None


@dataclass(frozen=True)
class ResearchLine:
    patient_niss: str
    psi_nihii: str
    status: str
    agreed_on: date
    start_date: date  # never before agreed_on
    end_date: date | None


@dataclass(frozen=True)
class InsurerExport:
    insurer_code: str
    since: date | None
    billing: tuple[BillingLine, ...]
    research: tuple[ResearchLine, ...]


class ExportService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    def for_insurer(
        self, principal: Principal, insurer_code: str, *, since: date | None = None, channel: str = "internal"
    ) -> InsurerExport:
        ctx = self.ctx

        def body(act: Act) -> InsurerExport:
            if insurer_code not in INSURER_CODES:
                raise InvalidInput("unknown-insurer", f"{insurer_code!r} is not an insurer code ({', '.join(INSURER_CODES)}).",
                                   rule="IC-R7", path="insurer")
            act.require(ctx.policy.export(principal, insurer_code))
            query = select(Inclusion).order_by(Inclusion.patient_pseudonym, Inclusion.start_date)
            if since is not None:
                query = query.where(Inclusion.updated_at >= datetime.combine(since, time.min, timezone.utc))
            billing: list[BillingLine] = []
            research: list[ResearchLine] = []
            members: dict[str, str | None] = {}
            for inc in act.session.execute(query).scalars():
                if inc.patient_pseudonym not in members:
                    niss = ctx.pseudonyms.reveal(inc.patient_pseudonym)
                    members[inc.patient_pseudonym] = niss if ctx.facts.insurer_of(niss, act.today) == insurer_code else None
                niss = members[inc.patient_pseudonym]
                if niss is None:
                    continue
                consent = current_consent(act.session, inc.patient_pseudonym)
                billing.append(BillingLine(
                    niss, inc.id, inc.psi_nihii, inc.status, inc.start_date, inc.end_date, inc.billing_start,
                    inc.billing_end, consent.decision if consent else None, consent.decision_date if consent else None,
                ))
                if (consent is not None and consent.decision == "agree" and not research_blocked(act.session, inc.patient_pseudonym)
                        and not is_restricted(act.session, inc)):  # DS-3: a restricted inclusion leaves research
                    if inc.end_date is not None and inc.end_date < consent.decision_date:
                        continue
                    research.append(ResearchLine(
                        niss, inc.psi_nihii, inc.status, consent.decision_date,
                        max(inc.start_date, consent.decision_date), inc.end_date,
                    ))
            act.detail.update(insurer=insurer_code, billing=len(billing), research=len(research))
            return InsurerExport(insurer_code, since, tuple(billing), tuple(research))

        return ctx.runner.run(principal, "inclusion.export", body, channel=channel, resource_type="export")
