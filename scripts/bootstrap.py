"""Make (once) and use the project's virtual environment: the only thing needed is Python 3.11+.

`scripts/demo.py` and `scripts/test.py` call `ensure_venv()` first. It creates `.venv`, installs
the project with pip (again only when pyproject.toml changed), and re-runs the calling script
with the environment's interpreter. Nothing is installed globally.
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


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv(extras: str = "test") -> None:
    """Create and fill .venv if needed, then continue inside it (re-exec)."""
    if sys.version_info < (3, 11):  # noqa: UP036 (the message is the point)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"» creating a virtual environment in {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()[
        :16
    ]
    stamp = VENV / f".installed-{wanted}"
    if not stamp.exists():
        print("» installing the project and its dependencies (first run only) …", flush=True)
        subprocess.run(  # noqa: S603
            [
                str(PYTHON),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                f"{ROOT}[{extras}]",
            ],
            check=True,
        )
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()
    if not _in_venv():
        os.execv(str(PYTHON), [str(PYTHON), *sys.argv])  # noqa: S606
