# Omnivox: two commands for a newcomer.
#   make run   set up everything and start the platform locally
#   make test  set up everything and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQ_STAMP := $(VENV)/.requirements-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test setup clean-instance

setup: $(REQ_STAMP)

$(REQ_STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python dependencies into $(VENV) ..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.requirements-* && touch $@

run: setup
	@$(PY) -m devtools.run

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

clean-instance:
	rm -rf instance
