"""`make run`'s screen: redrawn in place on a terminal, a log elsewhere; the run's summary."""

import io

from run_screen import HOME_AND_CLEAR, Screen, summary


def test_on_a_terminal_the_view_is_redrawn_with_the_latest_announcements_under_it() -> None:
    out = io.StringIO()
    screen = Screen(out, in_place=True)
    screen.announce("lead ha declared problem P-1")
    screen.show("── s8 live 3s")
    screen.show("── s8 live 6s")
    frames = out.getvalue().split(HOME_AND_CLEAR)
    assert frames == ["", "── s8 live 3s\n\nlead ha declared problem P-1\n", "── s8 live 6s\n\nlead ha declared problem P-1\n"]  # fmt: skip


def test_into_a_file_every_view_and_announcement_is_logged_in_order() -> None:
    out = io.StringIO()
    screen = Screen(out, in_place=False)
    screen.show("view 1")
    screen.announce("declared")
    screen.show("view 2")
    assert out.getvalue() == "view 1\ndeclared\nview 2\n"


def test_the_summary_reads_the_kpis_of_the_run() -> None:
    kpis = {
        "handoff_rate": {"percent": 25.0},
        "groups": {
            "all": {
                "tickets_created": 40,
                "tickets_solved": 31,
                "first_response_seconds": {"median": 12.4},
                "sla_compliance": {
                    "first_response": {"percent": 90.0},
                    "resolution": {"percent": None},
                },
                "csat": {"percent": 80.0, "responses": 10},
                "nps": {"score": 20.0, "responses": 5},
                "faq_deflection_rate": {"percent": 7.5},
            }
        },
    }
    assert summary(kpis).splitlines()[1:] == [
        "    tickets created 40, solved 31",
        "    first response median 12 s",
        "    SLA compliance first_response 90.0%, resolution —",
        "    CSAT 80.0% of 10 answers   NPS 20 of 5",
        "    bot handoff rate 25.0%   FAQ deflection 7.5%",
    ]
    assert "tickets created 0, solved 0" in summary({})
