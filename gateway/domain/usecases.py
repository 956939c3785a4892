"""What the faces are given: the domain's use cases, and the context they
share (clock, paging and size bounds). A face receives this and the
verifier it needs, never the composition root's whole gateway object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.domain.access_log import AccessLogService
    from gateway.domain.care_teams import CareTeamService
    from gateway.domain.clock import Clock
    from gateway.domain.consent import ConsentService
    from gateway.domain.context import DomainContext
    from gateway.domain.directory import DirectoryService
    from gateway.domain.exports import ExportService
    from gateway.domain.inclusions import InclusionService
    from gateway.domain.lifecycle import Lifecycle
    from gateway.domain.referrals import ReferralService
    from gateway.domain.rights import RightsService


@dataclass(frozen=True)
class UseCases:
    """The acts a face may ask for, one service per kind of entity."""

    ctx: "DomainContext"
    inclusions: "InclusionService"
    consents: "ConsentService"
    lifecycle: "Lifecycle"
    exports: "ExportService"
    care_teams: "CareTeamService"
    referrals: "ReferralService"
    access_log: "AccessLogService"
    rights: "RightsService"
    directory: "DirectoryService"
    return_to_work: Any = None  # gateway.domain.rtw.service.ReturnToWork (return-to-work.md)
    perinatal: Any = None  # gateway.domain.perinatal.service.PerinatalService (PN-1..PN-3, RF-3)

    @property
    def clock(self) -> "Clock":
        return self.ctx.clock

    @property
    def settings(self) -> Any:
        """The bounds the faces apply (page sizes, body limits)."""
        return self.ctx.settings
