from s8_analytics.domain.volume import volume_by_channel


def test_every_channel_is_reported_even_when_silent() -> None:
    volume = volume_by_channel({"email": 3, "live_chat": 2})
    assert len(volume) == 8
    assert volume["email"] == 3
    assert volume["on_site"] == 0
