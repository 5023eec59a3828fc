"""axe-core (npm), the accessibility engine, injected into a page by Playwright.

`npm install` runs once per checkout, into tests/browser/axe/node_modules, under a file lock so
parallel workers wait for one install (as tests/interop/openid_client.py does for node clients).
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path
from typing import Any

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# What the test refuses; "moderate" and "minor" findings are reported by axe but allowed.
REFUSED_IMPACTS = ("serious", "critical")

# Runs in the page: axe over the whole document, the refused violations, a few nodes each.
_AUDIT = """async (impacts) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " — " + n.failureSummary),
    }));
}"""


def missing() -> str | None:
    """Why axe-core cannot be installed here, or None once it is (installing it if need be)."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is needed to install axe-core (Debian: apt-get install -y nodejs npm)"
    with (AXE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if AXE_JS.exists():
            return None
        done = subprocess.run(  # noqa: S603
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AXE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    if done.returncode != 0 or not AXE_JS.exists():
        return f"npm install axe-core failed: {(done.stderr or done.stdout)[-500:]}"
    return None


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return list(page.evaluate(_AUDIT, list(REFUSED_IMPACTS)))
