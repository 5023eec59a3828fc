"""Every reason AwesomeService can put on a refusal page has an explanation (issue 4, item b).

The list is read from the code, not copied: every `CallbackRefused(…)`, `IdTokenRejected(…)`,
`UnknownKey(…)`, `LoginRefused(…)`, `TokenError(…)` and every `error_code=…` in the package,
plus the provider codes the client knows by name. A new reason without an entry in
awesomeservice/explanations.py fails here, and each page must answer 200 with its RFC section.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import awesomeservice
from awesomeservice.errors import UNAVAILABLE_REASONS
from awesomeservice.explanations import GENERIC, REASONS
from awesomeservice.oauth import id_token
from awesomeservice.pages.wording import AUTHORIZATION_ERRORS, TOKEN_ERRORS

PACKAGE = Path(awesomeservice.__file__).parent
REFUSAL_CLASSES = frozenset(
    {"CallbackRefused", "IdTokenRejected", "UnknownKey", "LoginRefused", "TokenError"}
)


def _strings(node: ast.AST) -> tuple[set[str], list[str]]:
    """String literals a reason expression can take, and f-string templates (as regexes)."""
    literals: set[str] = set()
    templates: list[str] = []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        literals.add(node.value)
    elif isinstance(node, ast.JoinedStr):
        templates.append(
            "".join(
                re.escape(part.value)
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
                else "[a-z_]+"
                for part in node.values
            )
        )
    elif isinstance(node, ast.IfExp):
        for branch in (node.body, node.orelse):
            found, patterns = _strings(branch)
            literals |= found
            templates += patterns
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            found, patterns = _strings(value)
            literals |= found
            templates += patterns
    return literals, templates


def emitted_reasons(source: str) -> tuple[set[str], list[str]]:
    """Reasons one module's source can emit: refusal constructors' first argument, error_code=."""
    literals: set[str] = set()
    templates: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        reasons = []
        if name in REFUSAL_CLASSES and node.args:
            reasons.append(node.args[0])
        reasons += [kw.value for kw in node.keywords if kw.arg in ("error_code", "reason")]
        for reason in reasons:
            found, patterns = _strings(reason)
            literals |= found
            templates += patterns
    return literals, templates


def _scan() -> tuple[set[str], dict[str, list[str]]]:
    literals: set[str] = set()
    templates: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found, patterns = emitted_reasons(path.read_text(encoding="utf-8"))
        literals |= found
        if patterns:
            templates[path.name] = patterns
    return literals, templates


SCANNED, TEMPLATES = _scan()
# Codes the provider sends that the client names; any other code gets the generic page.
PROVIDER_CODES = {*AUTHORIZATION_ERRORS, *TOKEN_ERRORS, "access_denied"}
EMITTED = sorted(SCANNED | PROVIDER_CODES | set(UNAVAILABLE_REASONS.values()) | id_token.REASONS)


def test_the_scanner_sees_a_reason_in_code() -> None:
    source = (
        "raise LoginRefused('brand_new', 'Title', 'Message')\n"
        "render(request, error_code='also_new' if x else 'third')\n"
        "raise IdTokenRejected(f'{name}_gone', 'm')\n"
    )
    assert emitted_reasons(source) == ({"brand_new", "also_new", "third"}, ["[a-z_]+_gone"])


def test_the_scan_finds_the_reasons_we_know_of() -> None:
    assert {"state_missing", "iss_mismatch", "code_missing", "expired", "kid_unknown"} <= SCANNED
    assert {"userinfo_sub_mismatch", "identity_linked_elsewhere", "server_error"} <= SCANNED


def test_every_emitted_reason_has_an_explanation() -> None:
    missing = [reason for reason in EMITTED if reason not in REASONS]
    assert not missing, f"reasons emitted without an entry in explanations.py: {missing}"


def test_id_token_reasons_are_all_declared() -> None:
    """id_token.REASONS covers its literals and its f-string reasons (the hash checks)."""
    literals, patterns = emitted_reasons(
        (PACKAGE / "oauth" / "id_token.py").read_text(encoding="utf-8")
    )
    assert literals <= id_token.REASONS
    assert set(TEMPLATES) <= {"id_token.py"}, "only id_token.py builds reasons from f-strings"
    for pattern in patterns:
        assert any(re.fullmatch(pattern, reason) for reason in id_token.REASONS), pattern
    # The hash checks, run: each reason they build is declared.
    for claim in ("at_hash", "c_hash"):
        for claims, value, required in (({}, None, True), ({claim: "x"}, "value", False)):
            with pytest.raises(id_token.IdTokenRejected) as caught:
                id_token._check_hash(claims, claim, value, "RS256", required=required)
            assert caught.value.reason in id_token.REASONS


@pytest.mark.parametrize("reason", EMITTED)
def test_each_emitted_reason_page_answers_with_its_rfc(
    page_reader: TestClient, reason: str
) -> None:
    page = page_reader.get(f"/errors/{reason}")
    assert page.status_code == 200
    text = page.text.replace("&#39;", "'")
    assert REASONS[reason].title in text
    assert REASONS[reason].rfc.split(";")[0] in text
    assert GENERIC.title not in text
