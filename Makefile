# The two set-up commands of the README: `make run` and `make test`.
# Everything they need is installed here, into .venv (and chromium from Debian for tests).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast test-slow install clean

run: $(VENV)/.installed  ## index seeds/ into index/ and serve http://127.0.0.1:5000
	$(BIN)/searchapp serve --reindex

test: $(VENV)/.installed-test chromium  ## install what tests need, run the whole suite
	$(BIN)/pytest

test-fast: $(VENV)/.installed-test  ## the suite without the browser tests
	$(BIN)/pytest -m "not browser"

test-slow: $(VENV)/.installed-test chromium  ## the suite with the hardening tests at full count
	SEARCHAPP_SLOW=1 $(BIN)/pytest --slow

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# whoosh3 replaces whoosh-reloaded: both install the `whoosh` package, so an older
	# .venv lets go of the one before the other comes in.
	$(BIN)/python -m pip uninstall --quiet --yes whoosh-reloaded 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,cluster]"
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) test-output .pytest_cache
