from datetime import datetime, timedelta

import pytest

from s8_survey.domain.rules import (
    AnswerRefused,
    SurveyPolicy,
    accept_answer,
    needs_followup,
    plan_csat,
    plan_nps,
    sampled,
)
from s8_testing.builders import T0, make_snapshot

POLICY = SurveyPolicy()
SOLVED = {"status": "solved", "agent_replies": 1}


@pytest.mark.parametrize(
    ("snapshot", "already", "last_sent", "send", "reason"),
    [
        (SOLVED, False, None, True, "eligible"),
        ({"status": "open"}, False, None, False, "not_solved"),
        (SOLVED, True, None, False, "already_surveyed"),
        ({**SOLVED, "merged_into": "T-2"}, False, None, False, "merged"),
        ({"status": "solved", "agent_replies": 0}, False, None, False, "no_human_answer"),
        # An incident solved by its problem's fix is asked how it went, like any ticket.
        (
            {"status": "solved", "agent_replies": 0, "problem_id": "P-1"},
            False,
            None,
            True,
            "eligible",
        ),
        (SOLVED, False, T0 - timedelta(days=6), False, "throttled"),
        (SOLVED, False, T0 - timedelta(days=8), True, "eligible"),
    ],
)
def test_csat_is_planned_once_per_solved_ticket_within_limits(
    snapshot: dict[str, object], already: bool, last_sent: object, send: bool, reason: str
) -> None:
    plan = plan_csat(
        make_snapshot(**snapshot),
        already_surveyed=already,
        last_csat_sent_at=last_sent,  # type: ignore[arg-type]
        now=T0,
        policy=POLICY,
    )
    assert (plan.send, plan.reason) == (send, reason)
    if send:
        assert plan.send_at == T0 + POLICY.csat_delay


def test_sampling_is_deterministic_and_roughly_the_rate() -> None:
    picked = [sampled(f"T-{i}", 0.3) for i in range(2000)]
    assert picked == [sampled(f"T-{i}", 0.3) for i in range(2000)]
    assert 0.25 < sum(picked) / len(picked) < 0.35
    assert all(sampled(f"T-{i}", 1.0) for i in range(10))


@pytest.mark.parametrize(
    ("solved", "last", "send"),
    [
        (0, None, False),
        (1, None, True),
        (3, T0 - timedelta(days=89), False),
        (3, T0 - timedelta(days=91), True),
    ],
)
def test_nps_follows_its_cadence_after_a_solved_ticket(
    solved: int, last: datetime | None, send: bool
) -> None:
    assert (
        plan_nps(solved_tickets=solved, last_nps_sent_at=last, now=T0, policy=POLICY).send is send
    )


def test_an_answer_can_change_within_the_grace_period_then_is_final() -> None:
    assert (
        accept_answer(
            kind="csat", score=4, first_answered_at=None, revision=0, now=T0, policy=POLICY
        )
        == 1
    )
    later = T0 + timedelta(minutes=10)
    assert (
        accept_answer(
            kind="csat", score=5, first_answered_at=T0, revision=1, now=later, policy=POLICY
        )
        == 2
    )
    with pytest.raises(AnswerRefused, match="already answered"):
        accept_answer(
            kind="csat",
            score=5,
            first_answered_at=T0,
            revision=2,
            now=T0 + timedelta(hours=1),
            policy=POLICY,
        )


@pytest.mark.parametrize(("kind", "score"), [("csat", 0), ("csat", 6), ("nps", -1), ("nps", 11)])
def test_scores_outside_the_scale_are_refused(kind: str, score: int) -> None:
    with pytest.raises(AnswerRefused, match="score must be"):
        accept_answer(
            kind=kind, score=score, first_answered_at=None, revision=0, now=T0, policy=POLICY
        )


@pytest.mark.parametrize(
    ("kind", "score", "followup"),
    [
        ("csat", 1, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 0, True),
    ],
)
def test_unhappy_answers_request_a_followup(kind: str, score: int, followup: bool) -> None:
    assert needs_followup(kind, score) is followup
