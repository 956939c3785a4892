"""Waiting, for what only time proves: that the target refuses a token once
it has expired. A black-box runner cannot move the target's clock, so it
waits until the token's own expiry plus the skew the target allows."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from gateway.conformance.suites.actions import ActionError, Context
from gateway.conformance.suites.loader import seconds


def run_wait(spec: dict[str, Any], ctx: Context) -> None:
    delay = float(spec.get("seconds", 0))
    if "token" in spec:
        token = ctx.tokens.token(spec["token"])
        if token.expires is None:
            raise ActionError(f"token {spec['token']} says nothing of its expiry")
        until = token.expires + timedelta(seconds=seconds(spec.get("past-expiry", "0s")))
        delay = max(delay, (until - ctx.clock.now()).total_seconds())
    if delay > 0:
        time.sleep(delay)
