"""Router's HTTP API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from s8_router.domain.waiting import WAITING_STATUSES, queue_depths
from s8_shared.projections import TicketProjection

router = APIRouter(prefix="/v1", tags=["queues"])


class QueueView(BaseModel):
    waiting_by_priority: dict[str, int] = Field(
        description="Tickets waiting for an agent (status new or open), per priority."
    )


@router.get("/queues", response_model=QueueView, summary="Tickets waiting for an agent")
async def get_queues(request: Request) -> QueueView:
    projection: TicketProjection = request.app.state.projection
    counts = await projection.count_by(
        "priority", {"status": {"$in": [s.value for s in WAITING_STATUSES]}}
    )
    return QueueView(waiting_by_priority=queue_depths(counts))
