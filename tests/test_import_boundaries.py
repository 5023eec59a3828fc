"""The lines the packages may not cross, read from the source (every import, at any depth).

- Neither app imports the other: they talk only over HTTP, as real ones do.
- `shared/` imports neither app: it is what both build on.
- Protocol code (each app's `oauth/` package) imports no teaching side job — not the attack
  lab, the flow inspector or the activity log. Those listen to the events protocol code
  announces (see each app's `events.py`).

The last test proves the check can fail: it adds a forbidden import to a real module's source.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Rule:
    """Modules under `source` (a package path) may not import any name starting with these."""

    source: str
    forbidden: tuple[str, ...]
    why: str


SIDE_JOBS = ("lab", "inspector", "activity", "capture", "report_card")

RULES = (
    Rule("mockgram", ("awesomeservice",), "the apps talk only over HTTP"),
    Rule("awesomeservice", ("mockgram",), "the apps talk only over HTTP"),
    Rule("shared", ("mockgram", "awesomeservice"), "shared code imports neither app"),
    Rule(
        "mockgram/oauth",
        tuple(f"mockgram.{job}" for job in SIDE_JOBS),
        "protocol code announces events; side jobs listen",
    ),
    Rule(
        "awesomeservice/oauth",
        tuple(f"awesomeservice.{job}" for job in SIDE_JOBS),
        "protocol code announces events; side jobs listen",
    ),
)


def imported_modules(source: str, module: str) -> set[str]:
    """Every module `source` imports, relative imports resolved against `module`'s package."""
    found: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations(rule: Rule, files: dict[str, str]) -> list[str]:
    """`path: module` for each forbidden import in `files` (path → source) under the rule."""
    found = []
    for path, source in sorted(files.items()):
        module = path.removesuffix(".py").replace("/", ".")
        for name in sorted(imported_modules(source, module)):
            if any(name == f or name.startswith(f + ".") for f in rule.forbidden):
                found.append(f"{path}: {name}")
    return found


def sources_under(package: str) -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / package).rglob("*.py"))
    }


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.source)
def test_no_package_crosses_its_line(rule: Rule) -> None:
    files = sources_under(rule.source)
    if not files:
        pytest.skip(f"{rule.source}/ does not exist")
    assert violations(rule, files) == [], rule.why


@pytest.mark.parametrize(
    ("added", "rule_source"),
    [
        ("from awesomeservice.models import User", "mockgram"),
        ("import mockgram.keys", "awesomeservice"),
        ("from mockgram import lab", "mockgram/oauth"),
        ("from ..activity import record", "mockgram/oauth"),
        ("from awesomeservice.inspector import recorder", "awesomeservice/oauth"),
        ("from mockgram.models import Client", "shared"),
    ],
)
def test_the_check_catches_a_forbidden_import_added_to_a_module(
    added: str, rule_source: str
) -> None:
    rule = next(rule for rule in RULES if rule.source == rule_source)
    path, source = next(iter(sources_under(rule_source).items()))
    assert violations(rule, {path: source}) == []
    found = violations(rule, {path: source + added + "\n"})
    assert found and all(line.startswith(f"{path}: ") for line in found)
