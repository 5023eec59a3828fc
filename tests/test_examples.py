"""The example third-party app's own test suite (examples/login_with_mockgram) passes.

Run as its own pytest session, as its authors would run it: its own pytest.ini and conftest,
Mockgram's plugin the only link to this repository.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "login_with_mockgram"
PLUGIN = "mockgram.testing.plugin"


def test_the_login_example_passes_its_own_tests():
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-c", str(EXAMPLE / "pytest.ini"), "--rootdir", str(EXAMPLE)]
    # An install made before the plugin's entry point existed needs it named.
    if not any(ep.value == PLUGIN for ep in entry_points(group="pytest11")):
        command += ["-p", PLUGIN]
    result = subprocess.run(
        [*command, str(EXAMPLE)], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
