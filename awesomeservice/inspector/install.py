"""Wire the flow inspector and the OAuth debugger into AwesomeService: one call from create_app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from awesomeservice.inspector.context import InspectorMiddleware

STATIC = Path(__file__).resolve().parent / "static"


def install_inspector(app: FastAPI) -> None:
    """The middleware that names this browser, the static files, and the pages."""
    from awesomeservice.pages import debugger, inspector  # the pages import the app's deps

    app.add_middleware(InspectorMiddleware, secure=app.state.settings.url.startswith("https://"))
    app.mount("/static/inspector", StaticFiles(directory=str(STATIC)), name="inspector-static")
    app.include_router(inspector.router)
    app.include_router(debugger.router)
