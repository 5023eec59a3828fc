"""Read a browser's FlowEvent rows back as flows: newest flow first, its events in order."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from awesomeservice.inspector.jwts import expiry_in_words
from awesomeservice.models import FlowEvent, InspectorPrefs
from shared.steps import STEPS


@dataclass
class Entry:
    """One event ready for a template: the row, its details, and its step's name."""

    event: FlowEvent
    details: dict[str, Any]
    step_title: str
    # Image fetches folded into this entry (the photo grid asks for each image in turn): the
    # entry stands for `count` calls, the first of which it shows.
    count: int = 1

    @property
    def jwts(self) -> list[dict[str, Any]]:
        tokens = self.details.get("jwts") or []
        for token in tokens:
            token["expiry"] = expiry_in_words(token.get("claims", {}).get("exp"))
        return tokens


@dataclass
class Flow:
    number: int
    entries: list[Entry] = field(default_factory=list)


# How many flows the inspector shows in full at once; older ones are listed, one link each, so
# the page stays quick (and readable) after a hundred flows.
SHOWN_FLOWS = 10


@dataclass(frozen=True)
class FlowSummary:
    """One line of the list of flows: its number, how many events, when it started."""

    number: int
    events: int
    started: datetime


def events(db: Session, inspector_id: str, *, flow: int | None = None) -> list[FlowEvent]:
    """Every event of this browser (or of one of its flows), oldest first."""
    query = select(FlowEvent).where(FlowEvent.inspector_id == inspector_id)
    if flow is not None:
        query = query.where(FlowEvent.flow_no == flow)
    return list(db.exec(query.order_by(col(FlowEvent.id))).all())


def summaries(db: Session, inspector_id: str) -> list[FlowSummary]:
    """Every flow of this browser, newest first, counted in one query (no event is loaded)."""
    rows = db.exec(
        select(FlowEvent.flow_no, func.count(col(FlowEvent.id)), func.min(FlowEvent.created_at))
        .where(FlowEvent.inspector_id == inspector_id)
        .group_by(col(FlowEvent.flow_no))
        .order_by(col(FlowEvent.flow_no).desc())
    ).all()
    return [FlowSummary(number, count, started) for number, count, started in rows]


def entry(event: FlowEvent) -> Entry:
    try:
        details = json.loads(event.details or "{}")
    except ValueError:
        details = {}
    title = STEPS[event.step].title if event.step in STEPS else ""
    return Entry(event, details if isinstance(details, dict) else {}, title)


_IMAGE_FETCH = re.compile(r"/api/photos/\d+/image$")


def _is_image_fetch(event: FlowEvent) -> bool:
    path = event.url.split("?", 1)[0]
    return event.kind == "api_call" and bool(_IMAGE_FETCH.search(path))


def _fold_images(entries: list[Entry]) -> list[Entry]:
    """One entry for a flow's image fetches, counted, where the grid made one call per photo."""
    out: list[Entry] = []
    images: Entry | None = None
    for item in entries:
        if _is_image_fetch(item.event):
            if images is None:
                images = item
                out.append(item)
            else:
                images.count += 1
            continue
        out.append(item)
    return out


def flows(
    db: Session,
    inspector_id: str,
    numbers: list[int],
    *,
    step: int | None = None,
) -> list[Flow]:
    """These flows in full, newest first, image fetches folded; only `step`'s events if given.

    Flow 0 holds calls made before any flow started here."""
    if not numbers:
        return []
    query = select(FlowEvent).where(
        FlowEvent.inspector_id == inspector_id, col(FlowEvent.flow_no).in_(numbers)
    )
    if step is not None:
        query = query.where(FlowEvent.step == step)
    grouped: dict[int, Flow] = {}
    for event in db.exec(query.order_by(col(FlowEvent.id))).all():
        grouped.setdefault(event.flow_no, Flow(event.flow_no)).entries.append(entry(event))
    for flow in grouped.values():
        flow.entries = _fold_images(flow.entries)
    return [grouped[number] for number in sorted(grouped, reverse=True)]


def clear(db: Session, inspector_id: str) -> None:
    """Forget every recorded event of this browser."""
    db.exec(delete(FlowEvent).where(col(FlowEvent.inspector_id) == inspector_id))
    db.commit()


def stepping(db: Session, inspector_id: str) -> bool:
    """Whether step-through mode is on for this browser."""
    prefs = db.get(InspectorPrefs, inspector_id)
    return bool(prefs and prefs.stepping)


def set_stepping(db: Session, inspector_id: str, on: bool) -> None:
    prefs = db.get(InspectorPrefs, inspector_id) or InspectorPrefs(inspector_id=inspector_id)
    prefs.stepping = on
    db.add(prefs)
    db.commit()
