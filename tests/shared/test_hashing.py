"""Password and secret hashing."""

from argon2 import PasswordHasher

from shared import hashing


def test_password_hash_verifies_and_is_argon2id() -> None:
    stored = hashing.hash_password("s3cret")
    assert stored.startswith("$argon2id$")
    assert hashing.verify_password(stored, "s3cret")
    assert not hashing.verify_password(stored, "S3cret")


def test_unknown_user_still_runs_a_full_argon2_check(monkeypatch) -> None:
    calls: list[str] = []

    class Spy(PasswordHasher):
        def verify(self, hash, password):  # type: ignore[no-untyped-def]
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(hashing, "hasher", Spy(time_cost=1, memory_cost=1024, parallelism=1))
    assert hashing.verify_password(None, "anything") is False
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_garbage_hash_is_a_failed_check_not_an_error() -> None:
    assert hashing.verify_password("not-a-hash", "x") is False


def test_secret_matches_in_constant_time_helper() -> None:
    stored = hashing.hash_secret("client-secret")
    assert "client-secret" not in stored
    assert hashing.secret_matches(stored, "client-secret")
    assert not hashing.secret_matches(stored, "client-secreT")
    assert not hashing.secret_matches(None, "client-secret")


def test_new_tokens_have_at_least_128_bits() -> None:
    token = hashing.new_token()
    assert len(token) >= 43 and token != hashing.new_token()


def test_constant_equals_treats_any_text_as_a_plain_mismatch() -> None:
    assert hashing.constant_equals("abc", "abc")
    assert not hashing.constant_equals("abc", "abd")
    # secrets.compare_digest alone raises TypeError on non-ASCII str.
    assert not hashing.constant_equals("abc", "😀")
    assert hashing.constant_equals("é", "é")
