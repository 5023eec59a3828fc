"""The step banners name who acts in the article's vocabulary, with the story's names."""

from __future__ import annotations

import pytest

from shared.steps import STEPS

# Step → the roles (and their story names) its banner must name.
ROLES = {
    1: ("the client (AwesomeService", "resource owner", "the authorization server (Mockgram"),
    2: ("the resource owner (John)", "the authorization server (Mockgram)"),
    3: ("the resource owner (John)", "the authorization server (Mockgram)"),
    4: ("the authorization server (Mockgram)", "(John)", "client"),
    5: ("the client (AwesomeService", "the authorization server (Mockgram"),
    6: ("the client (AwesomeService", "the resource server (Mockgram's photos API)"),
}


@pytest.mark.parametrize("number", sorted(ROLES))
def test_each_step_names_its_roles(number: int) -> None:
    for role in ROLES[number]:
        assert role in STEPS[number].who
