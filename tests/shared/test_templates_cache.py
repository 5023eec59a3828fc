"""Compiled templates are shared by every app a process builds, and follow edits to a template."""

from __future__ import annotations

from pathlib import Path

from shared.web import CompiledTemplates, make_templates


def test_a_second_app_renders_from_the_compiled_template_and_an_edit_is_compiled_anew(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    cache = CompiledTemplates()
    monkeypatch.setattr("shared.web.COMPILED_TEMPLATES", cache)
    page = tmp_path / "page.html"
    page.write_text("Hello {{ name }}", encoding="utf-8")

    first = make_templates(tmp_path).env.get_template("page.html")
    assert first.render(name="John") == "Hello John"
    assert len(cache.compiled) == 1
    compiled = dict(cache.compiled)

    second = make_templates(tmp_path).env
    compiles: list[str] = []
    original = second.compile

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        compiles.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(second, "compile", counted)
    assert second.get_template("page.html").render(name="Jane") == "Hello Jane"
    assert compiles == []  # loaded from the shared cache, not compiled again

    page.write_text("Goodbye {{ name }}", encoding="utf-8")
    third = make_templates(tmp_path).env.get_template("page.html")
    assert third.render(name="John") == "Goodbye John"
    assert cache.compiled != compiled
