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

# The npm packages pinned by package-lock.json: zxing-wasm (the reception desk's QR decoder, which the
# pages need) and axe-core (the browser tests'). Without npm the reception desk takes typed codes only.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found (install Node.js and npm, then run make again): without zxing-wasm the reception" \
		"page's camera scanning is off (typed codes still work), without axe-core the browser tests skip"; fi

# zxing-wasm's ES module and WebAssembly, served from our own /static/vendor/zxing-wasm/ (never a CDN).
ZXING := src/courrier/web/static/vendor/zxing-wasm
$(ZXING)/.copied: node_modules/.package-lock.json
	@if [ -f node_modules/zxing-wasm/dist/reader/zxing_reader.wasm ]; then \
		mkdir -p $(ZXING)/es/reader $(ZXING)/reader && \
		cp node_modules/zxing-wasm/dist/es/reader/index.js $(ZXING)/es/reader/ && \
		cp node_modules/zxing-wasm/dist/es/share.js $(ZXING)/es/ && \
		cp node_modules/zxing-wasm/dist/reader/zxing_reader.wasm $(ZXING)/reader/ && \
		cp node_modules/zxing-wasm/LICENSE node_modules/zxing-wasm/package.json $(ZXING)/ && touch $@; \
	else echo "zxing-wasm is not in node_modules: the reception page's camera scanning is off"; fi

install: $(VENV)/.installed $(CATALOGS) $(ZXING)/.copied

dev: $(VENV)/.dev $(CATALOGS) node_modules/.package-lock.json $(ZXING)/.copied

## demo: the main job end to end on the embedded defaults (SQLite in ./demo/)
demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

## serve: the web app on the demo's database and keys (run `make demo` first), on http://127.0.0.1:8000
serve: install
	COURRIER_DATABASE_URL="sqlite:///$(CURDIR)/demo/courrier.db" COURRIER_KEY_FILE="$(CURDIR)/demo/courrier.keys" \
		$(BIN)/courrier serve --port 8000 --insecure-cookies

## test: the whole suite (SQLite, and PostgreSQL when available)
# PYTHONDONTWRITEBYTECODE unset: the suite starts a hundred Python processes (CLI runs, races, the server),
# each compiling courrier's modules again without their cached bytecode (0.3 s of CPU each).
test: dev
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 2 --dist loadgroup

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
