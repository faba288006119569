PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check fmt clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[scale,dev]'
	touch $(STAMP)

run: $(STAMP)
	AIRLOCK_DEV=1 $(BIN)/airlock db upgrade
	AIRLOCK_DEV=1 $(BIN)/airlock demo seed
	AIRLOCK_DEV=1 AIRLOCK_COOKIE_SECURE=false $(BIN)/airlock serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	bash scripts/ensure-chromium || true
	$(BIN)/pytest -q

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
