"""Analytics' HTTP API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from s8_analytics.domain.volume import volume_by_channel
from s8_shared.projections import TicketProjection

router = APIRouter(prefix="/v1", tags=["kpis"])


class VolumeView(BaseModel):
    total: int = Field(description="Tickets seen, all time.")
    by_channel: dict[str, int]
    by_status: dict[str, int]


@router.get("/kpis/volume", response_model=VolumeView, summary="Tickets by channel and status")
async def get_volume(request: Request) -> VolumeView:
    projection: TicketProjection = request.app.state.projection
    by_channel = await projection.count_by("channel")
    return VolumeView(
        total=sum(by_channel.values()),
        by_channel=volume_by_channel(by_channel),
        by_status=await projection.count_by("status"),
    )
