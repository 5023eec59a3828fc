"""The flow inspector stays readable after many flows: image fetches folded into one row with a
count, newest flow first, only the newest flows in full (the rest listed), a filter by flow and
by step, exports per flow, and a page whose database work does not grow with the recording."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from awesomeservice.inspector import labels, timeline
from awesomeservice.inspector.context import COOKIE
from awesomeservice.models import FlowEvent

IMAGES = 12


def _event(inspector_id: str, flow_no: int, label: labels.Label, url: str) -> FlowEvent:
    return FlowEvent(
        inspector_id=inspector_id,
        flow_no=flow_no,
        step=label.step,
        kind=label.kind,
        title=label.title,
        rfc_label=label.rfc_label,
        rfc_url=label.rfc_url,
        actor_from=label.actor_from,
        actor_to=label.actor_to,
        method="GET",
        url=url,
        status=200,
    )


def _record(db: Session, inspector_id: str, flows: int) -> None:
    """`flows` recorded stories: request, callback, token, the photo list and twelve images."""
    api = labels.for_back_channel("GET", "/api/photos", {})
    token = labels.for_back_channel("POST", "/oauth/token", {"grant_type": "authorization_code"})
    for number in range(1, flows + 1):
        rows = [
            _event(inspector_id, number, labels.AUTHORIZATION_REQUEST, "http://m.test/authorize"),
            _event(inspector_id, number, labels.CALLBACK, f"http://a.test/cb?flow={number}"),
            _event(inspector_id, number, token, "http://m.test/oauth/token"),
            _event(inspector_id, number, api, "http://m.test/api/photos"),
        ]
        rows += [
            _event(inspector_id, number, api, f"http://m.test/api/photos/{n}/image")
            for n in range(1, IMAGES + 1)
        ]
        db.add_all(rows)
    db.commit()


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on this engine inside the block."""
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _inspector_id(client: TestClient) -> str:
    client.get("/inspector")
    return str(client.cookies.get(COOKIE))


def _flow_headings(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<section class="card flow" id="flow-(\d+)"', html)]


def test_a_hundred_flows_stay_readable_and_the_work_stays_bounded(
    client: TestClient, db: Session
) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    inspector_id = _inspector_id(client)
    _record(db, inspector_id, 2)
    with counted(engine) as few:
        small = client.get("/inspector")
    _record(db, inspector_id, 100)  # flows 1–100 again: 102 flows' worth of rows
    with counted(engine) as many:
        page = client.get("/inspector")
    assert small.status_code == page.status_code == 200
    # The same queries whatever the size of the recording: no query per flow or per event.
    assert len(many) == len(few)

    # Newest first, only the newest in full; the others are one link each.
    shown = _flow_headings(page.text)
    assert shown == list(range(100, 100 - timeline.SHOWN_FLOWS, -1))
    assert 'href="/inspector?flow=1"' in page.text
    assert 'href="/inspector?flow=90"' in page.text
    assert 'href="/inspector?flow=91"' not in page.text  # shown in full above, not listed

    # Twelve image fetches are one row with a count, in each flow.
    flow_100 = page.text.split('id="flow-100"')[1].split('id="flow-99"')[0]
    assert flow_100.count("/image</code>") == 1
    assert f"× {IMAGES} image fetches" in flow_100
    assert "5 entries" in flow_100  # request, callback, token, photo list, the images
    assert flow_100.count('class="timeline-entry') == 5


def test_filter_by_flow_and_by_step_and_export_one_flow(client: TestClient, db: Session) -> None:
    inspector_id = _inspector_id(client)
    _record(db, inspector_id, 3)

    one = client.get("/inspector", params={"flow": "2"})
    assert _flow_headings(one.text) == [2]
    assert 'value="2" selected' in one.text

    tokens = client.get("/inspector", params={"step": "5"})
    assert _flow_headings(tokens.text) == [3, 2, 1]
    assert tokens.text.count('class="timeline-entry') == 3
    assert 'data-step="5"' in tokens.text and 'data-step="1"' not in tokens.text

    nothing = client.get("/inspector", params={"flow": "42"})
    assert nothing.status_code == 200 and "Nothing matches" in nothing.text
    ignored = client.get("/inspector", params={"flow": "two", "step": "99"})
    assert _flow_headings(ignored.text) == [3, 2, 1]  # a filter it cannot read is no filter

    assert 'href="/inspector/export.har?flow=2"' in client.get("/inspector").text
    har = client.get("/inspector/export.har", params={"flow": "2"})
    assert 'filename="flow-2.har"' in har.headers["content-disposition"]
    urls = [e["request"]["url"] for e in har.json()["log"]["entries"]]
    assert "http://a.test/cb?flow=2" in urls
    assert not any("flow=1" in url or "flow=3" in url for url in urls)
    mermaid = client.get("/inspector/export.mmd", params={"flow": "3"}).text
    assert mermaid.count("redirect to the callback") == 1
    diagram = client.get("/inspector/diagram", params={"flow": "1"})
    assert diagram.text.count("<svg") == 1
