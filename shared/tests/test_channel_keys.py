"""Channel keys: hashed, scoped to a channel, two per channel for rotation."""

import pytest

from s8_shared.identity.channel_keys import ChannelKey, channel_principal, check_rotation, hash_key

PBX = ChannelKey(id="pbx-1", channel="phone", sha256=hash_key("k" * 40))
PBX_NEW = ChannelKey(id="pbx-2", channel="phone", sha256=hash_key("n" * 40))
RELAY = ChannelKey(id="relay", channel="*", sha256=hash_key("r" * 40))


def test_a_key_names_its_system_for_its_channel_only() -> None:
    principal = channel_principal([PBX, RELAY], "phone", b"k" * 40)
    assert principal is not None
    assert (principal.actor_id, principal.roles, principal.channels) == ("pbx-1", frozenset({"channel"}), frozenset({"phone"}))  # fmt: skip
    assert channel_principal([PBX, RELAY], "email", b"k" * 40) is None


def test_a_key_for_every_channel_is_still_limited_to_the_url_s_channel() -> None:
    principal = channel_principal([RELAY], "sms", b"r" * 40)
    assert principal is not None
    assert principal.channels == {"sms"}


def test_wrong_empty_huge_and_non_ascii_keys_name_nobody() -> None:
    for given in (b"x" * 40, b"", b"k" * 10_000, "khóa".encode()):
        assert channel_principal([PBX, RELAY], "phone", given) is None


def test_two_keys_per_channel_rotate_and_a_third_is_refused() -> None:
    check_rotation([PBX, PBX_NEW, RELAY])
    assert channel_principal([PBX, PBX_NEW], "phone", b"n" * 40) is not None
    with pytest.raises(ValueError, match="more than 2 channel keys for phone"):
        check_rotation([PBX, PBX_NEW, PBX.model_copy(update={"id": "pbx-3"})])


def test_only_the_hash_is_configured() -> None:
    with pytest.raises(ValueError, match="pattern"):
        ChannelKey(id="plain", channel="phone", sha256="my-secret-key")
