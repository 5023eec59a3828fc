"""Run the test suite: `python3 scripts/test.py [pytest arguments]`.

Creates the virtual environment on first use, checks the code with ruff, then runs pytest
with one worker per core (pytest-xdist, whole files to a worker so a file's servers start once).
`-n 0` runs in one process, as does any run that names its own `-n`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import BIN, ROOT, ensure_venv  # noqa: E402


def main() -> int:
    ensure_venv("test")
    lint = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=ROOT)  # noqa: S603
    if lint.returncode != 0:
        print("ruff found problems (above); fix them or run `.venv/bin/ruff check --fix .`")
        return lint.returncode
    args = sys.argv[1:]
    if not any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in args):
        args = ["-n", "auto", "--dist", "loadfile", *args]
    return subprocess.run(  # noqa: S603
        [str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
