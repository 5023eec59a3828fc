"""Screenshots of the story: `python3 scripts/screenshots.py [--out docs/screenshots]`.

Starts both apps on free loopback ports (fresh SQLite files in a temporary folder), plays John
in headless Chromium (Playwright for Python; Debian's /usr/bin/chromium, or CHROMIUM_PATH), and
saves one PNG per step: 01-awesomeservice-home.png, 02-…, at a 1200×800 viewport; then the
inspector, its diagram, the tour index, the attack lab, the SPA demos, the debugger and John's
activity page on Mockgram. It uses
the demo's ports 8000 and 8001 when they are free (stop `scripts/demo.py` first for that).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import ROOT, ensure_venv  # noqa: E402


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def main() -> int:
    ensure_venv("test")
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.browser import chromium, story
    from tests.browser.apps import both_apps

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    reason = chromium.missing()
    if reason is not None:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("[0-9][0-9]-*.png"):
        old.unlink()

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as driver:
        folder = Path(tmp)
        with both_apps(
            mockgram_database_url=f"sqlite:///{folder / 'mockgram.db'}",
            awesome_database_url=f"sqlite:///{folder / 'awesomeservice.db'}",
            log_dir=folder,
            # The demo's addresses when they are free, so the pictures match the README.
            mockgram_host="localhost",
            awesome_host="localhost",
            ports=(8001, 8000) if _free(8001) and _free(8000) else None,
        ) as apps:
            browser = driver.chromium.launch(**chromium.launch_options())
            page = browser.new_context(viewport=chromium.VIEWPORT).new_page()
            taken: list[Path] = []

            def shot(name: str) -> None:
                path = args.out / f"{len(taken) + 1:02d}-{name}.png"
                page.screenshot(path=str(path))
                taken.append(path)
                print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

            story.the_whole_story(page, apps.awesome, apps.mockgram, shot)
            # Beyond the story: the pages that show each step happening.
            for path, name in (
                ("/inspector", "inspector"),
                ("/inspector/diagram", "inspector-diagram"),
                ("/tour", "tour-index"),
                ("/lab", "attack-lab"),
                ("/spa/pkce", "spa-code-pkce"),
                ("/spa/implicit", "spa-implicit"),
                ("/debugger", "debugger"),
            ):
                page.goto(f"{apps.awesome}{path}")
                shot(name)
            page.goto(f"{apps.awesome}/lab")
            page.locator("form[action^='/lab/'] button").first.click()
            page.wait_for_load_state()
            shot("attack-lab-stolen-code")
            page.goto(f"{apps.mockgram}/me/activity")
            shot("mockgram-activity")
            browser.close()
    print(f"{len(taken)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
