"""Benchmark Mockgram (and AwesomeService) against a bare FastAPI ceiling and node oidc-provider.

    python3 benchmarks/run.py            # the full run (about 20 minutes on 2 cores)
    python3 benchmarks/run.py --quick    # a smoke run (about 6 minutes)

Creates .venv on first use (scripts/bootstrap.py), installs node oidc-provider into
benchmarks/node/ on first use, prints one table and writes benchmarks/results/latest.json.
See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from bootstrap import ensure_venv  # noqa: E402


def parse_sections(text: str) -> frozenset[int]:
    try:
        sections = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError("sections are numbers 1-9, e.g. 2,3,5") from exc
    if not sections or not sections <= frozenset(range(1, 10)):
        raise argparse.ArgumentTypeError("sections are numbers 1-9, e.g. 2,3,5")
    return sections


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 benchmarks/run.py",
        description="Mockgram's performance harness (benchmarks/README.md).",
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run: 2 s, one round")
    parser.add_argument("--seconds", type=int, help="seconds per measurement (default 5)")
    parser.add_argument("--rounds", type=int, help="rounds per row; medians reported (default 3)")
    parser.add_argument("--warmup", type=int, help="untimed seconds before each (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="flows/token requests at once (default 16)"
    )
    parser.add_argument("--codes", type=int, help="codes redeemed per measurement (default 300)")
    parser.add_argument(
        "--sections", type=parse_sections, help="only these sections, e.g. 2,3 (default all)"
    )
    parser.add_argument(
        "--python-load", action="store_true", help="use the Python GET generator even with wrk"
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="the checkout whose mockgram/awesomeservice/shared are served (default: this one)",
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json"
    )
    return parser.parse_args(argv)


def main() -> int:
    ensure_venv()
    # Imported only now: they need the virtual environment's packages.
    from benchmarks.harness import Config, run

    args = parse_args(sys.argv[1:])
    quick = args.quick
    config = Config(
        seconds=args.seconds or (2 if quick else 5),
        rounds=args.rounds or (1 if quick else 3),
        warmup=args.warmup if args.warmup is not None else 1,
        threads=args.threads,
        connections=args.connections,
        concurrency=args.concurrency,
        token_count=args.codes or (60 if quick else 300),
        startup_rounds=1 if quick else 3,
        python_load=args.python_load,
        source=args.source.resolve(),
        output=args.output.resolve(),
        sections=args.sections or frozenset(range(1, 10)),
    )
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
