# The two commands of the README: `make run` and `make test`. Everything else is a step they call.
VENV   ?= .venv
PY     := $(VENV)/bin/python
QA     := $(VENV)/bin/qa
CORPUS ?= ../shared/corpus

.PHONY: install models index run test browser bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -e '.[embedded,test]'
	touch $@

models: install
	$(QA) models fetch

index: models
	$(QA) ingest $(CORPUS)

run: index
	$(QA) serve

test: install browser
	$(QA) models fetch --with-test-models
	$(PY) -m pytest -q

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will be skipped"

bench: index
	$(PY) bench/index_speed.py $(CORPUS)

clean:
	rm -rf $(VENV) index/current index/builds
