"""Debian's Chromium driven by Playwright, for the console's browser tests.

Playwright never downloads a browser here: it is pointed at the system's Chromium, which
``make chromium`` (a step of ``make pytest``) installs when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path(os.environ.get("LIAISON_CHROMIUM", "/usr/bin/chromium"))
"""The browser binary (``LIAISON_CHROMIUM`` overrides it)."""


def chromium_path() -> str:
    """The browser binary; fails the test, saying what to run, when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make chromium` (or set LIAISON_CHROMIUM)")
    return str(CHROMIUM)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, closed after."""
    executable = chromium_path()
    async with async_playwright() as playwright:
        # As root (CI, containers) Chromium's sandbox cannot start; the pages are our own.
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, chromium_sandbox=False
        )
        try:
            yield browser
        finally:
            await browser.close()
