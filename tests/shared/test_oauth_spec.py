"""The specification helpers both apps share."""

from __future__ import annotations

import pytest

from shared.oauth_spec import canonical_response_type, left_half_hash, new_state


def test_left_half_hash_matches_the_openid_connect_example() -> None:
    # OIDC Core Appendix A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" has
    # at_hash "77QmUPtjPfzWtF2AnpK9RQ" (RS256, so SHA-256).
    token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
    assert left_half_hash(token, "RS256") == "77QmUPtjPfzWtF2AnpK9RQ"
    assert left_half_hash(token, "ES256") == "77QmUPtjPfzWtF2AnpK9RQ"


def test_left_half_hash_follows_the_algorithm_and_refuses_none() -> None:
    assert len(left_half_hash("x", "RS512") or "") > len(left_half_hash("x", "RS256") or "")
    assert left_half_hash("x", "none") is None
    assert left_half_hash("x", "XX999") is None


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("id_token code", "code id_token"),
        ("token id_token code", "code id_token token"),
        ("code", "code"),
        ("code code_x", ""),
        ("", ""),
    ],
)
def test_canonical_response_type(given: str, canonical: str) -> None:
    assert canonical_response_type(given) == canonical
    assert canonical_response_type(frozenset(given.split())) == canonical


def test_new_state_is_long_and_fresh() -> None:
    first, second = new_state(), new_state()
    assert first != second and len(first) >= 43
