PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Two environments in one virtualenv, each with its stamp: `make run` installs only what
# serving needs (about 115 MB); `make test` and `make check` add the scaled-out backends and
# the test tools (torch among them, about 1.6 GB).
RUN_STAMP := $(VENV)/.installed-run
SCALE_STAMP := $(VENV)/.installed-scale
STAMP := $(VENV)/.installed

# `make run` against PostgreSQL, Celery or S3 needs the scaled-out extra as well.
SCALED_OUT := $(filter postgresql% redis% amqp% s3%,$(AIRLOCK_DATABASE_URL) $(AIRLOCK_QUEUE_URL) $(AIRLOCK_STORAGE_URL))

.PHONY: run test check fmt clean assets

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $(RUN_STAMP)

$(SCALE_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[scale]'
	touch $(SCALE_STAMP) $(RUN_STAMP)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[scale,dev]'
	touch $(STAMP) $(SCALE_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) $(if $(SCALED_OUT),$(SCALE_STAMP))
	AIRLOCK_DEV=1 $(BIN)/airlock db upgrade
	AIRLOCK_DEV=1 $(BIN)/airlock demo seed
	AIRLOCK_DEV=1 AIRLOCK_COOKIE_SECURE=false \
	AIRLOCK_AGENCY_NAME="$${AIRLOCK_AGENCY_NAME:-National AI Security Agency}" \
	$(BIN)/airlock serve --host 127.0.0.1 --port 8000

# One test process per core and one more (CI has two cores): many tests wait on a browser, a
# server or a worker they started, so a third process fills that time; work stealing evens
# out the long browser tests. `make test PYTEST_JOBS=0` runs in one process.
PYTEST_JOBS ?= $(shell $(PY) -c "import os; print(len(os.sched_getaffinity(0)) + 1)")

test: $(STAMP)
	bash scripts/ensure-chromium || true
	$(BIN)/pytest -q -n $(PYTEST_JOBS) --dist worksteal

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

# Rebuild src/airlock/web/static/vendor from assets/package-lock.json (needs node and npm).
assets:
	scripts/build-assets

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
