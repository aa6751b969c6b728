# s8 — the front door. `make run` starts the local stack with traffic; `make test` passes the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS      := .local/tools
UV         := $(TOOLS)/bin/uv
PY         := .venv/bin/python
INFRA      := S8_PYTHON=$(CURDIR)/$(PY) bash deploy/local/infra.sh
export UV_PROJECT_ENVIRONMENT := .venv
# Helm, built from the Go module proxy once (a few minutes); its built-in Kubernetes version is
# old, so lint and template name one.
HELM_VERSION := v3.21.4
HELM         := $(TOOLS)/bin/helm
KUBE_VERSION := 1.31.0
MANIFEST_CHECK := $(TOOLS)/bin/s8-manifest-check
IMAGE_REPO   ?= s8
IMAGE_TAG    ?= $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' deploy/k8s/s8/Chart.yaml)
IMAGE_SERVICES := intake router sla-monitor survey analytics desk channels


.PHONY: bench bench-desk bench-raw bench-store bench-cpu fuzz chaos faketime-tool help bootstrap browser infra-up infra-down infra-status infra-reset topics run lint format \
        test test-unit test-unit-shifted test-integration docs clean prometheus-tool helm chart images

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(UV):
	@echo "==> installing uv $(UV_VERSION) into $(TOOLS)"
	@python3 -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml testing/pyproject.toml $(wildcard services/*/pyproject.toml)
	@echo "==> uv sync (locked)"
	@$(UV) sync --frozen --all-packages
	@touch $@

bootstrap: .venv/.synced ## Install Python deps (uv, locked) and fetch the Kafka/Mongo jars
	@bash deploy/local/infra.sh fetch

infra-up: bootstrap ## Start Kafka (KRaft) and the MongoDB-wire store, wait until they answer, create topics
	@$(INFRA) up
	@$(PY) -m s8_shared.kafka.provision

infra-down: ## Stop the local servers
	@bash deploy/local/infra.sh down

infra-status: ## Show whether the local servers run
	@bash deploy/local/infra.sh status

infra-reset: ## Stop the servers and delete their data
	@bash deploy/local/infra.sh reset

run: bootstrap $(if $(PROMETHEUS),prometheus-tool) ## The six services, traffic and a live view; PROMETHEUS=1 adds Prometheus (Ctrl-C stops all)
	@S8_TEST_INFRA=local bash deploy/local/with-infra.sh $(PY) deploy/local/stack.py $(if $(PROMETHEUS),--prometheus) $(RUN_ARGS)

lint: .venv/.synced ## ruff (lint + format check) and mypy (strict)
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy shared/src services/*/src testing/src shared/tests $(wildcard services/*/tests/*.py) tests deploy/local

format: .venv/.synced ## Apply ruff fixes and formatting
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

test-unit: .venv/.synced helm prometheus-tool ## Unit and component tests (no servers), the Helm chart's included
	@$(PY) -m pytest -m "not integration and not e2e" -q

# The unit suite again with the clock moved 400 days on: a test bound to today's date fails here.
# Only processes that do not produce to Kafka may be shifted (the broker refuses records from
# the future), hence the unit suite only.
CLOCK_SHIFT := +400 days
test-unit-shifted: .venv/.synced helm prometheus-tool faketime-tool ## The unit suite with the clock moved (faketime '$(CLOCK_SHIFT)')
	@echo "==> unit tests with the clock moved: faketime '$(CLOCK_SHIFT)'"
	@faketime '$(CLOCK_SHIFT)' $(PY) -m pytest -m "not integration and not e2e" -q

faketime-tool: ## Debian's faketime for the shifted-clock unit run (installed once)
	@command -v faketime >/dev/null || { echo "==> installing Debian's faketime"; \
	  (apt-get install -y -q --no-install-recommends faketime >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends faketime >/dev/null)) \
	  || { echo "could not install faketime (not root?): it is needed for make test-unit-shifted"; exit 1; }; }

prometheus-tool: ## Debian's Prometheus (prometheus, promtool) for the alert and dashboard tests (installed once)
	@command -v promtool >/dev/null || { echo "==> installing Debian's prometheus"; \
	  (apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends prometheus >/dev/null)) \
	  || echo "could not install prometheus (not root?): the alert and dashboard tests will say so"; }

browser: ## Debian's Chromium for the survey page test (installed once)
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium"; \
	  (apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null)) \
	  || echo "could not install chromium (not root?): the browser test will say so"; }

test-integration: bootstrap browser prometheus-tool ## Integration and end-to-end tests on the real broker and store
	@bash deploy/local/with-infra.sh $(PY) -m pytest -m "integration or e2e" -q

test: ## Everything: install, lint, types, unit, component, integration, e2e
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint test-unit test-unit-shifted test-integration && \
	echo "==> make test passed in $$(( $$(date +%s) - start ))s"

$(HELM):
	@command -v go >/dev/null || { echo "Go >= 1.26 is needed to build helm $(HELM_VERSION)"; exit 1; }
	@echo "==> building helm $(HELM_VERSION) into $(TOOLS)/bin (go install, a few minutes, once)"
	@mkdir -p $(TOOLS)/bin
	@GOBIN=$(CURDIR)/$(TOOLS)/bin go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

helm: $(HELM) $(MANIFEST_CHECK) ## Install the pinned Helm (and the manifest checker) into .local/tools/bin (built with Go)

$(MANIFEST_CHECK): deploy/k8s/validate/main.go deploy/k8s/validate/go.mod deploy/k8s/validate/go.sum
	@command -v go >/dev/null || { echo "Go >= 1.26 is needed to build the manifest checker"; exit 1; }
	@echo "==> building the manifest checker (strict decoding into k8s.io/api types)"
	@mkdir -p $(TOOLS)/bin
	@cd deploy/k8s/validate && go build -o $(CURDIR)/$(MANIFEST_CHECK) .

chart: helm ## helm lint + helm template of deploy/k8s/s8 for the default, small and production values
	@set -e; for values in "" deploy/k8s/values/small.yaml deploy/k8s/values/production.yaml; do \
	  echo "==> chart with $${values:-default values}"; \
	  $(HELM) lint deploy/k8s/s8 --strict --kube-version $(KUBE_VERSION) $${values:+-f $$values} >/dev/null; \
	  $(HELM) template s8 deploy/k8s/s8 --kube-version $(KUBE_VERSION) $${values:+-f $$values} \
	    | $(MANIFEST_CHECK) >/dev/null; \
	done; echo "==> chart OK"

images: ## Build one image per service with docker or podman: s8-<service>:<chart appVersion>
	@engine=""; for e in docker podman; do \
	  if command -v $$e >/dev/null && $$e info >/dev/null 2>&1; then engine=$$e; break; fi; done; \
	if [ -z "$$engine" ]; then \
	  echo "make images: no container engine answers (docker or podman); nothing built" >&2; exit 1; fi; \
	for svc in $(IMAGE_SERVICES); do \
	  echo "==> $$engine build --target $$svc -t $(IMAGE_REPO)-$$svc:$(IMAGE_TAG)"; \
	  $$engine build --target $$svc -t $(IMAGE_REPO)-$$svc:$(IMAGE_TAG) . || exit 1; \
	done

fuzz: bootstrap ## Fuzzers: 10,000 hostile messages on every topic s8 reads, then schemathesis on every service's API (prints tables)
	@echo "==> $(PY) deploy/local/fuzz_topics.py $(FUZZ_ARGS) && $(PY) deploy/local/fuzz_http.py $(FUZZ_HTTP_ARGS)"
	@bash deploy/local/with-infra.sh bash -c '$(PY) deploy/local/fuzz_topics.py $(FUZZ_ARGS) && $(PY) deploy/local/fuzz_http.py $(FUZZ_HTTP_ARGS)'

chaos: bootstrap ## kill -9 of each service, the broker and the store under load (prints lost/duplicated per fault); CHAOS_ARGS="--rate 10"
	@echo "==> $(PY) deploy/local/chaos.py $(CHAOS_ARGS)"
	@$(PY) deploy/local/chaos.py $(CHAOS_ARGS)

bench: bootstrap ## s8 against raw Kafka in one run: burst, latency at offered rates, 200,000 stored tickets, cost per ticket (own stack; ~1 h here; BENCH_ARGS="--burst 1000 --stored 20000" is quicker)
	@echo "==> $(PY) deploy/local/bench.py $(BENCH_ARGS)"
	@$(PY) deploy/local/bench.py $(BENCH_ARGS)

bench-desk: bootstrap ## The desk's live stream: Kafka event -> agent's browser per notice (p50/p95/p99, goal p99 < 1 s) under make run's traffic (own stack; ~3 min); BENCH_ARGS="--rate 5 --seconds 120"
	@echo "==> $(PY) deploy/local/bench_desk.py $(BENCH_ARGS)"
	@$(PY) deploy/local/bench_desk.py $(BENCH_ARGS)

bench-cpu: bootstrap ## Intake's CPU per message for the worst inputs (corpus and a guided fuzzer), /healthz under a barrage of them
	@echo "==> $(PY) deploy/local/bench_cpu.py $(BENCH_ARGS) && $(PY) deploy/local/bench_healthz.py"
	@$(PY) deploy/local/bench_cpu.py $(BENCH_ARGS)
	@bash deploy/local/with-infra.sh $(PY) deploy/local/bench_healthz.py

bench-raw: bootstrap ## The throughput baseline: raw aiokafka produce+consume on the local broker (batched, and awaited per send)
	@echo "==> $(PY) deploy/local/bench_raw.py $(BENCH_ARGS)"
	@bash deploy/local/with-infra.sh $(PY) deploy/local/bench_raw.py $(BENCH_ARGS)

bench-store: bootstrap ## Benchmark the local store: as shipped vs s8's launcher, 1,000 vs 200,000 documents (prints a table)
	@echo "==> $(PY) deploy/local/bench_store.py $(BENCH_ARGS)"
	@$(PY) deploy/local/bench_store.py $(BENCH_ARGS)

docs: .venv/.synced ## Write the OpenAPI and AsyncAPI documents to docs/api/
	@$(PY) deploy/local/export_specs.py docs/api

clean: infra-down ## Stop servers and remove local state (jars stay cached in ~/.m2)
	rm -rf .local .venv
