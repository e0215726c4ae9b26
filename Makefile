# Two commands for a newcomer: `make workbench` and `make test`. See README.md.

PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
# A pip constraints file (CI passes one of ../shared/openedx-constraints/).
CONSTRAINTS ?=
PIP_FLAGS := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)
BIN := $(VENV)/bin
DJANGO := DJANGO_SETTINGS_MODULE=ai_tutor.workbench.settings $(BIN)/python -m django

.PHONY: install workbench test test-tutor-plugin lint format bench translations clean

$(BIN)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PIP_FLAGS) -e '.[dev,all]'
	touch $@

install: $(BIN)/.installed

var/.migrated: $(BIN)/.installed
	mkdir -p var
	$(DJANGO) migrate --run-syncdb --verbosity 0
	touch $@

workbench: var/.migrated ## Serve the tutor in the xblock-sdk workbench on 127.0.0.1:$(PORT)
	PORT=$(PORT) $(DJANGO) runserver 127.0.0.1:$(PORT)

# Node packages of the tests: the real OpenID provider and axe-core for the browser checks.
NODE_DIRS := $(patsubst %/package-lock.json,%,$(wildcard tests/*/package-lock.json))

%/node_modules/.installed: %/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix $*
	touch $@

test: $(BIN)/.installed var/.migrated $(addsuffix /node_modules/.installed,$(NODE_DIRS)) ## Run the whole suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(if $(SKIP_TUTOR_PLUGIN),,$(MAKE) test-tutor-plugin)

TUTOR_VENV ?= .venv-tutor
test-tutor-plugin: ## The Tutor plugin's tests (real `tutor` CLI, no Docker), in a venv of its own
	[ -x $(TUTOR_VENV)/bin/pytest ] || { $(PYTHON) -m venv $(TUTOR_VENV) && \
	  $(TUTOR_VENV)/bin/pip install --quiet --upgrade pip && \
	  $(TUTOR_VENV)/bin/pip install --quiet ./tutor_plugin pytest; }
	$(TUTOR_VENV)/bin/python -m pytest tutor_plugin/tests $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check ai_tutor tests
	$(BIN)/ruff format --check ai_tutor tests

format:
	$(BIN)/ruff format ai_tutor tests
	$(BIN)/ruff check --fix ai_tutor tests

# GNU gettext (xgettext, msgmerge, msginit, msgfmt): `apt-get install gettext`. The compiled
# catalogs are committed, so installing and testing the block needs none of it.
translations: $(BIN)/.installed ## Extract the strings into the .po files, then compile .mo and JS catalogs
	$(BIN)/python -m ai_tutor.translations.build extract
	$(BIN)/python -m ai_tutor.translations.build compile

# Benchmarks, not tests: nothing here passes or fails the build. The peer it compares with,
# xblock-ai-eval, goes into a venv of its own, never into the project's; if it cannot be
# installed, the results say so and the rest still runs.
BENCH_PEER_VENV ?= .venv-bench-peer
$(BENCH_PEER_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_PEER_VENV)
	$(BENCH_PEER_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_PEER_VENV)/bin/pip install --quiet 'xblock-ai-eval==0.6.6' 'django>=4.2,<6'
	touch $@

bench: $(BIN)/.installed ## Benchmarks: prints the table, writes bench/results.md and bench/results.json
	-$(MAKE) --no-print-directory $(BENCH_PEER_VENV)/.installed
	$(BIN)/python -m bench.run --peer-python $(BENCH_PEER_VENV)/bin/python $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TUTOR_VENV) var build dist *.egg-info
