import httpx

from s8_analytics.app import build
from s8_analytics.settings import AnalyticsSettings


async def test_a_daily_report_of_more_than_400_days_is_refused_before_reading_anything() -> None:
    _, app = build(AnalyticsSettings(mongo_uri="mongodb://127.0.0.1:1"))  # never reached
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://analytics"
    ) as http:
        response = await http.get(
            "/v1/kpis/daily", params={"from": "0001-01-01T00:00:00", "to": "9999-12-30T00:00:00"}
        )
    assert response.status_code == 422
    assert "at most 400 days" in response.json()["detail"]
