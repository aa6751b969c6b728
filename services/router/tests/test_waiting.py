from s8_router.domain.waiting import queue_depths


def test_queue_depths_list_every_priority_most_urgent_first() -> None:
    depths = queue_depths({"normal": 4, "urgent": 1})
    assert list(depths) == ["urgent", "high", "normal", "low"]
    assert depths == {"urgent": 1, "high": 0, "normal": 4, "low": 0}
