"""`python -m mockgram [--host H] [--port P]`: serve Mockgram (default 127.0.0.1:8001)."""

from __future__ import annotations

from mockgram.settings import MockgramSettings
from shared.serve import serve


def main(argv: list[str] | None = None) -> None:
    serve(
        package="mockgram",
        description=__doc__ or "",
        default_port=8001,
        argv=argv,
        settings=MockgramSettings,
    )


if __name__ == "__main__":
    main()
