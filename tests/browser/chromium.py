"""Launching Debian's Chromium through Playwright for Python (no `playwright install`)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1200, "height": 800}


def missing() -> str | None:
    """Why a real browser cannot run here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the `playwright` Python package is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


def launch_options(*extra_flags: str) -> dict[str, object]:
    """Keyword arguments for `playwright.chromium.launch`: headless, our binary, quiet flags."""
    return {"executable_path": CHROMIUM, "headless": True, "args": [*FLAGS, *extra_flags]}
