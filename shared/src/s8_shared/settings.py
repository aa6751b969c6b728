"""Settings common to every service (env prefix `S8_`); each service subclasses it.

Bad configuration fails at start with a message naming the variable, not at the
first message.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "s8-dev-only-secret"
LOCAL_ISSUER = "http://127.0.0.1:18080/realms/s8"  # deploy/local/infra.sh's Keycloak


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="S8_", extra="ignore", frozen=True)

    service_name: str = "s8"
    environment: Literal["development", "test", "production"] = "development"

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated host:port list."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="CA bundle that signed the brokers' certificates (TLS); the system CAs "
        "when unset.",
    )
    topic_namespace: str = Field(
        default="",
        description="Prefix for every topic name (isolates test runs or tenants on one cluster).",
        pattern=r"^[A-Za-z0-9._-]*$",
    )
    consumer_group_prefix: str = Field(default="s8-", pattern=r"^[A-Za-z0-9._-]*$")
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=16 * 1_048_576,
        description="Largest HTTP request body any endpoint accepts (larger: 413).",
    )
    kafka_max_request_bytes: int = Field(
        default=1_048_576,
        ge=1_048_576,
        le=16 * 1_048_576,
        description="The producer's largest request (max_request_size); every event s8 makes "
        "from input its contracts accept stays below 60% of the default.",
    )
    kafka_consumers_per_topic: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Consumers of one replica per subscribed topic, each with a share of its "
        "partitions: records of different partitions are handled concurrently, those of one "
        "partition (one ticket's) in order.",
    )
    kafka_batch_max_records: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Most events of a topic handled as one batch: one idempotency check and one "
        "write of the applied event ids per batch. A crash replays the effects of at most one "
        "batch (each effect is idempotent).",
    )
    kafka_linger_ms: int = Field(
        default=250,
        ge=0,
        le=5000,
        description="How long consumers off the routing path (analytics, surveys, intake's "
        "record of ticket holders) let the broker gather events into one batch.",
    )
    kafka_commit_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        le=30,
        description="How often handled records' offsets are committed (each consumer group's "
        "commit is a write on the broker). A crash reads again at most this much, applied once.",
    )
    max_delivery_attempts: int = Field(
        default=5, ge=1, le=100, description="Transient failures retried before dead-lettering."
    )
    retry_backoff_seconds: float = Field(default=0.5, ge=0.0, le=60.0)
    outbox_sweep_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="How often events a crash or broker error left in an outbox are published.",
    )

    provision_topics: bool = Field(
        default=True, description="Create missing topics at start (off when a Job provisions them)."
    )
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)

    mongo_uri: str = "mongodb://127.0.0.1:27017"
    mongo_database: str = ""

    idempotency_retention_days: int = Field(
        default=35, ge=1, description="Processed event ids kept (longer than topic retention)."
    )

    oidc_issuer: str = Field(
        default=LOCAL_ISSUER,
        description="OpenID Connect issuer whose access tokens every API accepts, exactly as the "
        "tokens' `iss` says it; its discovery document names the signing keys (JWKS).",
    )
    oidc_audience: str = Field(default="s8", description="The `aud` every token must carry.")
    oidc_roles_claim: str = Field(
        default="realm_access.roles",
        description="Dotted path of the token claim listing the caller's roles (s8's role names).",
    )
    oidc_actor_claim: str = Field(
        default="preferred_username",
        description="Claim naming who acts: for people, their agent id.",
    )
    oidc_algorithms: list[
        Literal["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
    ] = Field(default=["RS256", "PS256", "ES256"], min_length=1)

    allow_plaintext_kafka: bool = Field(
        default=False,
        description="In production, accept PLAINTEXT Kafka (only on a network you trust).",
    )

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP endpoint; tracing exports nothing when unset."
    )

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"S8_KAFKA_BOOTSTRAP_SERVERS: {server!r} is not host:port")
        return value

    @field_validator("mongo_uri")
    @classmethod
    def _check_mongo_uri(cls, value: str) -> str:
        if urlparse(value).scheme not in {"mongodb", "mongodb+srv"}:
            raise ValueError("S8_MONGO_URI must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("kafka_ssl_cafile")
    @classmethod
    def _check_cafile(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no CA bundle at {value}")
        return value

    @model_validator(mode="after")
    def _production_guard(self) -> ServiceSettings:
        """A production service refuses to start with development defaults."""
        if self.environment != "production":
            return self
        wrong = []
        if self.oidc_issuer == LOCAL_ISSUER or not self.oidc_issuer.startswith("https://"):
            wrong.append("S8_OIDC_ISSUER must name your OpenID provider, over https")
        if self.kafka_security_protocol == "PLAINTEXT" and not self.allow_plaintext_kafka:
            wrong.append("PLAINTEXT Kafka needs S8_ALLOW_PLAINTEXT_KAFKA=true")
        password = self.kafka_sasl_password
        if password is not None and password.get_secret_value() == DEV_SECRET:
            wrong.append("S8_KAFKA_SASL_PASSWORD is the development secret")
        if wrong:
            raise ValueError("production: " + "; ".join(wrong))
        return self

    @model_validator(mode="after")
    def _check_sasl(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "SASL needs S8_KAFKA_SASL_MECHANISM, S8_KAFKA_SASL_USERNAME and S8_KAFKA_SASL_PASSWORD"
            )
        return self

    @property
    def database_name(self) -> str:
        """Each service owns its own database; services never share one."""
        return self.mongo_database or self.service_name.replace("-", "_")

    def consumer_group(self, purpose: str = "") -> str:
        return f"{self.consumer_group_prefix}{self.service_name.removeprefix('s8-')}{purpose}"

    def kafka_ssl_context(self) -> ssl.SSLContext:
        """TLS for the brokers: verified against `kafka_ssl_cafile` or the system CAs."""
        return ssl.create_default_context(
            cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None
        )


def require_real_secret(settings: ServiceSettings, name: str, value: SecretStr) -> None:
    """Refuse the development default of a secret outside development."""
    if settings.environment != "development" and value.get_secret_value() == DEV_SECRET:
        raise ValueError(f"S8_{name.upper()} must be set outside development")
