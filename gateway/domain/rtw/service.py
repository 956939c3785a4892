"""Return to work, assembled: the policy over the access-data cache, the
dossier and form use cases, retention. The composition root builds one
from the domain context and the two ports."""

from __future__ import annotations

from datetime import date, timedelta

from gateway.domain.context import DomainContext
from gateway.domain.rtw import retention
from gateway.domain.rtw.access_data import MAX_LIFETIME, AccessDataCache
from gateway.domain.rtw.dossiers import DossierService, RtwCore
from gateway.domain.rtw.forms import FormService
from gateway.domain.rtw.policy import ReturnToWorkPolicy, SignIn
from gateway.domain.rtw.ports import PartnerSources, TrioDirectory
from gateway.domain.rtw.statistics import DEFAULT_THRESHOLD
from gateway.domain.rtw.trajectory import trajectory_services


class ReturnToWork:
    """The return-to-work use cases a face is given."""

    def __init__(self, ctx: DomainContext, sources: PartnerSources, trio: TrioDirectory, sign_in: SignIn,
                 *, access_lifetime: timedelta = MAX_LIFETIME, small_cell: int = DEFAULT_THRESHOLD) -> None:
        self.ctx = ctx
        self.access = AccessDataCache(sources, ctx.clock, access_lifetime)
        self.policy = ReturnToWorkPolicy(self.access, sign_in)
        core = RtwCore(ctx, self.policy, self.access, trio)
        self.dossiers = DossierService(core)
        self.forms = FormService(core)
        # the trajectory (RP-F3..RP-F9, RP-R3, RF-2): requests, decisions, lists, messages, TRIO link, statistics
        (self.requests, self.decisions, self.lists, self.messages, self.trio_link,
         self.statistics) = trajectory_services(core, small_cell)

    def purge(self, *, dry_run: bool = False, today: date | None = None) -> retention.RtwPurgeReport:
        """RP-R1, for the gateway's purge."""
        return retention.purge(self.ctx, dry_run=dry_run, today=today)
