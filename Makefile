# s8 — the front door. `make run` starts the local stack with traffic; `make test` passes the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS      := .local/tools
UV         := $(TOOLS)/bin/uv
PY         := .venv/bin/python
INFRA      := S8_PYTHON=$(CURDIR)/$(PY) bash deploy/local/infra.sh
export UV_PROJECT_ENVIRONMENT := .venv


.PHONY: help bootstrap browser infra-up infra-down infra-status infra-reset topics run lint format \
        test test-unit test-integration docs clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(UV):
	@echo "==> installing uv $(UV_VERSION) into $(TOOLS)"
	@python3 -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml $(wildcard services/*/pyproject.toml)
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

run: bootstrap ## Run the five services with realistic traffic and a live view (Ctrl-C stops all)
	@S8_TEST_INFRA=local bash deploy/local/with-infra.sh $(PY) deploy/local/stack.py $(RUN_ARGS)

lint: .venv/.synced ## ruff (lint + format check) and mypy (strict)
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy shared/src services/*/src shared/tests $(wildcard services/*/tests/*.py) tests deploy/local

format: .venv/.synced ## Apply ruff fixes and formatting
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

test-unit: .venv/.synced ## Unit and component tests (no servers)
	@$(PY) -m pytest -m "not integration and not e2e" -q

browser: ## Debian's Chromium for the survey page test (installed once)
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium"; \
	  (apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null)) \
	  || echo "could not install chromium (not root?): the browser test will say so"; }

test-integration: bootstrap browser ## Integration and end-to-end tests on the real broker and store
	@bash deploy/local/with-infra.sh $(PY) -m pytest -m "integration or e2e" -q

test: ## Everything: install, lint, types, unit, component, integration, e2e
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint test-unit test-integration && \
	echo "==> make test passed in $$(( $$(date +%s) - start ))s"

docs: .venv/.synced ## Write the OpenAPI and AsyncAPI documents to docs/api/
	@$(PY) deploy/local/export_specs.py docs/api

clean: infra-down ## Stop servers and remove local state (jars stay cached in ~/.m2)
	rm -rf .local .venv
