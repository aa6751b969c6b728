"""The one table from intake's domain errors to HTTP statuses, for every intake router:
the reason goes in `detail`."""

from __future__ import annotations

from fastapi import HTTPException

from s8_intake.adapters.customer_store import MergeNotFound, SuggestionClosed, SuggestionNotFound
from s8_intake.domain.compensation import ApprovalRefused
from s8_intake.domain.problems import ProblemRefused
from s8_intake.domain.status import TransitionRefused
from s8_intake.ports import TicketNotFound
from s8_intake.service.compensation import OfferNotFound
from s8_intake.service.problems import ProblemNotFound
from s8_shared.contracts import InvalidMessage

ERROR_STATUS: dict[type[Exception], int] = {
    TicketNotFound: 404,
    MergeNotFound: 404,
    SuggestionNotFound: 404,
    SuggestionClosed: 409,
    ProblemNotFound: 404,
    OfferNotFound: 404,
    TransitionRefused: 409,
    ProblemRefused: 409,
    ApprovalRefused: 409,
    InvalidMessage: 422,
}
NOT_FOUND: dict[type[Exception], str] = {
    TicketNotFound: "no ticket",
    MergeNotFound: "no merge",
    SuggestionNotFound: "no merge suggestion",
    ProblemNotFound: "no problem",
    OfferNotFound: "no compensation offer",
}


def http_error(exc: Exception) -> HTTPException:
    """The HTTP error for a domain error; anything else is re-raised (a 500, logged)."""
    if isinstance(exc, ApprovalRefused) and exc.kind == "forbidden":
        return HTTPException(status_code=403, detail=exc.reason)
    status = next((code for cls, code in ERROR_STATUS.items() if isinstance(exc, cls)), None)
    if status is None:
        raise exc
    missing = next((text for cls, text in NOT_FOUND.items() if isinstance(exc, cls)), None)
    if isinstance(exc, SuggestionClosed):
        return HTTPException(status_code=409, detail=f"suggestion {exc} is no longer open")
    detail = f"{missing} {exc}" if missing else getattr(exc, "reason", None) or str(exc)
    return HTTPException(status_code=status, detail=detail)
