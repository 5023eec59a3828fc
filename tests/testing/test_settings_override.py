"""`mockgram_settings` is the plugin's fixture to override: here, interactive sign-in again."""

from __future__ import annotations

import pytest

from mockgram.testing import FlowError


@pytest.fixture
def mockgram_settings(mockgram_settings):
    return mockgram_settings.model_copy(update={"non_interactive": False})


def test_the_overridden_settings_reach_mockgram(mockgram):
    assert mockgram.app.state.settings.non_interactive is False
    with mockgram.http() as http:
        page = http.get("/login")
    assert page.status_code == 200
    assert 'name="password"' in page.text


def test_token_for_says_why_it_cannot_sign_in_interactively(token_for):
    with pytest.raises(FlowError, match="non-interactive"):
        token_for("alice")
