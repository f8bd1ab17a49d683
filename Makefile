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

# Installers' own chatter (index warnings, progress) goes to a log, shown only when they fail.
$(PY_STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing Python packages into $(VENV) (log: $(VENV)/pip.log)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt >$(VENV)/pip.log 2>&1 \
		|| { tail -n 40 $(VENV)/pip.log; echo "setup: pip install failed (full log: $(VENV)/pip.log)"; exit 1; }
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@echo "setup: installing npm packages (Azurite) into node_modules"
	@npm ci --no-audit --no-fund --loglevel=error >.npm-ci.log 2>&1 \
		|| { tail -n 40 .npm-ci.log; echo "setup: npm ci failed (full log: .npm-ci.log)"; exit 1; }
	@rm -f .npm-ci.log
	@touch $@

local.settings.json: local.settings.example.json
	@test -f $@ || { cp $< $@; echo "created $@ from $<"; }

# RUN_ARGS: e.g. `make run RUN_ARGS=--verbose` (every component's own log lines) or other ports.
RUN_ARGS ?=
run: setup
	@$(PY) -m tools.run_local $(RUN_ARGS)

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
