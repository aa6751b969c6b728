# syntax=docker/dockerfile:1
# One image per service, all from this file:  docker build --target intake -t s8-intake .
# Targets: intake, router, sla-monitor, survey, analytics, desk, channels (`make images` builds
# all seven).
# Each image also carries s8_shared, so any of them can run the topic-provisioning Job:
#   python -m s8_shared.kafka.provision

# Pinned by tag; pin the digest too (python:3.11.14-slim-trixie@sha256:...) for byte-for-byte rebuilds.
ARG PYTHON_IMAGE=python:3.11.14-slim-trixie

FROM ${PYTHON_IMAGE} AS python-base
# No .pyc written at run time (the root filesystem is read-only); logs unbuffered to stdout.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# ---------------------------------------------------------------------------------------
# Build: the same uv as the Makefile, dependencies exactly as locked in uv.lock.
FROM python-base AS builder
ARG UV_VERSION=0.13.8
RUN pip install "uv==${UV_VERSION}"
# Bytecode is compiled here, once, because the running container cannot write it.
# The venv path is the same in the runtime image (its scripts hold absolute paths).
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The workspace needs every member's pyproject.toml to resolve one package from the lock.
# testing/ (s8-testing, test support in the root's dev group) is not in the context: with
# --frozen and --no-dev uv installs a service from uv.lock without it, and never installs it.
COPY pyproject.toml uv.lock ./
COPY shared/ shared/
COPY services/ services/

FROM builder AS build-intake
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package s8-intake

FROM builder AS build-router
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package s8-router

FROM builder AS build-sla-monitor
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package s8-sla-monitor

FROM builder AS build-survey
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package s8-survey

FROM builder AS build-analytics
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package s8-analytics

FROM builder AS build-desk
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package s8-desk

FROM builder AS build-channels
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package s8-channels

# ---------------------------------------------------------------------------------------
# Runtime: the slim base plus one virtualenv (no uv, no sources, no build tools).
FROM python-base AS runtime
# HOME and TMPDIR point at /tmp, the only writable path (an emptyDir in the Helm chart).
# Containers listen on every interface, on one port, whatever the service.
ENV PATH=/app/.venv/bin:$PATH \
    HOME=/tmp \
    TMPDIR=/tmp \
    S8_HTTP_HOST=0.0.0.0 \
    S8_HTTP_PORT=8080
WORKDIR /app
EXPOSE 8080
# Numeric so Kubernetes can check runAsNonRoot without an /etc/passwd entry.
USER 10001:10001

FROM runtime AS intake
LABEL org.opencontainers.image.title="s8-intake"
# Copied as root-owned: the service user can read its code but not change it.
COPY --from=build-intake /app/.venv /app/.venv
CMD ["python", "-m", "s8_intake"]

FROM runtime AS router
LABEL org.opencontainers.image.title="s8-router"
COPY --from=build-router /app/.venv /app/.venv
CMD ["python", "-m", "s8_router"]

FROM runtime AS sla-monitor
LABEL org.opencontainers.image.title="s8-sla-monitor"
COPY --from=build-sla-monitor /app/.venv /app/.venv
CMD ["python", "-m", "s8_sla_monitor"]

FROM runtime AS survey
LABEL org.opencontainers.image.title="s8-survey"
COPY --from=build-survey /app/.venv /app/.venv
CMD ["python", "-m", "s8_survey"]

FROM runtime AS analytics
LABEL org.opencontainers.image.title="s8-analytics"
COPY --from=build-analytics /app/.venv /app/.venv
CMD ["python", "-m", "s8_analytics"]

FROM runtime AS desk
LABEL org.opencontainers.image.title="s8-desk"
COPY --from=build-desk /app/.venv /app/.venv
CMD ["python", "-m", "s8_desk"]

FROM runtime AS channels
LABEL org.opencontainers.image.title="s8-channels"
COPY --from=build-channels /app/.venv /app/.venv
# Also listens for SMTP on S8_SMTP_RECEIVER_PORT (the chart's Service names that port).
CMD ["python", "-m", "s8_channels"]
