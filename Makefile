# Two commands set up a fresh machine: `make run` serves the portal, `make test` runs the suite.
# Both create .venv and install the pinned requirements first (`make run` only what serving needs,
# requirements-run.txt; the test tools come with `make test`). Without DATABASE_URL an embedded
# PostgreSQL is started under .data/ (see core/embedded_db.py).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test test-failover test-deploy test-migrations install install-run bench lint screenshots clean-data

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt requirements-run.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-run.txt
	@touch $@

$(VENV)/.installed: requirements.txt requirements-run.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

install-run: $(VENV)/.installed-run
install: $(VENV)/.installed

# The web server and the job queue's worker together (emails, reminders, pool refill, periodic work);
# Ctrl-C stops both. Emails print to this terminal (console backend) unless EMAIL_BACKEND says otherwise.
run: install-run
	$(PY) manage.py bootstrap --demo
	@echo "Serving http://localhost:$(PORT)/ with a queue worker; Ctrl-C stops both."
	@$(PY) manage.py procrastinate worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# PostgreSQL and Redis stopped and restarted under load, against servers of its own (tests/failover/).
test-failover: install
	$(PY) -m pytest -m failover tests/failover $(PYTEST_ARGS)

# deploy/Caddyfile (Debian's caddy, its local CA) in front of two gunicorn instances started as the Procfile
# does, on a PostgreSQL and Redis of its own, checked over HTTPS (tests/deploy/).
test-deploy: install
	$(PY) -m pytest -m deploy tests/deploy $(PYTEST_ARGS)

# dj-stripe's upstream migrations replayed in a scratch database (about 2 minutes), then compared with
# billing/djstripe_migrations, the one migration that replaces them (tests/billing/test_djstripe_migrations.py).
test-migrations: install
	$(PY) -m pytest -m migrations tests/billing/test_djstripe_migrations.py $(PYTEST_ARGS)

# mypy's Django plugin imports the test settings: a DATABASE_URL (never connected to) keeps them from
# starting the embedded PostgreSQL.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	DATABASE_URL=postgres://localhost/unused $(PY) -m mypy

screenshots: install
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/e2e

bench: install
	$(PY) bench/signup.py
	$(PY) bench/reminders.py

clean-data:
	rm -rf .data

# Throughput and load against gunicorn (2 workers) on a loopback port, each on its own database (see the
# scripts' docstrings). bench-http needs wrk (apt-get install -y wrk); the load ones install Locust.
# Extra arguments: BENCH_ARGS="--reuse --seconds 20".
.PHONY: bench-http bench-load bench-soak

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-bench.txt
	@touch $@

bench-http: install
	$(PY) bench/http_bench.py $(BENCH_ARGS)

bench-load: $(VENV)/.bench-installed
	$(PY) bench/load.py $(BENCH_ARGS)

bench-soak: $(VENV)/.bench-installed
	$(PY) bench/load.py --soak $(BENCH_ARGS)
