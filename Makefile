# The README's commands. Everything runs in .venv, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo serve test lint format bench install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The pages' message catalogs (web/locale/<lang>/LC_MESSAGES/messages.po), compiled to .mo by the install.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard src/courrier/web/locale/*/LC_MESSAGES/messages.po))

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

install: $(VENV)/.installed $(CATALOGS)

# axe-core for the browser tests (tests/web/browser/), pinned by package-lock.json; the tests skip without it.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: axe-core not installed, the browser tests will skip"; fi

dev: $(VENV)/.dev $(CATALOGS) node_modules/.package-lock.json

## demo: the main job end to end on the embedded defaults (SQLite in ./demo/)
demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

## serve: the web app on the demo's database and keys (run `make demo` first), on http://127.0.0.1:8000
serve: install
	COURRIER_DATABASE_URL="sqlite:///$(CURDIR)/demo/courrier.db" COURRIER_KEY_FILE="$(CURDIR)/demo/courrier.keys" \
		$(BIN)/courrier serve --port 8000 --insecure-cookies

## test: the whole suite (SQLite, and PostgreSQL when available)
test: dev
	$(BIN)/python -m pytest -n 2

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: dev
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## bench: the benchmarks, each printing ratios against a baseline measured in the same run
bench: dev
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) demo build node_modules
