# The two commands: `make demo` and `make test`.  Both set everything up first (system packages,
# .venv, the package and its dependencies), so they work on a fresh Debian machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench bench-lpr bench-matchlists clean messages

$(STAMP): pyproject.toml scripts/system-deps.sh
	PYTHON=$(PYTHON) bash scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	TEXTUAL_ANIMATIONS=none $(BIN)/imtui demo

# Two pytest workers (pytest-xdist): the suite takes ~5 min instead of ~9.5 on the 2-core machines;
# every worker gets its own PostgreSQL database and temp files. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2

test: setup
	TEXTUAL_ANIMATIONS=none $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal

bench: setup
	$(BIN)/python bench/run.py

# The LPR engine over ../shared/datasets/plates on one core, scored by ../shared/tools/lpr_eval.py
# (also part of `make bench`).
bench-lpr: setup
	$(BIN)/python bench/lpr.py

# Match lists: matching one read against 1,000,000 entries, and importing 1,000,000 plates
bench-matchlists: setup
	$(BIN)/python bench/matchlists.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Refresh the gettext template after changing user-facing strings (tests/test_i18n.py checks it).
messages: setup
	$(BIN)/pybabel extract --no-location --sort-output --omit-header -k _ -k ngettext:1,2 -o src/imtui/locale/imtui.pot src/imtui
