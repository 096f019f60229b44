# The two commands of the README: `make run` and `make test`. Everything else is a step they call.
VENV   ?= .venv
PY     := $(VENV)/bin/python
QA     := $(VENV)/bin/qa
CORPUS ?= ../shared/corpus

.PHONY: install models index run test browser bench bench-ci baseline baseline-embedded clean

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
	$(MAKE) --no-print-directory bench-ci

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will be skipped"

# The regression gate (eval/README.md, "In CI"): index the sample corpus afresh with the default embedder, then
# score retrieval and extractive answers against the committed baseline; a regression fails (exit 1).
CI_INDEX    ?= $(or $(TMPDIR),/tmp)/qa-ci-index
CI_BASELINE ?= eval/baselines/default.json
CI_REPORT   ?= eval/reports/ci

bench-ci: models
	rm -rf $(CI_INDEX)
	$(QA) ingest $(CORPUS) --index $(CI_INDEX)
	$(QA) eval --questions eval/questions.jsonl --index $(CI_INDEX) --generator extractive \
	  --baseline $(CI_BASELINE) --report $(CI_REPORT)

# Refresh the committed baseline on purpose, after tuning (index/ must be a fresh default build: `make index`).
baseline: index
	$(QA) eval --questions eval/questions.jsonl --generator extractive --save-baseline default \
	  --report eval/reports/default

# The same with the embedded model answering (slow: Qwen on the CPU); not gated in CI.
baseline-embedded: index
	$(QA) eval --questions eval/questions.jsonl --generator embedded --save-baseline embedded \
	  --report eval/reports/embedded

bench: index
	$(PY) bench/index_speed.py $(CORPUS)

clean:
	rm -rf $(VENV) index/current index/builds
