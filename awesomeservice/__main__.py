"""`python -m awesomeservice [--host H] [--port P]`: serve AwesomeService (default :8000).

`python -m awesomeservice doctor`: check Mockgram's metadata against these settings and exit
(0 when everything agrees, 1 when there is a problem); see awesomeservice/doctor.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from awesomeservice.doctor import run_cli
from awesomeservice.settings import AwesomeServiceSettings
from shared.serve import serve


def doctor(argv: list[str]) -> int:
    """Run the issuer doctor with the settings from the environment; print its findings."""
    argparse.ArgumentParser(
        prog="python -m awesomeservice doctor",
        description="Compare Mockgram's metadata (fetched over the back channel) with the "
        "AWESOMESERVICE_MOCKGRAM_URL / _INTERNAL_URL settings. Exit 0: all agree; 1: problems.",
    ).parse_args(argv)
    code, text = asyncio.run(run_cli(AwesomeServiceSettings()))
    print(text)
    return code


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["doctor"]:
        raise SystemExit(doctor(args[1:]))
    serve(
        package="awesomeservice",
        description=__doc__ or "",
        default_port=8000,
        argv=args,
        settings=AwesomeServiceSettings,
    )


if __name__ == "__main__":
    main()
