from s8_analytics.domain.proactive import Incident, Notice, proactive_report


def test_proactive_contacts_rate_and_tickets_avoided() -> None:
    notices = [
        Notice("P-1", "C-1", proactive=True),
        Notice("P-1", "C-2", proactive=True),
        Notice("P-1", "C-3", proactive=True),
        Notice("P-1", "C-3", proactive=False),  # answering C-3's incident: not proactive
        Notice("P-2", "C-1", proactive=True),
    ]
    incidents = [Incident("P-1", "C-3", "T-3"), Incident("P-1", "C-9", "T-9")]
    report = proactive_report(notices, incidents, 6, {"P-1": {"title": "Outage"}})
    assert report["proactive_contacts"] == 4
    assert report["notices_sent"] == 5
    assert report["proactive_contact_rate"] == {
        "numerator": 4,
        "denominator": 10,
        "percent": 40.0,
    }
    by_problem = {p["problem_id"]: p for p in report["problems"]}
    # C-1 and C-2 were told and never wrote in; C-3 wrote in anyway; C-9 was never told.
    assert by_problem["P-1"] == {
        "problem_id": "P-1",
        "title": "Outage",
        "status": None,
        "customers_told": 3,
        "incidents": 2,
        "tickets_avoided": 2,
    }
    assert by_problem["P-2"]["tickets_avoided"] == 1
    assert report["tickets_avoided"] == 3


def test_no_contacts_and_no_tickets_has_no_rate() -> None:
    report = proactive_report([], [], 0, {})
    assert report["proactive_contact_rate"]["percent"] is None
    assert report["problems"] == []


def test_the_same_customer_told_twice_counts_two_contacts_but_one_avoided_ticket() -> None:
    notices = [Notice("P-1", "C-1", proactive=True), Notice("P-1", "C-1", proactive=True)]
    report = proactive_report(notices, [], 0, {})
    assert report["proactive_contacts"] == 2
    assert report["tickets_avoided"] == 1
