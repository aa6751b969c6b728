"""HTTP server spans of every service app: requests traced (continuing a caller's
trace), probes and scrapes not."""

import httpx
from fastapi import APIRouter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from s8_shared.runtime import ServiceRuntime
from s8_shared.settings import ServiceSettings

CALLER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


async def test_requests_are_server_spans_and_probes_are_not_traced() -> None:
    # Nothing is started: no request here reaches the broker or the store.
    runtime = ServiceRuntime(ServiceSettings(service_name="s8-test"), title="t", description="d")
    exporter = InMemorySpanExporter()
    runtime.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    router = APIRouter()

    @router.post("/v1/things/{thing_id}")
    async def post_thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    app = runtime.http_app(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as http:
        for path in ("/healthz", "/metrics", "/asyncapi.json"):
            assert (await http.get(path)).status_code == 200
        assert (await http.post("/v1/things/a")).status_code == 200
        continued = await http.post(
            "/v1/things/b",
            headers={"traceparent": f"00-{CALLER_TRACE_ID}-b7ad6b7169203331-01"},
        )
        assert continued.status_code == 200
    await runtime.store.close()

    spans = exporter.get_finished_spans()
    assert [s.kind for s in spans] == [SpanKind.SERVER, SpanKind.SERVER]
    first, second = spans
    assert first.attributes is not None
    assert first.attributes["http.route"] == "/v1/things/{thing_id}"
    assert first.resource.attributes["service.name"] == "s8-test"
    assert first.parent is None
    assert second.context is not None
    assert format(second.context.trace_id, "032x") == CALLER_TRACE_ID
