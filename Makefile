# Solodesk — the commands the README names.
#   make run    install, migrate, load demo data, start web + worker + scheduler
#   make test   install dev dependencies and run the whole suite
#   make lint   ruff, import-linter (layers) and mypy (django-stubs)
#   make bench  every benchmark in bench/ at its default size, one after another

SHELL := /bin/bash
PYTHON ?= python3
# uv comes from PATH, or is bootstrapped into .tools/ from PyPI on first use.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
RUN := $(UV) run --no-sync

.PHONY: run install install-dev test lint format bench clean

.tools/bin/uv:
	@echo "Bootstrapping uv into .tools/ ..."
	@$(PYTHON) -m venv .tools 2>/dev/null || { echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu run: sudo apt-get install python3-venv" >&2; exit 1; }
	@.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

install: $(UV)
	@$(UV) sync --locked --inexact --quiet

install-dev: $(UV)
	@$(UV) sync --locked --all-groups --quiet

run: install
	@$(RUN) solodesk migrate
	@$(RUN) solodesk demo
	@$(RUN) solodesk run

test: install-dev
	@$(RUN) pytest $(PYTEST_ARGS)

lint: install-dev
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports
	$(RUN) mypy solodesk

format: install-dev
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

# DATABASE_URL=postgres://... runs them on PostgreSQL (each makes a throwaway database on that
# server); BENCH_REDIS_URL=redis://host:6379/12 adds queue_throughput on Redis (purges that db).
bench: install-dev
	$(RUN) python bench/export_memory.py
	$(RUN) python bench/invoice_pdf.py
	$(RUN) python bench/reminders_sweep.py
	$(RUN) python bench/recurring_sweep.py
	$(RUN) python bench/webhooks_delivery.py
	$(RUN) python bench/queue_throughput.py --broker filesystem
	$(if $(BENCH_REDIS_URL),$(RUN) python bench/queue_throughput.py --broker redis --redis-url $(BENCH_REDIS_URL))
	$(RUN) python bench/prompts_eval.py
	$(RUN) python bench/dashboard_latency.py

clean:
	rm -rf .venv .tools var/test.sqlite3* var/test-media .pytest_cache
