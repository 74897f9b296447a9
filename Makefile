# Valar: the two commands (`make run`, `make test`) and their helpers.
# Everything installs from pyproject.toml + uv.lock into .venv; nothing is needed but Python 3.11.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= true
# `make run` is the product: DEBUG off (no debug pages), plain HTTP for this machine only
# (LOCAL_HTTP: cookies without Secure, no HTTPS redirect, the secret key kept in var/).
RUN_ENV := DEBUG=false LOCAL_HTTP=true
# The server's Prometheus files (multiprocess mode, only when PROMETHEUS_MULTIPROC_DIR is set):
# emptied before it starts, or a previous run's counters would be added to this one's.
CLEAN_METRICS := @if [ -n "$$PROMETHEUS_MULTIPROC_DIR" ]; then mkdir -p "$$PROMETHEUS_MULTIPROC_DIR" \
	&& find "$$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete; fi
# `make dev` is the developer's variant: DEBUG on, reloading on code changes.
DEV_ENV := DEBUG=true
# deploy/start.sh starts every process of a deployment (the Dockerfile and compose.yaml use it
# too), with this checkout's .venv first on PATH.
START := HOST=$(HOST) PORT=$(PORT) PATH="$(CURDIR)/.venv/bin:$$PATH" deploy/start.sh

.PHONY: install run dev serve worker test lint check e2e console console-check fuzz bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: .venv/.installed ## Create .venv and install the locked dependencies.

run: install ## Migrate, create demo data once, and serve the API (DEBUG off) on HOST:PORT.
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(CLEAN_METRICS)
	$(RUN_ENV) $(START) asgi

dev: install ## Like run, with DEBUG on and reloading when the code changes.
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo
	$(CLEAN_METRICS)
	$(DEV_ENV) $(START) asgi --reload

worker: install ## A Celery worker with embedded beat, for development (needs REDIS_URL).
	@[ -n "$$REDIS_URL$$CELERY_BROKER_URL" ] || (echo "REDIS_URL is not set: without a broker jobs run eagerly in the web process and no worker is needed" && exit 1)
	$(DEV_ENV) $(START) worker -B

serve: install ## HTTP as deployed (gunicorn, sync workers; DEBUG off): deploy/start.sh web.
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(START) web

lint: install ## ruff lint and format check.
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

check: install ## Django system checks and the missing-migrations check.
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

test: lint check ## Lint, checks, then the whole suite.
	.venv/bin/pytest -q

# The console's build (frontend/ -> valar/console/page/ and static/console/) is committed: make run needs
# no Node. `npm install` rather than `npm ci`: npm 11 on Linux leaves vite's Windows-only optional
# dependency out of the lock file and `npm ci` then refuses it; with the lock file present,
# `npm install` installs the locked versions (and the build is byte-for-byte reproducible).
console: ## Rebuild the console from frontend/ (needs Node.js >= 20.19 and npm).
	cd frontend && npm install --no-audit --no-fund --loglevel=error && npm run build

console-check: console ## Fail when the committed console build differs from what frontend/ builds.
	@git diff --exit-code --stat -- valar/console/static/console valar/console/page \
		&& test -z "$$(git status --porcelain -- valar/console/static/console valar/console/page)" \
		|| (echo "the committed console build is not what frontend/ builds: run make console and commit" && exit 1)

e2e: install ## The console in headless Chromium (Debian's chromium) against make run; screenshots in var/screenshots/.
	.venv/bin/pytest -q -p no:cacheprovider e2e/

fuzz: install ## schemathesis with every check over the whole schema: in process, then against make run.
	THROTTLE_ANON=100000/min THROTTLE_USER=100000/min THROTTLE_LOGIN=100000/min \
		THROTTLE_ACCOUNT_ADMIN=100000/min THROTTLE_OPERATOR=100000/min \
		THROTTLE_CHAT_MESSAGE=100000/min THROTTLE_CHAT_OPEN=100000/min \
		.venv/bin/pytest -q fuzz/test_schema_fuzz.py fuzz/test_live_fuzz.py

BENCH_ARGS ?=
bench: install ## Benchmarks against the raw SQL floor (on DATABASE_URL; PostgreSQL for real figures).
	@command -v wrk >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		(apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null))) || \
		echo "wrk is not installed: the load rows will say so"
	@[ -n "$$DATABASE_URL" ] || echo "DATABASE_URL is not set: measuring on SQLite; set it to a PostgreSQL database for the real figures"
	$(PY) manage.py migrate --noinput -v0
	THROTTLE_USER=1000000000/min THROTTLE_ANON=1000000000/min THROTTLE_CHAT_MESSAGE=1000000000/min THROTTLE_CHAT_OPEN=1000000000/min \
		$(PY) manage.py bench $(BENCH_ARGS)

clean: ## Remove the virtualenvs and local data.
	rm -rf .venv .tools var
