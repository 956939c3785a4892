"""What the simulated return-to-work services remember while they run: the
sandbox data of the platform's seed, how often each source was asked (the
RP-A7 tests count them), and what TRIO and the pseudonymisation service
received (the RP-F9 test inspects them). Kept in memory beside the
platform, never in the gateway."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.ehealth.rtw.sandbox import RtwSandbox, rtw_sandbox

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform


@dataclass
class RtwPlatformState:
    sandbox: RtwSandbox
    calls: Counter[str] = field(default_factory=Counter)
    trio_received: list[dict[str, str]] = field(default_factory=list)
    pseudo_received: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, source: str) -> None:
        with self.lock:
            self.calls[source] += 1


_ATTRIBUTE = "_return_to_work"
_CREATE = threading.Lock()


def rtw_state(platform: "Platform") -> RtwPlatformState:
    """The return-to-work state of one running platform (made on first use)."""
    state = getattr(platform, _ATTRIBUTE, None)
    if state is None:
        with _CREATE:
            state = getattr(platform, _ATTRIBUTE, None)
            if state is None:
                state = RtwPlatformState(rtw_sandbox(platform.settings.seed))
                setattr(platform, _ATTRIBUTE, state)
    return state
