# Turnout: two commands on a fresh machine — `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := redis-server prometheus tmux openssh-server valgrind
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test venv system-deps node-deps lint unit lab lab-build lab-down lab-status bench wheel clean monitoring tools

$(STAMP): pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

venv: $(STAMP)

## Debian packages the lab and the tests use; installed only when missing and running as root.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	  else echo "not root: cannot install$$missing (lab tests will skip)"; fi; \
	fi

## Open the TUI on the embedded demo environment.
demo: venv
	$(BIN)/turnout demo

## The folders install as turnout.*; mypy and import-linter read them through this symlink tree.
.typecheck/turnout:
	mkdir -p .typecheck/turnout
	for d in backend tui themes; do ln -sfn ../../$$d .typecheck/turnout/$$d; done

lint: venv .typecheck/turnout
	$(BIN)/ruff check backend tui themes tests bench deploy
	MYPYPATH=.typecheck $(BIN)/mypy --strict -p turnout.backend
	PYTHONPATH=.typecheck $(BIN)/lint-imports

## Build the lab's Kubernetes binaries (cached under ~/.cache/turnout-lab). Under
## TURNOUT_REQUIRE_LAB=1 a failed build fails; otherwise lab tests skip.
lab-build:
	@if command -v go >/dev/null; then bash lab/build.sh >/dev/null || [ "$$TURNOUT_REQUIRE_LAB" != 1 ]; \
	elif [ "$$TURNOUT_REQUIRE_LAB" = 1 ]; then echo "lab: Go is required (TURNOUT_REQUIRE_LAB=1)" >&2; exit 1; fi

## The real OpenFeature Node clients the cross-language tests and bench run (tests/node/package-lock.json),
## installed with `npm ci` when Node is present (again only when the lock changed); the npm cache
## stays outside the repository. Under TURNOUT_REQUIRE_LAB=1 a missing Node or a failed install fails.
NODE_STAMP := tests/node/node_modules/.package-lock.json
node-deps:
	@if command -v npm >/dev/null && command -v node >/dev/null; then \
	  [ $(NODE_STAMP) -nt tests/node/package-lock.json ] || \
	  (cd tests/node && npm ci --ignore-scripts --no-audit --no-fund --cache "$$HOME/.cache/turnout-npm" >/dev/null) || \
	  [ "$$TURNOUT_REQUIRE_LAB" != 1 ]; \
	elif [ "$$TURNOUT_REQUIRE_LAB" = 1 ]; then echo "node: Node.js and npm are required (TURNOUT_REQUIRE_LAB=1)" >&2; exit 1; \
	else echo "node: not installed (the Node client tests will skip)"; fi

## Tools the ops tests use, built from the Go module proxy into ~/.cache/turnout-tools/bin:
## actionlint, and helm (lab/build-helm.sh pins it; the lab installs its apps with it).
## Without Go the tests that need them skip, unless TURNOUT_REQUIRE_LAB=1.
TOOLS_BIN := $(HOME)/.cache/turnout-tools/bin
ACTIONLINT_VERSION := v1.7.12
tools:
	@if [ -x $(TOOLS_BIN)/actionlint ] && $(TOOLS_BIN)/actionlint -version | grep -qx '$(ACTIONLINT_VERSION)'; then :; \
	elif command -v go >/dev/null; then \
	  GOBIN=$(TOOLS_BIN) GOTOOLCHAIN=local go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) \
	  || [ "$$TURNOUT_REQUIRE_LAB" != 1 ]; \
	elif [ "$$TURNOUT_REQUIRE_LAB" = 1 ]; then echo "tools: Go is required (TURNOUT_REQUIRE_LAB=1)" >&2; exit 1; fi
	@bash lab/build-helm.sh >/dev/null || [ "$$TURNOUT_REQUIRE_LAB" != 1 ]

## Set up, then run every test: lint, type checks, the import contract, unit, lab and TUI tests.
## The lab-free tests run in parallel (pytest-xdist, one worker per core); the lab tests run in
## one process, since they share the lab's demo services and the faults injected into them.
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider
test: venv system-deps lint lab-build node-deps tools
	$(PYTEST) -m "not lab" -n auto
	$(PYTEST) -m lab

lab: venv system-deps lab-build tools
	$(PY) lab/labctl.py up

lab-down:
	$(PY) lab/labctl.py down

lab-status:
	$(PY) lab/labctl.py status

## Benchmarks: each figure beside its peers, rows also in bench/results/latest.json.
bench: venv system-deps lab-build node-deps
	$(BIN)/python bench/run.py

## Regenerate the alert rules (plain rules file and PrometheusRule) and the Grafana dashboard.
monitoring: venv
	$(BIN)/python deploy/monitoring/rules.py
	$(BIN)/python deploy/monitoring/dashboard.py

wheel: venv
	$(BIN)/pip wheel -q . --no-deps -w dist

clean:
	rm -rf $(VENV) build dist *.egg-info
