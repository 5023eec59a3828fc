"""The sequence diagram of recorded events: one list of messages, drawn as SVG or Mermaid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from awesomeservice.inspector.labels import AUTH_SERVER, BROWSER, CLIENT, LANES, ROLES
from awesomeservice.models import FlowEvent

ORDER = list(LANES)
MERMAID_IDS = {BROWSER: "B", CLIENT: "C", AUTH_SERVER: "AS", "api": "API"}


@dataclass(frozen=True)
class Message:
    source: str
    target: str
    text: str
    reply: bool = False


def _path(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0].split("#", 1)[0]


def messages(events: list[FlowEvent]) -> list[Message]:
    """Each event as the arrows it stands for; steps 2–3 as one note-like exchange."""
    out: list[Message] = []
    for event in events:
        step = f"{event.step}. " if event.step is not None else ""
        if event.kind.startswith("authorization_request"):
            out.append(Message(CLIENT, BROWSER, f"{step}redirect to the authorization endpoint"))
            out.append(Message(BROWSER, AUTH_SERVER, f"GET /{_path(event.url)}"))
            out.append(Message(AUTH_SERVER, BROWSER, "2–3. sign-in and consent pages"))
        elif event.kind == "callback":
            out.append(Message(AUTH_SERVER, BROWSER, f"{step}redirect to the callback"))
            method = event.method or "GET"  # POST for a form_post answer
            out.append(
                Message(BROWSER, CLIENT, f"{method} /{_path(event.url)} ({event.summary[:60]})")
            )
        else:
            out.append(
                Message(
                    event.actor_from, event.actor_to, f"{step}{event.method} /{_path(event.url)}"
                )
            )
            out.append(Message(event.actor_to, event.actor_from, f"{event.status}", reply=True))
    return out


# Mermaid reads one statement a line and treats ; # < > as syntax: a recorded value (a callback's
# error, say, which anyone can put in a link) must never start a line or a statement of its own.
_MERMAID_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029;#<>]")


def _mermaid_text(text: str) -> str:
    return _MERMAID_UNSAFE.sub(" ", text)


def mermaid(events: list[FlowEvent]) -> str:
    """A Mermaid sequenceDiagram of the events."""
    lines = ["sequenceDiagram"]
    for lane in ORDER:
        lines.append(f"    participant {MERMAID_IDS[lane]} as {ROLES[lane]} ({LANES[lane]})")
    for message in messages(events):
        arrow = "-->>" if message.reply else "->>"
        text = _mermaid_text(message.text)
        lines.append(
            f"    {MERMAID_IDS[message.source]}{arrow}{MERMAID_IDS[message.target]}: {text}"
        )
    return "\n".join(lines) + "\n"


_LANE_GAP = 240
_LEFT = 120
_TOP = 60
_ROW = 40


def svg(events: list[FlowEvent]) -> str:
    """A self-contained SVG sequence diagram (presentation attributes only: no style)."""
    rows = messages(events)
    width = _LEFT * 2 + _LANE_GAP * (len(ORDER) - 1)
    height = _TOP + _ROW * (len(rows) + 1)
    x = {lane: _LEFT + i * _LANE_GAP for i, lane in enumerate(ORDER)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Sequence diagram of the flow">',
        '<defs><marker id="arrowhead" markerWidth="10" markerHeight="8" refX="9" refY="4" '
        'orient="auto"><polygon points="0 0, 10 4, 0 8" fill="#333"/></marker></defs>',
    ]
    for lane in ORDER:
        parts.append(
            f'<text x="{x[lane]}" y="16" text-anchor="middle" font-size="11" '
            f'fill="#444">{escape(ROLES[lane])}</text>'
        )
        parts.append(
            f'<text x="{x[lane]}" y="32" text-anchor="middle" font-size="13" '
            f'font-weight="bold" fill="#222">{escape(LANES[lane])}</text>'
        )
        parts.append(
            f'<line x1="{x[lane]}" y1="40" x2="{x[lane]}" y2="{height - 10}" '
            'stroke="#bbb" stroke-dasharray="4 4"/>'
        )
    for i, message in enumerate(rows):
        y = _TOP + _ROW * (i + 1)
        x1, x2 = x[message.source], x[message.target]
        dash = ' stroke-dasharray="6 4"' if message.reply else ""
        parts.append(
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#333" stroke-width="1.5"'
            f'{dash} marker-end="url(#arrowhead)"/>'
        )
        parts.append(
            f'<text x="{(x1 + x2) / 2}" y="{y - 6}" text-anchor="middle" font-size="11" '
            f'fill="#222">{escape(message.text[:70])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
