"""The recording as a HAR 1.2 file (http://www.softwareishard.com/blog/har-12-spec/), redacted.

Browser-side events (steps 1 and 4) are entries whose response AwesomeService did not see:
status 0, as browsers write for a request whose answer is unknown.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from awesomeservice.inspector.timeline import entry
from awesomeservice.models import FlowEvent
from shared.clock import as_utc


def _pairs(items: list[Any]) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in items]


def har(events: list[FlowEvent], *, creator_version: str = "1") -> dict[str, Any]:
    """A HAR log of the events; every value already redacted when it was recorded."""
    entries = []
    for event in events:
        details = entry(event).details
        request = details.get("request") or {}
        response = details.get("response") or {}
        form = request.get("form") or []
        post_data = None
        if form:
            post_data = {
                "mimeType": "application/x-www-form-urlencoded",
                "params": _pairs(form),
                "text": "&".join(f"{n}={v}" for n, v in form),
            }
        elif request.get("json") is not None:
            post_data = {"mimeType": "application/json", "text": json.dumps(request["json"])}
        content_text = (
            json.dumps(response["json"])
            if response.get("json") is not None
            else response.get("text")
        )
        har_request: dict[str, Any] = {
            "method": event.method or "GET",
            "url": event.url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(request.get("headers") or []),
            "queryString": _pairs(parse_qsl(urlsplit(event.url).query, keep_blank_values=True)),
            "headersSize": -1,
            "bodySize": -1,
        }
        if post_data:
            har_request["postData"] = post_data
        entries.append(
            {
                "startedDateTime": as_utc(event.created_at).isoformat(),
                "time": round(event.duration_ms or 0, 3),
                "request": har_request,
                "response": {
                    "status": event.status or 0,
                    "statusText": "" if event.status else "(answered in the browser)",
                    "httpVersion": "HTTP/1.1",
                    "cookies": [],
                    "headers": _pairs(response.get("headers") or []),
                    "content": {
                        "size": len(content_text or ""),
                        "mimeType": "application/json" if response.get("json") is not None else "",
                        **({"text": content_text} if content_text else {}),
                    },
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": -1,
                },
                "cache": {},
                "timings": {"send": 0, "wait": round(event.duration_ms or 0, 3), "receive": 0},
                "comment": (f"Step {event.step}: " if event.step is not None else "")
                + f"{event.title} ({event.rfc_label})",
            }
        )
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "AwesomeService flow inspector", "version": creator_version},
            "pages": [],
            "entries": entries,
            "comment": "Secrets redacted: client secrets hidden, codes and refresh tokens cut to "
            "four characters, JWTs to a short prefix.",
        }
    }
