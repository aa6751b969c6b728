import httpx
from fastapi import FastAPI, HTTPException
from prometheus_client import CollectorRegistry

from s8_shared.observability.http_metrics import HttpMetrics, HttpMetricsMiddleware


def app_with_metrics() -> tuple[FastAPI, CollectorRegistry]:
    registry = CollectorRegistry()
    app = FastAPI()

    @app.get("/v1/tickets/{ticket_id}")
    async def ticket(ticket_id: str) -> dict[str, str]:
        if ticket_id == "missing":
            raise HTTPException(status_code=404, detail="no ticket")
        return {"ticket_id": ticket_id}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics("s8-test", registry))
    return app, registry


def count(registry: CollectorRegistry, **labels: str) -> float:
    value = registry.get_sample_value("s8_http_requests_total", {"service": "s8-test", **labels})
    return value or 0.0


async def test_requests_are_counted_by_route_template_and_status_but_probes_are_not() -> None:
    app, registry = app_with_metrics()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        for ticket_id in ("T-1", "T-2", "missing"):
            await http.get(f"/v1/tickets/{ticket_id}")
        await http.get("/healthz")
        await http.get("/nowhere")
    route = "/v1/tickets/{ticket_id}"
    assert count(registry, method="GET", route=route, status="200") == 2
    assert count(registry, method="GET", route=route, status="404") == 1
    assert count(registry, method="GET", route="unmatched", status="404") == 1
    assert count(registry, method="GET", route="/healthz", status="200") == 0
    observed = registry.get_sample_value(
        "s8_http_request_duration_seconds_count",
        {"service": "s8-test", "method": "GET", "route": route},
    )
    assert observed == 3


async def test_a_made_up_method_is_counted_as_other_so_labels_stay_bounded() -> None:
    app, registry = app_with_metrics()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        for n in range(3):
            await http.request(f"BREW{n}", "/v1/tickets/T-1")
    assert count(registry, method="OTHER", route="/v1/tickets/{ticket_id}", status="405") == 3
