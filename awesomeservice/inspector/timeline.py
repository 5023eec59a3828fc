"""Read a browser's FlowEvent rows back as flows: newest flow first, its events in order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
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


def events(db: Session, inspector_id: str) -> list[FlowEvent]:
    """Every event of this browser, oldest first."""
    return list(
        db.exec(
            select(FlowEvent)
            .where(FlowEvent.inspector_id == inspector_id)
            .order_by(col(FlowEvent.id))
        ).all()
    )


def entry(event: FlowEvent) -> Entry:
    try:
        details = json.loads(event.details or "{}")
    except ValueError:
        details = {}
    title = STEPS[event.step].title if event.step in STEPS else ""
    return Entry(event, details if isinstance(details, dict) else {}, title)


def flows(db: Session, inspector_id: str) -> list[Flow]:
    """The flows, newest first; flow 0 holds calls made before any flow started here."""
    grouped: dict[int, Flow] = {}
    for event in events(db, inspector_id):
        grouped.setdefault(event.flow_no, Flow(event.flow_no)).entries.append(entry(event))
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
