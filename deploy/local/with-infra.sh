#!/usr/bin/env bash
# Runs a command with the local servers up; stops them afterwards only if this script
# started them (a developer's running stack is left alone).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
mode="${S8_TEST_INFRA:-auto}"
if [[ "$mode" == "external" || "$mode" == "testcontainers" ]]; then exec "$@"; fi
if [[ "$mode" == "auto" ]] && { [[ -n "${DOCKER_HOST:-}" ]] || [[ -S /var/run/docker.sock ]]; }; then exec "$@"; fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=0
keycloak_up() { [[ "${S8_KEYCLOAK:-1}" == 0 ]] || port_open "${S8_KEYCLOAK_PORT:-18080}"; }
if port_open "${S8_KAFKA_PORT:-9092}" && port_open "${S8_MONGO_PORT:-27017}" && keycloak_up; then
  echo "with-infra: using the Kafka, Mongo and Keycloak servers already listening"
elif ! bash "$HERE/infra.sh" status >/dev/null 2>&1; then
  S8_PYTHON="${S8_PYTHON:-$REPO_ROOT/.venv/bin/python}" bash "$HERE/infra.sh" up
  started=1
fi
cleanup() { if [[ $started == 1 ]]; then echo "==> stopping the local Kafka and Mongo servers"; bash "$HERE/infra.sh" down >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT
"$@"
