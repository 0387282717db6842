"""Helpers for driving the real app with Textual's pilot."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from imtui.app import ImtuiApp, create_app
from imtui.config import Settings


def make_app(url: str, user: str = "operator", **settings: Any) -> ImtuiApp:
    base = Settings(database_url=url)
    return create_app(url, user=user, settings=dataclasses.replace(base, **settings))


async def settle(app: ImtuiApp, pilot: Any, rounds: int = 3) -> None:
    """Let workers finish and the screen catch up (no worker in imtui runs forever)."""
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def notifications(app: ImtuiApp) -> list[str]:
    return [n.message for n in app._notifications]  # noqa: SLF001 - no public reader in Textual 8


async def wait_for(predicate, timeout: float = 5.0, pilot: Any = None) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        if pilot is not None:
            await pilot.pause(0.05)
        else:
            await asyncio.sleep(0.05)
