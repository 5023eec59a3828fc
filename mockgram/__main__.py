"""`python -m mockgram [--config FILE] [--host H] [--port P]`: serve Mockgram (default port 8001).

--config (or MOCKGRAM_CONFIG) names a TOML configuration file (mockgram/config.py). It is
checked before the server starts: a bad file ends the command with one line on stderr naming
the file, the line and the key, and exit status 2 — no traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mockgram.config import ConfigError, load_config
from mockgram.settings import MockgramSettings
from shared.serve import check_settings, make_parser, run

CONFIG_ENV = "MOCKGRAM_CONFIG"


def main(argv: list[str] | None = None) -> None:
    parser = make_parser(package="mockgram", description=__doc__ or "", default_port=8001)
    parser.add_argument(
        "--config",
        type=Path,
        help=f"a TOML configuration file (default: ${CONFIG_ENV}, else the built-in demo)",
    )
    args = parser.parse_args(argv)
    if args.config is not None:
        # The workers build their apps from the environment: they read the same file.
        os.environ[CONFIG_ENV] = str(args.config.resolve())
    check_settings("mockgram", MockgramSettings)
    check_config()
    run(package="mockgram", args=args)


def check_config() -> None:
    """Fail now, in one line, if the configuration file is unusable."""
    settings = MockgramSettings()
    if settings.config is None:
        return
    try:
        load_config(settings.config, settings)
    except ConfigError as exc:
        print(f"mockgram: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
