# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export FLASK_APP := wsgi

.PHONY: run test test-fast install bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Installs, builds the SQLite database through the migrations, loads (and publishes) demo data
# when the database is empty, starts Redis and the job worker that publishes results (jobs run
# inline without Redis), then serves the app with gunicorn on $(HOST):$(PORT), as development
# (SQLite behind several workers and plain http, which production refuses).
run: install instance/dev.env
	set -a && . instance/dev.env && set +a && export SURVEY_ENV=development SESSION_COOKIE_SECURE=0 && \
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) scripts/run-dev

# Development secrets, made once per checkout and kept in the instance folder (never committed).
instance/dev.env: | $(BIN)/python
	mkdir -p instance
	$(BIN)/python -c "import secrets; print(f'SECRET_KEY={secrets.token_hex(32)}'); print(f'LINKAGE_SECRET={secrets.token_hex(32)}')" > $@

# The whole suite. With TEST_DATABASE_URL set, every database test also runs on PostgreSQL.
test: install
	@scripts/ensure-chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: SQLite only, no servers, no browser (about two minutes).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache

# Benchmarks: figures beside baselines measured in the same run.
# network.py: a dashboard beside 2,000 other agencies' published summaries, against alone.
# speed.py: the web under gunicorn (throughput beside a bare route, the 500-officer burst of
# burst.py, page times with 10x other agencies' data, page weights) on SQLite, and on PostgreSQL
# when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (that database is emptied). Installs wrk.
bench: install
	$(BIN)/python benchmarks/analysis.py
	$(BIN)/python benchmarks/matching.py
	$(BIN)/python benchmarks/published.py
	$(BIN)/python benchmarks/network.py
	$(BIN)/python benchmarks/speed.py
