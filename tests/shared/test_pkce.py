"""PKCE helpers against RFC 7636 Appendix B and the shape rules of §4.1."""

from shared import pkce

RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert pkce.s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE
    assert pkce.verify_s256(RFC_VERIFIER, RFC_CHALLENGE)


def test_wrong_verifier_does_not_verify() -> None:
    assert not pkce.verify_s256(RFC_VERIFIER[:-1] + "Y", RFC_CHALLENGE)


def test_fresh_verifiers_are_well_formed_and_differ() -> None:
    first, second = pkce.make_verifier(), pkce.make_verifier()
    assert first != second
    assert pkce.is_well_formed(first) and len(first) >= 43


def test_shape_rules_43_to_128_unreserved_characters() -> None:
    assert not pkce.is_well_formed("a" * 42)
    assert pkce.is_well_formed("a" * 43)
    assert pkce.is_well_formed("a" * 128)
    assert not pkce.is_well_formed("a" * 129)
    assert not pkce.is_well_formed("a" * 42 + "+")
    assert not pkce.verify_s256("short", RFC_CHALLENGE)
