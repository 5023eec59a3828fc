"""Make (once) and use the project's virtual environment: the only thing needed is Python 3.11+.

`scripts/demo.py` and `scripts/test.py` call `ensure_venv()` first. It creates `.venv`, installs
the project with pip and the extras the caller names (the demo: none, so only what the apps need
to run; the tests: `test`), and re-runs the calling script with the environment's interpreter.
A stamp in the environment records which extras are installed for this pyproject.toml, so pip
runs again only when pyproject.toml changed or an extra is missing: the tests after the demo
install their extras; the demo after the tests installs nothing. Nothing is installed globally.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("PROJECT_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _pyproject_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]


def installed_extras(pyproject_hash: str) -> frozenset[str] | None:
    """The extras installed for this pyproject.toml, or None if the project is not installed."""
    try:
        recorded, _, extras = STAMP.read_text().partition("\n")
    except FileNotFoundError:
        return None
    if recorded != pyproject_hash:
        return None
    return frozenset(extra for extra in extras.split(",") if extra)


def ensure_venv(*extras: str) -> None:
    """Create .venv if needed, install the project with these extras if missing, then continue
    inside it (re-exec)."""
    if sys.version_info < (3, 11):  # noqa: UP036 (the message is the point)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"» creating a virtual environment in {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pyproject_hash = _pyproject_hash()
    installed = installed_extras(pyproject_hash)
    if installed is None or not installed.issuperset(extras):
        # Keep what is there: the tests' extras stay installed when the demo is brought up to date.
        wanted = sorted((installed or frozenset()).union(extras))
        with_extras = f" with the extras {', '.join(wanted)}" if wanted else ""
        print(f"» installing the project{with_extras} (first run only) …", flush=True)
        target = f"{ROOT}[{','.join(wanted)}]" if wanted else str(ROOT)
        subprocess.run(  # noqa: S603
            [
                str(PYTHON),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                target,
            ],
            check=True,
        )
        for old in VENV.glob(".installed-*"):  # the stamps of an earlier layout
            old.unlink()
        STAMP.write_text(f"{pyproject_hash}\n{','.join(wanted)}")
    if not _in_venv():
        os.execv(str(PYTHON), [str(PYTHON), *sys.argv])  # noqa: S606
