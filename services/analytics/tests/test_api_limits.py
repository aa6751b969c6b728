from s8_analytics.app import build
from s8_analytics.settings import AnalyticsSettings
from s8_testing.tokens import LocalIssuer


async def test_a_daily_report_of_more_than_400_days_is_refused_before_reading_anything() -> None:
    _, app = build(AnalyticsSettings(mongo_uri="mongodb://127.0.0.1:1"))  # never reached
    async with LocalIssuer().client(app, "thao", "analyst") as http:
        response = await http.get(
            "/v1/kpis/daily", params={"from": "0001-01-01T00:00:00", "to": "9999-12-30T00:00:00"}
        )
    assert response.status_code == 422
    assert "at most 400 days" in response.json()["detail"]


async def test_every_kpi_report_refuses_a_period_above_400_days_or_out_of_range() -> None:
    _, app = build(AnalyticsSettings(mongo_uri="mongodb://127.0.0.1:1"))  # never reached
    async with LocalIssuer().client(app, "thao", "analyst") as http:
        for path in ("/v1/kpis", "/v1/kpis/proactive", "/v1/kpis/daily"):
            long = await http.get(path, params={"from": "2025-01-01T00:00:00", "to": "2026-02-06T00:00:00"})  # fmt: skip
            assert (long.status_code, long.json()["detail"]) == (422, "a report covers at most 400 days"), path  # fmt: skip
            early = await http.get(path, params={"to": "0001-01-02T00:00:00"})  # a week before it
            assert (early.status_code, early.json()["detail"]) == (422, "the period is out of range"), path  # fmt: skip
