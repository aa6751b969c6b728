"""stringee webhook (to be written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/channels/stringee", tags=["stringee"])
