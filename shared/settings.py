"""Settings helpers both apps use: where the demo keeps its files, and the SQLite default."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """The local folder for the demo's SQLite files (created on first use)."""
    return PROJECT_ROOT / "data"


def default_sqlite_url(name: str) -> str:
    """A SQLite URL for `name` in the local data folder."""
    return f"sqlite:///{default_data_dir() / name}"
