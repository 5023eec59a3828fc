"""The README's first example, as written there (kept in step with it)."""

import pytest


def test_a_real_token_works_at_userinfo(mockgram, token_for):
    tokens = token_for("alice", "openid profile photos.read")
    with mockgram.http() as http:
        me = http.get("/oauth/userinfo", headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert me.json()["preferred_username"] == "alice"


def test_the_next_token_request_fails(token_for, mockgram_faults):
    mockgram_faults.token_error("invalid_grant")
    with pytest.raises(AssertionError, match="invalid_grant"):  # token_for's FlowError
        token_for("alice")
