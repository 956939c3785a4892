"""Messages between the parties of a dossier (RP-F6) and the medical
exchange from an insurer's advising physician to INAMI's medical inspector
(RP-F8, RP-A6).

A conversation is a dossier and two parties (organisations by CBE, INAMI
as one party). A message is visible to the two parties of its
conversation only, never to another party of the same dossier; both must
have access to the dossier (RP-A1..RP-A5). A medical message goes from an
advising physician to INAMI and is read by INAMI's medical inspector and
the sending insurer's advising physicians only: INAMI's social expert,
other staff of the insurer, and every other party are refused.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.policy import Decision
from gateway.domain.principal import Principal
from gateway.domain.rtw import trajectory_policy as rules
from gateway.domain.rtw.dossiers import RtwCore
from gateway.domain.rtw.model import RtwDossier
from gateway.domain.rtw.requests import Trajectory
from gateway.domain.rtw.trajectory_model import RtwMessage
from gateway.domain.rtw.trajectory_views import MessageView

MESSAGE, MEDICAL = "message", "medical"
RESOURCE = "rtw-message"
MAX_BODY = 20_000


def dossier_parties(data, inami: bool = True) -> frozenset[str]:  # type: ignore[no-untyped-def]
    """The parties with access to a dossier, from the sources (RP-A1..RP-A4)."""
    found = set()
    if data is not None:
        if data.insurer is not None:
            found.add(data.insurer.cbe)
        found |= data.regional_cbes() | data.prevention_cbes()
    if inami:
        found.add(rules.INAMI_PARTY)
    return frozenset(found)


def view(row: RtwMessage) -> MessageView:
    return MessageView(row.id, row.dossier_id, row.kind, row.sender, row.recipient, row.sender_role, row.subject, row.body,
                       row.sent_at)


class MessageService:
    def __init__(self, trajectory: Trajectory) -> None:
        self.t = trajectory
        self.core: RtwCore = trajectory.core

    def _check_body(self, body_text: str, subject: str | None) -> None:
        if not (body_text or "").strip():
            raise InvalidInput("empty-message", "Write the message.", rule="RP-F6", path="body")
        if len(body_text) > MAX_BODY or len(subject or "") > 200:
            raise InvalidInput("message-too-long", f"A message holds at most {MAX_BODY} characters, its subject 200.",
                               rule="RP-F6", path="body")

    def send(self, principal: Principal, dossier_id: str, recipient: str, body_text: str, *, subject: str | None = None,
             channel: str = "internal") -> MessageView:
        """RP-F6: write to another party with access to the dossier."""
        t, core = self.t, self.core

        def body(act: Act) -> MessageView:
            dossier = core.load(act, dossier_id)
            sender = rules.party_of(principal)

            def rule(p: Principal, seen: Decision, person, data) -> Decision:  # type: ignore[no-untyped-def]
                if not seen.allowed:
                    return seen
                if recipient == sender or recipient not in dossier_parties(data):
                    return Decision.deny("RP-F6", "not-a-party-of-the-dossier",
                                         "Write to another party with access to this dossier (its insurer, a regional "
                                         "service or prevention service of the person, or INAMI as 'inami').")
                return Decision.allow("RP-F6", "both parties have access to the dossier", organisation=seen.organisation)

            t.dossier_rule(act, dossier, rule)
            self._check_body(body_text, subject)
            return self._store(act, dossier, MESSAGE, sender, recipient, subject, body_text)

        return core.ctx.runner.run(principal, "rtw.message.send", body, channel=channel, resource_type=RESOURCE)

    def send_medical(self, principal: Principal, dossier_id: str, body_text: str, *, subject: str | None = None,
                     channel: str = "internal") -> MessageView:
        """RP-F8: the advising physician sends medical data to INAMI's medical inspector."""
        t, core = self.t, self.core

        def body(act: Act) -> MessageView:
            dossier = core.load(act, dossier_id)
            t.dossier_rule(act, dossier, lambda p, seen, *_: seen if not seen.allowed else rules.send_medical(p))
            self._check_body(body_text, subject)
            return self._store(act, dossier, MEDICAL, rules.party_of(principal), rules.INAMI_PARTY, subject, body_text)

        return core.ctx.runner.run(principal, "rtw.medical.send", body, channel=channel, resource_type=RESOURCE)

    def _store(self, act: Act, dossier: RtwDossier, kind: str, sender: str, recipient: str, subject: str | None,
               text: str) -> MessageView:
        low, high = sorted((sender, recipient))
        row = RtwMessage(id=str(uuid.uuid4()), dossier_id=dossier.id, kind=kind, sender=sender, recipient=recipient,
                         party_low=low, party_high=high, sender_role=act.principal.role.value,
                         sender_pseudonym=act.actor_pseudonym, subject=subject, body=text, sent_at=act.now)
        act.session.add(row)
        dossier.updated_at = act.now
        act.session.flush()
        act.resource_id = row.id
        act.detail.update(dossier=dossier.id, kind=kind, recipient=recipient)
        return view(row)

    def read(self, principal: Principal, message_id: str, *, channel: str = "internal") -> MessageView:
        t, core = self.t, self.core

        def body(act: Act) -> MessageView:
            act.require(core.policy.standing(principal), names_rule=False)
            row = act.session.get(RtwMessage, message_id) if well_formed_id(message_id) else None
            if row is None:
                raise NotFound("unknown-message", "No message with this id.", path="id")
            dossier = act.session.get(RtwDossier, row.dossier_id)
            assert dossier is not None
            act.patient_pseudonym = dossier.insured_pseudonym
            t.dossier_rule(act, dossier, lambda p, seen, *_: self._may_read(p, seen, row))
            return view(row)

        return core.ctx.runner.run(principal, "rtw.message.read", body, channel=channel, resource_type=RESOURCE,
                                   resource_id=message_id)

    @staticmethod
    def _may_read(principal: Principal, seen: Decision, row: RtwMessage) -> Decision:
        if not seen.allowed:
            return seen
        if row.kind == MEDICAL:
            return rules.read_medical(principal, row.sender)
        if rules.party_of(principal) in (row.sender, row.recipient):
            return Decision.allow("RP-F6", "a party of the conversation")
        return Decision.deny("RP-F6", "not-in-conversation", "A message is read by the two parties of its conversation only.")

    def of_dossier(self, principal: Principal, dossier_id: str, *, with_party: str | None = None,
                   channel: str = "internal") -> list[MessageView]:
        """The messages of a dossier the caller may read: its own conversations (RP-F6) and, for the two
        physicians of the exchange, the medical data (RP-F8)."""
        t, core = self.t, self.core

        def body(act: Act) -> list[MessageView]:
            dossier = core.load(act, dossier_id)
            t.dossier_rule(act, dossier, lambda p, seen, *_: seen)
            me = rules.party_of(principal)
            conversations = and_(RtwMessage.kind == MESSAGE, or_(RtwMessage.party_low == me, RtwMessage.party_high == me))
            if with_party:
                low, high = sorted((me, with_party))
                conversations = and_(conversations, RtwMessage.party_low == low, RtwMessage.party_high == high)
            shown = [conversations]
            if rules.read_medical(principal, me).allowed:
                medical = RtwMessage.kind == MEDICAL
                if principal.role.value != "inami-inspector":
                    medical = and_(medical, RtwMessage.sender == me)
                shown.append(medical)
            rows = act.session.execute(select(RtwMessage).where(RtwMessage.dossier_id == dossier.id, or_(*shown))
                                       .order_by(RtwMessage.sent_at, RtwMessage.id)).scalars().all()
            act.rule = "RP-F6"
            act.detail["returned"] = len(rows)
            return [view(r) for r in rows]

        return core.ctx.runner.run(principal, "rtw.message.search", body, channel=channel, resource_type=RESOURCE)


__all__ = ["MEDICAL", "MESSAGE", "MessageService"]
