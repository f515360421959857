# Safe Access. The two commands: 'make run' and 'make test'. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python

.PHONY: help run test faults bench bench-small services stop bootstrap lint migrate seed otp shell clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## Install everything, start services, serve the app with demo data on :8000 (PORT= overrides)
	@scripts/run.sh

test: ## Install everything, start services, run every check (ruff, migrations, deploy check, compose, pytest)
	@scripts/test.sh $(PYTEST_ARGS)

faults: ## The fault suite at a larger size (FAULT_CASES=1500) on its own services; rewrites docs/reliability.md
	@scripts/bootstrap.sh && rm -f .local/faults.jsonl && \
	  FAULT_CASES=$${FAULT_CASES:-1500} FAULT_CHUNK=$${FAULT_CHUNK:-50} FAULT_RESULTS=$(CURDIR)/.local/faults.jsonl \
	  scripts/faults.sh && \
	  $(PY) scripts/reliability_report.py .local/faults.jsonl --cases $${FAULT_CASES:-1500} --chunk $${FAULT_CHUNK:-50}

bench: services ## Benchmarks on 1,000,000 cases (database built once, then reused); writes docs/performance.md
	@. .local/env && $(PY) benchmarks/run.py --out docs/performance.md $(BENCH_ARGS)

bench-small: services ## A quick pass of the benchmarks on 5,000 cases; writes .local/bench/small.md
	@. .local/env && $(PY) benchmarks/run.py --cases 5000 --database safe_access_bench_small \
	  --gate-notices 5000 --dispatch 200 --searches 20 --out .local/bench/small.md $(BENCH_ARGS)

bootstrap: ## Install system packages, .venv, Python deps, USWDS assets (idempotent)
	@scripts/bootstrap.sh

services: ## Start the private PostgreSQL and Redis under .local/ and write .local/env
	@scripts/services.sh start

stop: ## Stop the PostgreSQL and Redis started by 'make services'
	@scripts/services.sh stop

lint: ## ruff only
	@.venv/bin/ruff check .

migrate: services ## Apply migrations to the local database
	@. .local/env && DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py migrate

otp: ## Print the current TOTP code of a demo account: make otp ACCOUNT=caseworker
	@test -n "$(ACCOUNT)" || { echo "Say which demo account: make otp ACCOUNT=caseworker" >&2; exit 2; }
	@. .local/env && DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py demo_otp_code "$(ACCOUNT)"

shell: services ## Django shell on the local database
	@. .local/env && DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py shell

clean: stop ## Stop services and remove .local/ (database, keys, logs) and .venv/
	rm -rf .local .venv node_modules staticfiles
