from datetime import timedelta

import pytest

from s8_survey.domain.tokens import TokenRefused, sign, verify
from s8_testing.builders import T0

KEY = b"k" * 32


def test_a_signed_link_verifies_to_its_survey() -> None:
    token = sign("S-1", T0 + timedelta(days=14), KEY)
    parsed = verify(token, KEY, T0)
    assert parsed.survey_id == "S-1"
    assert parsed.expires_at == T0 + timedelta(days=14)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "forged"),
        (
            lambda t: (
                sign("S-2", T0 + timedelta(days=14), KEY).split(".")[0] + "." + t.split(".")[1]
            ),
            "forged",
        ),
        (lambda t: t.replace(".", ""), "malformed"),
        (lambda t: "%%%." + t.split(".")[1], "forged"),  # the MAC is checked before parsing
    ],
)
def test_tampered_links_are_refused(mangle: object, reason: str) -> None:
    token = sign("S-1", T0 + timedelta(days=14), KEY)
    with pytest.raises(TokenRefused) as refused:
        verify(mangle(token), KEY, T0)  # type: ignore[operator]
    assert refused.value.reason == reason


def test_a_link_signed_with_another_key_is_forged() -> None:
    with pytest.raises(TokenRefused, match="forged"):
        verify(sign("S-1", T0 + timedelta(days=1), b"other" * 8), KEY, T0)


def test_an_expired_link_is_refused() -> None:
    token = sign("S-1", T0 + timedelta(days=14), KEY)
    with pytest.raises(TokenRefused, match="expired"):
        verify(token, KEY, T0 + timedelta(days=14))
