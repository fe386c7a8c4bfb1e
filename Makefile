# Solodesk — the commands the README names.
#   make run    install, migrate, load demo data, start web + worker + scheduler
#   make test   install dev dependencies and run the whole suite
#   make lint   ruff, import-linter (layers) and mypy (django-stubs)
#   make bench  every benchmark in bench/ (issue 6's at large scale), then the table

SHELL := /bin/bash
PYTHON ?= python3
# uv comes from PATH, or is bootstrapped into .tools/ from PyPI on first use.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
RUN := $(UV) run --no-sync

.PHONY: run install install-dev test lint format bench bench-quick clean

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

# make bench: issue 6's benchmarks at BENCH_SCALE (default large) on PostgreSQL + Redis, then
# the older scripts (on PostgreSQL too), then bench/report.py (the table, into
# docs/performance.md). Starts PostgreSQL/Redis when they do not answer (.ci/services) and
# stops what it started; each script drops its throwaway databases and stops its processes.
# A failing script does not stop the others; make bench then fails at the end.
# make bench-quick: the issue 6 scripts at small, results under /tmp (committed figures
# untouched), the table printed only.
BENCH_SCALE ?= large
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/5
BENCH_CACHE_URL ?= redis://127.0.0.1:6379/6
# queue_throughput on Redis purges this database
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/12
BENCH_QUICK_RESULTS ?= /tmp/solodesk-bench-quick

# Shell prelude of the bench recipes: services up (stopped again on exit), PostgreSQL by
# default, `step` runs one script and remembers a failure, `optional` skips a missing one.
define BENCH_PRELUDE
set -u; status=0; state=$$(mktemp); \
SERVICES_STATE=$$state .ci/services start || exit 1; \
trap 'SERVICES_STATE='"$$state"' .ci/services stop; rm -f '"$$state" EXIT; \
export DATABASE_URL="$${DATABASE_URL:-$(BENCH_DATABASE_URL)}"; \
step() { echo "bench: === $$* ==="; "$$@" || { echo "bench: FAILED: $$*" >&2; status=1; }; }; \
optional() { if [ -f "bench/$$1.py" ]; then step $(RUN) python "bench/$$1.py" "$${@:2}"; \
  else echo "bench: bench/$$1.py not there, skipped"; fi; }; \
http_load() { step env CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(BENCH_BROKER_URL)}" \
  CACHE_URL="$${CACHE_URL:-$(BENCH_CACHE_URL)}" $(RUN) python bench/http_load.py "$$@"; }
endef

bench: install-dev
	@$(BENCH_PRELUDE); \
	http_load --scale $(BENCH_SCALE); \
	optional orm_discipline --scale $(BENCH_SCALE); \
	optional raw_floor --scale $(BENCH_SCALE); \
	optional peer_timetagger; \
	step $(RUN) python bench/export_memory.py; \
	step $(RUN) python bench/invoice_pdf.py; \
	step $(RUN) python bench/reminders_sweep.py; \
	step $(RUN) python bench/recurring_sweep.py; \
	step $(RUN) python bench/webhooks_delivery.py; \
	step $(RUN) python bench/queue_throughput.py --broker filesystem; \
	step $(RUN) python bench/queue_throughput.py --broker redis --redis-url $(BENCH_REDIS_URL); \
	step $(RUN) python bench/sqlite_writers.py; \
	step $(RUN) python bench/prompts_eval.py; \
	step $(RUN) python bench/dashboard_latency.py; \
	step $(RUN) python bench/report.py; \
	exit $$status

bench-quick: install-dev
	@$(BENCH_PRELUDE); \
	export BENCH_RESULTS_DIR=$(BENCH_QUICK_RESULTS); \
	http_load --scale small --requests 50 --warmup 5 --pdfs 20; \
	optional orm_discipline --scale small --runs 5; \
	optional raw_floor --scale small --requests 100 --warmup 10 --cpu-requests 50; \
	step $(RUN) python bench/report.py --results $(BENCH_QUICK_RESULTS) --print-only; \
	exit $$status

clean:
	rm -rf .venv .tools var/test.sqlite3* var/test-media .pytest_cache
