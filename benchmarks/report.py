"""Rows of results, their ratios, the printed table and the JSON file."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
THROUGHPUT_UNITS = ("req/s", "flows/s", "pages/s")


@dataclass
class Row:
    """One line of the table: a measurement of one target (median over the rounds)."""

    section: int
    label: str
    target: str  # ceiling, mockgram, node, awesomeservice, argon2 …
    generator: str  # wrk, python (fallback GET generator), driver (the flow driver), -
    concurrency: int | None
    unit: str  # req/s, flows/s, pages/s (throughput), ms, MiB
    value: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests_per_op: float = 1.0  # HTTP requests in one flow or page load
    cpu_ms_per_op: float | None = None  # CPU the server process(es) spent per operation
    vs_ceiling: float | None = None
    vs_node: float | None = None
    note: str = ""
    status: str = OK
    rounds: list[dict[str, Any]] = field(default_factory=list)
    # Rows with the same key and concurrency are the same measurement on different targets.
    key: str = ""

    @property
    def throughput(self) -> bool:
        return self.unit in THROUGHPUT_UNITS and self.value is not None and self.status == OK


def median_or_none(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def add_ratios(rows: list[Row]) -> None:
    """×ceiling: HTTP requests per second of a row ÷ the ceiling's, measured by the same
    generator at the same concurrency. ×node: Mockgram's rate ÷ node oidc-provider's."""
    ceilings = {
        (row.generator, row.concurrency): row
        for row in rows
        if row.key == "ceiling" and row.throughput
    }
    for row in rows:
        if not row.throughput or row.value is None:
            continue
        ceiling = ceilings.get((row.generator, row.concurrency))
        if ceiling is not None and ceiling.value:
            row.vs_ceiling = row.value * row.requests_per_op / ceiling.value
        if row.target == "mockgram":
            node = next(
                (
                    other
                    for other in rows
                    if other.target == "node"
                    and other.key == row.key
                    and other.concurrency == row.concurrency
                    and other.throughput
                ),
                None,
            )
            if node is not None and node.value:
                row.vs_node = row.value / node.value


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits + 1}f}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


COLUMNS = (
    ("#", 2, "<"),
    ("what", 44, "<"),
    ("target", 14, "<"),
    ("gen", 6, "<"),
    ("conc", 4, ">"),
    ("value", 9, ">"),
    ("unit", 7, "<"),
    ("p50 ms", 8, ">"),
    ("p99 ms", 8, ">"),
    ("cpu ms", 7, ">"),
    ("×ceil", 6, ">"),
    ("×node", 6, ">"),
    ("note", 0, "<"),
)


def _line(cells: list[str]) -> str:
    parts = []
    for (_, width, align), cell in zip(COLUMNS, cells, strict=True):
        parts.append(f"{cell:{align}{width}}" if width else cell)
    return "  ".join(parts).rstrip()


def table(rows: list[Row]) -> str:
    """The results as plain text, one line per row, in section order."""
    lines = [_line([name for name, _, _ in COLUMNS])]
    lines.append("-" * len(lines[0]))
    section = None
    for row in rows:
        if section is not None and row.section != section:
            lines.append("")
        section = row.section
        if row.status == OK:
            value = _number(row.value)
            note = row.note
        else:
            value = row.status.upper()
            note = "; ".join(filter(None, [row.note, "see JSON" if row.rounds else ""]))
        lines.append(
            _line(
                [
                    str(row.section),
                    row.label[:44],
                    row.target,
                    row.generator,
                    "" if row.concurrency is None else str(row.concurrency),
                    value,
                    row.unit,
                    _number(row.p50_ms),
                    _number(row.p99_ms),
                    _number(row.cpu_ms_per_op),
                    _ratio(row.vs_ceiling),
                    _ratio(row.vs_node),
                    note,
                ]
            )
        )
    return "\n".join(lines)


LEGEND = """\
value: median over the rounds of completed operations per second (req/s, flows/s, pages/s),
  or a time (ms) or a size (MiB). p50/p99: latency of one operation (one request, one whole
  flow, one page with its images), medians over the rounds.
cpu ms: CPU time (user + system) the server process spent per operation during the timed part
  (AwesomeService and Mockgram together for the photo grid); steadier than the rates when
  other work shares the cores (contention inflates it less).
×ceil: this row's HTTP requests per second ÷ the bare FastAPI hello's, with the same generator
  at the same concurrency (1.00 = as fast as FastAPI can answer at all; 0.10 = ten times slower).
×node: Mockgram's rate ÷ node oidc-provider's in the same row (1.00 = as fast; 0.50 = half)."""


def write_json(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**meta, "rows": [asdict(row) for row in rows]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
