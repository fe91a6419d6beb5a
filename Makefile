# The one entry point: `make scan`, `make test`, `make demo`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TARGET ?= $(HOME)
OUT    ?= out
STAMP  := $(VENV)/.installed-dev

.PHONY: dev scan demo test lint fmt typecheck bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)

# Scan TARGET (default: your home folder) with the built-in signatures.
# Exit 1 only means "high or critical found"; make fails only on errors (exit 2+).
scan: $(STAMP)
	@$(BIN)/ftiscan scan "$(TARGET)" --report $(OUT)/report.json --format text; \
	  rc=$$?; if [ $$rc -gt 1 ]; then exit $$rc; fi

# Generate a synthetic home folder (no real people) and scan it.
demo: $(STAMP)
	$(BIN)/python -m tests.synthetic.home $(OUT)/demo-home
	@$(BIN)/ftiscan scan $(OUT)/demo-home --report $(OUT)/demo-report.json --format text; \
	  rc=$$?; if [ $$rc -gt 1 ]; then exit $$rc; fi

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# mypy cannot follow setuptools' editable import hook, so it reads the package
# through a tree of links that mirrors the installed layout (ftiscan.scanner -> scanner/).
typecheck: $(STAMP)
	@mkdir -p .typecheck/ftiscan
	@for d in scanner agent reports signatures; do ln -sfn ../../$$d .typecheck/ftiscan/$$d; done
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest $(if $(T),-k $(T))

# The fuzz tests with many examples (tests/fuzz/_profile.py): FUZZ=<examples per test,
# scaled per test> (default 2000); failures are kept in .hypothesis/ and replayed first.
# `make test` runs the same tests with a few examples each.
fuzz: $(STAMP)
	FTISCAN_FUZZ=$(or $(FUZZ),1) $(BIN)/pytest tests/fuzz -q $(if $(T),-k $(T)) \
	  --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.formats
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.signing
	$(BIN)/python -m bench.edm
	$(BIN)/python -m bench.daemon
	$(BIN)/python -m bench.intake

clean:
	rm -rf $(VENV) .typecheck out build *.egg-info .mypy_cache .ruff_cache
