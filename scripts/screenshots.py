"""Screenshots of the story: `python3 scripts/screenshots.py [--out docs/screenshots]`.

Starts both apps on free loopback ports (fresh SQLite files in a temporary folder), plays John
in headless Chromium (Playwright for Python; Debian's /usr/bin/chromium, or CHROMIUM_PATH), and
saves one PNG per step: 01-awesomeservice-home.png, 02-…, at a 1200×800 viewport; then the
inspector, its diagram, the tour index, the attack lab, the SPA demos, the debugger and John's
activity page on Mockgram; then, on freshly started apps (so no consent is remembered), John
pressing Deny on Connect, and "Log in with Mockgram": its consent and the claims page. It uses
the demo's ports 8000 and 8001 when they are free (stop `scripts/demo.py` first for that).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from contextlib import AbstractContextManager
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
    from tests.browser.apps import Apps, both_apps
    from tests.e2e.servers import free_port

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

    # The demo's addresses when they are free, so the pictures match the README.
    ports = (8001, 8000) if _free(8001) and _free(8000) else (free_port(), free_port())

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as driver:
        folder = Path(tmp)

        def fresh_apps(name: str) -> AbstractContextManager[Apps]:
            """Both apps on `ports`, with new databases: nobody has agreed to anything yet."""
            return both_apps(
                mockgram_database_url=f"sqlite:///{folder / f'{name}-mockgram.db'}",
                awesome_database_url=f"sqlite:///{folder / f'{name}-awesomeservice.db'}",
                log_dir=folder,
                mockgram_host="localhost",
                awesome_host="localhost",
                ports=ports,
            )

        browser = driver.chromium.launch(**chromium.launch_options())
        page = browser.new_context(viewport=chromium.VIEWPORT).new_page()
        taken: list[Path] = []

        def shot(name: str) -> None:
            path = args.out / f"{len(taken) + 1:02d}-{name}.png"
            page.screenshot(path=str(path))
            taken.append(path)
            print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

        with fresh_apps("story") as apps:
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

        # John's consent to Connect is remembered now, so Mockgram would not ask again: the
        # Deny and "Log in with Mockgram" pictures start from new apps, each in a new browser.
        with fresh_apps("deny-and-login") as apps:
            page.context.close()
            page = browser.new_context(viewport=chromium.VIEWPORT).new_page()
            story.deny(page, apps.awesome, apps.mockgram, shot)
            page.context.close()
            page = browser.new_context(viewport=chromium.VIEWPORT).new_page()
            story.log_in_with_mockgram_until_consent(page, apps.awesome, apps.mockgram, shot)
            story.allow_login_and_see_claims(page, apps.awesome, apps.mockgram, shot)
        browser.close()
    print(f"{len(taken)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
