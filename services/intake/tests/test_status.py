import itertools

import pytest

from s8_intake.domain.status import ALLOWED, TransitionRefused, check_transition
from s8_shared.contracts import TicketStatus as S

EVERY_PAIR = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("current", "target"), [(a, b) for a, b in EVERY_PAIR if b in ALLOWED[a]])
def test_allowed_transitions_pass(current: S, target: S) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"), [(a, b) for a, b in EVERY_PAIR if b not in ALLOWED[a]]
)
def test_every_other_transition_is_refused_with_a_reason(current: S, target: S) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check_transition(current, target)
    assert refused.value.reason
    if current == target:
        assert "already" in refused.value.reason
    elif current == S.CLOSED:
        assert "closed" in refused.value.reason
    else:
        assert f"cannot go from {current.value} to {target.value}" in refused.value.reason


def test_the_lifecycle_new_open_pending_solved_closed_is_allowed() -> None:
    path = [S.NEW, S.OPEN, S.PENDING, S.OPEN, S.ON_HOLD, S.SOLVED, S.OPEN, S.SOLVED, S.CLOSED]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)
