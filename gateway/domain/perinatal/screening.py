"""The Born in Belgium Professionals screening (PN-1) as published data, and
the vulnerability profile derived from its answers.

The domains and the questionnaire's version are read from
``profiles/Questionnaire-perinatal-screening.json``, the one truth both faces
serve; the derivation rules are here, versioned by :data:`PROFILE_VERSION`
(a screening keeps the versions it was made with).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from gateway.contracts import contract
from gateway.domain.errors import InvalidInput

QUESTIONNAIRE_ID = "perinatal-screening"
PROFILE_VERSION = "1"  # bump when the derivation below changes
ANSWERS = ("concern", "no-concern", "declined")
NEED_OF = {"concern": "action", "no-concern": "none", "declined": "ask-again"}


@lru_cache(maxsize=1)
def questionnaire() -> dict[str, Any]:
    """The published screening (a FHIR Questionnaire)."""
    return json.loads(contract("profiles", f"Questionnaire-{QUESTIONNAIRE_ID}.json").read_text(encoding="utf-8"))


def domains() -> tuple[str, ...]:
    """The vulnerability domains, in the questionnaire's order."""
    return tuple(item["linkId"] for item in questionnaire()["item"])


def questionnaire_version() -> str:
    return str(questionnaire()["version"])


@dataclass(frozen=True)
class Profile:
    """The derived vulnerability profile: what each domain needs."""

    version: str
    needs: dict[str, str]

    @property
    def action(self) -> tuple[str, ...]:
        """The domains that need action (reasons for a referral, RF-3)."""
        return tuple(d for d in domains() if self.needs.get(d) == "action")


def check_answers(answers: Mapping[str, str]) -> dict[str, str]:
    """Every domain answered once with a known answer (PN-1)."""
    known = domains()
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise InvalidInput("unknown-domain", f"{unknown[0]!r} is not a domain of the screening; the domains are "
                           f"{', '.join(known)}.", rule="PN-1", path=f"item.{unknown[0]}")
    for domain in known:
        value = answers.get(domain)
        if value is None:
            raise InvalidInput("missing-answer", f"Answer the domain {domain!r} (concern, no-concern, or declined when "
                               "the woman prefers not to discuss it).", rule="PN-1", path=f"item.{domain}")
        if value not in ANSWERS:
            raise InvalidInput("invalid-answer", f"The answer to {domain!r} is one of {', '.join(ANSWERS)}, not {value!r}.",
                               rule="PN-1", path=f"item.{domain}")
    return {d: answers[d] for d in known}


def derive(answers: Mapping[str, str]) -> Profile:
    """PN-1: a concern needs action, a declined domain is to be asked again."""
    return Profile(PROFILE_VERSION, {d: NEED_OF[a] for d, a in answers.items()})
