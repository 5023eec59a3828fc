"""Wire the flow inspector into AwesomeService: the middleware that names each browser, and
the inspector's static files. Its pages are routers like any other (awesomeservice/app.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from awesomeservice.inspector.context import InspectorMiddleware

STATIC = Path(__file__).resolve().parent / "static"


def install_inspector(app: FastAPI) -> None:
    """The middleware that names this browser, and the static files."""
    app.add_middleware(InspectorMiddleware, secure=app.state.settings.url.startswith("https://"))
    app.mount("/static/inspector", StaticFiles(directory=str(STATIC)), name="inspector-static")
