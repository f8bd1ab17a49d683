# Collections Guard: `make run` runs the app locally; `make test` runs every test.
# Both set everything up on first use (Python venv, npm packages) and are fast once done.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.deps-installed
NODE_STAMP := node_modules/.deps-installed

.PHONY: setup run test lint typecheck bench clean

CHROMIUM := /usr/bin/chromium

setup: $(PY_STAMP) $(NODE_STAMP) local.settings.json $(CHROMIUM)

# The console's browser tests drive Debian's chromium (playwright never downloads a browser).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install chromium at $(CHROMIUM) (Debian: apt-get install chromium fonts-noto-cjk)"; exit 1; }
	@echo "installing chromium and fonts-noto-cjk (browser tests)"
	@SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null

$(PY_STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

local.settings.json: local.settings.example.json
	@test -f $@ || { cp $< $@; echo "created $@ from $<"; }

run: setup
	$(PY) -m tools.run_local

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .azurite .pytest_cache .mypy_cache .ruff_cache .hypothesis
