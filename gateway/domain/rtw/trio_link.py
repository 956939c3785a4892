"""The TRIO link (RP-F9): users who may see both platforms (insurers and
prevention services) are told whether TRIO holds a dossier for the insured
person, and nothing more. TRIO is asked with a blinded pseudonym in its own
domain (:class:`~gateway.domain.rtw.ports.TrioDirectory`); no data of
either platform goes to the other, and nothing of the answer is stored."""

from __future__ import annotations

from gateway.domain.acts import Act
from gateway.domain.principal import Principal
from gateway.domain.rtw import trajectory_policy as rules
from gateway.domain.rtw.requests import Trajectory


class TrioLinkService:
    def __init__(self, trajectory: Trajectory) -> None:
        self.t = trajectory
        self.core = trajectory.core

    def exists(self, principal: Principal, dossier_id: str, *, channel: str = "internal") -> bool:
        """Whether TRIO holds a dossier for the person of this dossier (RP-F9)."""
        t, core = self.t, self.core

        def body(act: Act) -> bool:
            dossier = core.load(act, dossier_id)
            _, person, _ = t.dossier_rule(act, dossier, lambda p, seen, *_: rules.trio_link(p, seen))
            found = bool(person is not None and core.trio.has_dossier(person.niss))  # type: ignore[attr-defined]
            act.detail["trio"] = found
            return found

        return core.ctx.runner.run(principal, "rtw.trio.link", body, channel=channel, resource_type="rtw-dossier",
                                   resource_id=dossier_id)
