"""`python -m awesomeservice [--host H] [--port P]`: serve AwesomeService (default :8000)."""

from __future__ import annotations

from shared.serve import serve


def main(argv: list[str] | None = None) -> None:
    serve(package="awesomeservice", description=__doc__ or "", default_port=8000, argv=argv)


if __name__ == "__main__":
    main()
