"""Running a call's blocking work (signature checks, the act with its
database transaction and its questions to the platform, the rendering) off
the event loop, in threads, a bounded number at a time per event loop.

How many at once is the setting ``calls_at_once`` (default 1). With the
embedded platform a call's wait on the platform is CPU in this very process,
under one GIL: more threads only lengthen each other's turns (measured in
bench/README.md). Against a remote platform a call mostly waits on the
network: raise it (8 to 16) so that one worker keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from typing import Any, Callable, TypeVar

import anyio.to_thread

T = TypeVar("T")
_state = {"calls_at_once": 1}
_limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]" = weakref.WeakKeyDictionary()


def configure(calls_at_once: int) -> None:
    """Set the bound of the event loops that start serving after this call (the app's creation)."""
    if calls_at_once < 1:
        raise ValueError(f"calls_at_once must be at least 1, not {calls_at_once}")
    _state["calls_at_once"] = calls_at_once


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(_state["calls_at_once"])
    return limiter


async def blocking(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a worker thread; the event loop stays free to read
    other requests, and up to ``calls_at_once`` calls run at the same time."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args), limiter=_limiter())
