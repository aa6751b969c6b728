from s8_shared.observability.log_budget import LogBudget


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_over_the_budget_of_a_second_are_skipped_and_counted_in_the_next() -> None:
    clock = Clock()
    budget = LogBudget(per_second=3, clock=clock)
    assert [budget.take() for _ in range(5)] == [0, 0, 0, None, None]
    clock.now = 101.2
    assert budget.take() == 2
    assert budget.take() == 0


def test_a_quiet_second_resets_the_budget() -> None:
    clock = Clock()
    budget = LogBudget(per_second=1, clock=clock)
    assert budget.take() == 0
    assert budget.take() is None
    clock.now = 105.0
    assert budget.take() == 1
