"""Waiting for a condition that another task or process makes true, with a bound."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

POLL_SECONDS = 0.01


async def until(condition: Callable[[], bool | Awaitable[bool]], within: float = 10.0) -> None:
    """Return once ``condition()`` is true; fail with ``TimeoutError`` after ``within`` seconds.

    Polling is right here: the conditions are side effects in other tasks, threads or processes
    (rows in a database, records at a peer) that signal nothing we could wait on.
    """
    async with asyncio.timeout(within):
        while True:
            value = condition()
            if not isinstance(value, bool):
                value = await value
            if value:
                return
            await asyncio.sleep(POLL_SECONDS)
