"""Router settings (env prefix `S8_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from s8_shared.contracts import Language
from s8_shared.settings import ServiceSettings

DEFAULT_POLICY = Path(__file__).parent / "data" / "routing_policy.yaml"


class RouterSettings(ServiceSettings):
    service_name: str = "s8-router"
    http_port: int = Field(default=8002, ge=1, le=65535)
    policy_path: Path = Field(default=DEFAULT_POLICY, description="Routing policy (YAML).")
    drain_every_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Safety net: queued tickets are also placed on every capacity change.",
    )
    reconcile_every_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often agents' load is checked against routing records and decisions "
        "a crash left unpublished or undecided are finished.",
    )
    roster_max_age_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How old the roster a replica chooses agents from may be (claims are "
        "still checked in the store; 0: read it for every decision).",
    )
    # --- Stringee's agent-list callback (api_stringee.py) --------------------------------
    stringee_url_token: SecretStr | None = Field(
        default=None,
        description="The secret put as `?token=` in the get_list_agents_url set on Stringee "
        "queues (a long random string); unset, the callback answers 401.",
    )
    stringee_answer_timeout_seconds: int = Field(
        default=15, ge=3, le=120, description="How long Stringee rings each agent."
    )
    stringee_call_language: Language = Field(
        default=Language.VI, description="The language a waiting call's agents must speak."
    )
