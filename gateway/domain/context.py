"""What every use case needs, wired once: database, clock, pseudonyms, the
facts and register ports, the access policy and the act runner."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.config import Settings
from gateway.domain.acts import ActRunner
from gateway.domain.clock import Clock
from gateway.domain.database import Database
from gateway.domain.policy import AccessPolicy
from gateway.domain.ports import CareFacts, NationalRegister
from gateway.domain.pseudonyms import PseudonymService


@dataclass
class DomainContext:
    db: Database
    clock: Clock
    pseudonyms: PseudonymService
    facts: CareFacts
    register: NationalRegister
    settings: Settings = field(default_factory=Settings)
    policy: AccessPolicy = field(init=False)
    runner: ActRunner = field(init=False)

    def __post_init__(self) -> None:
        self.policy = AccessPolicy(self.facts, self.clock)
        self.runner = ActRunner(self.db, self.clock, self.pseudonyms)
