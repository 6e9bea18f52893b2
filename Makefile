# Omnivox: two commands for a newcomer.
#   make run   set up everything and start the platform locally
#   make test  set up everything and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQ_STAMP := $(VENV)/.requirements-$(shell sha1sum requirements.txt | cut -c1-12)
VENDOR := app/static/vendor
ASSET_STAMP := $(VENDOR)/.assets-$(shell cat package.json package-lock.json | sha1sum | cut -c1-12)

.PHONY: run test setup assets browser clean-instance

setup: $(REQ_STAMP) $(ASSET_STAMP)

# Browser libraries come from the npm registry at set-up; pages load them from app/static/vendor
# (nothing is fetched from a CDN when a page loads).
assets: $(ASSET_STAMP)

$(ASSET_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is required to install the browser libraries (apt-get install -y npm)"; exit 1; }
	@echo "Installing browser libraries into $(VENDOR) ..."
	@npm ci --no-audit --no-fund --silent
	@mkdir -p $(VENDOR)
	@cp node_modules/socket.io-client/dist/socket.io.min.js $(VENDOR)/socket.io.min.js
	@cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	@cp node_modules/@twilio/voice-sdk/dist/twilio.min.js $(VENDOR)/twilio-voice.min.js
	@rm -f $(VENDOR)/.assets-* && touch $@

$(REQ_STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python dependencies into $(VENV) ..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.requirements-* && touch $@

run: setup
	@$(PY) -m devtools.run

# The browser tests drive Debian's Chromium: installed here when missing (as root), or make test
# stops before running anything and says how to get it.
browser:
	@bash devtools/ensure_browser.sh

# Three pytest workers by default (half the suite's time is spent waiting on servers and
# callbacks); each has its own PostgreSQL database and Redis db (tests/conftest.py), and a
# file's tests stay together on one worker. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 3
test: setup browser
	@$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

clean-instance:
	rm -rf instance
