# Entrix Gate — one entry point for developers and CI. Every target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the project needs at run or test time: PostgreSQL for the server's test suite,
# libzbar0 for pyzbar (the gate's second QR decoder); Xvfb, Qt's xcb libraries and fonts that
# shape Arabic for the kiosk window (screenshots, a demo kiosk on a machine with no display);
# chromium for the dashboard's browser tests (Playwright drives it; never `playwright install`);
# shellcheck for the packaging scripts.
DEB_PACKAGES ?= postgresql libzbar0 shellcheck nginx libpango-1.0-0 libpangoft2-1.0-0 \
	xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 \
	libfontconfig1 libdbus-1-3 fonts-dejavu-core fonts-noto-core \
	chromium

DEMO_DIR ?= demo
DEMO_PORT ?= 8000

.PHONY: help venv lock lock-check system-deps lint typecheck imports test test-only bench soak demo demo-gate clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

system-deps:  ## install the Debian packages the project needs (root, Debian/Ubuntu)
	@if [ -n "$(DEB_PACKAGES)" ]; then \
	  missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  fi; \
	fi

# Installs come from the lock: requirements/dev.txt (every extra, hashes of every file) is exported
# from uv.lock by `make lock`. pip checks each download against its hash and refuses anything the
# lock does not name; the project itself goes in last, editable, with no dependency of its own.
$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	@# this machine's pip config lists local indexes that may be absent: drop only those warnings
	set -o pipefail; $(BIN)/pip install -q --require-hashes -r requirements/dev.txt 2>&1 | { grep -v "is ignored" || true; }
	set -o pipefail; $(BIN)/pip install -q --no-deps --no-build-isolation -e . 2>&1 | { grep -v "is ignored" || true; }
	$(BIN)/python -c "import shared, scanner_app, cbor2, base45, cryptography, hypothesis, pytest"
	touch $(STAMP)

venv: system-deps $(STAMP)  ## create the virtualenv and install the project with its dev tools, from the lock

# What `make lock` writes from uv.lock: the development set (every extra) and a site's set (what
# packaging/install.sh installs beside the wheel: the server, a gate, a kiosk, their hardware).
EXPORT_DEV  := --all-extras
EXPORT_SITE := --extra hardware --extra postgres
uv_export = $(BIN)/uv export --frozen --no-emit-project --quiet $(1)

lock: venv  ## re-resolve uv.lock after editing pyproject.toml; UPGRADE=pkg (or all) moves pins on purpose
	$(BIN)/uv lock $(if $(filter all,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE)))
	$(call uv_export,$(EXPORT_DEV)) -o requirements/dev.txt
	$(call uv_export,$(EXPORT_SITE)) -o requirements/site.txt

lock-check: venv  ## uv.lock agrees with pyproject.toml, requirements/ with uv.lock (offline)
	$(BIN)/uv lock --check --offline --quiet || { echo "uv.lock is stale: run 'make lock'"; exit 1; }
	@for set in dev:"$(EXPORT_DEV)" site:"$(EXPORT_SITE)"; do \
	  name=$${set%%:*}; \
	  diff <(grep -v '^#' requirements/$$name.txt) <($(call uv_export,$${set#*:}) | grep -v '^#') > /dev/null || \
	    { echo "requirements/$$name.txt does not match uv.lock: run 'make lock'"; exit 1; }; \
	done

lint: venv  ## ruff: lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv  ## mypy (strict) on the packages
	$(BIN)/mypy

imports: venv  ## import-linter: Qt only in scanner_app/ui, no web or ORM in shared and hardware
	$(BIN)/lint-imports

# The suite runs on every core (pytest-xdist), a test module to a worker: a module's server,
# PostgreSQL cluster and browser stay its own. WORKERS=0 runs it in this process.
WORKERS ?= auto
test-only: venv  ## pytest only, on every core (WORKERS=N to choose, 0: one process)
	$(BIN)/pytest $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadscope)

test: lock-check lint typecheck imports test-only  ## everything CI runs

bench: venv  ## benchmarks; figures go to docs/BENCHMARKS.md
	$(BIN)/python -m bench.run --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.recovery --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.replica_health --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.flood --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.import_load --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.rotating --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.bootstrap --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.bootstrap --rights 1000000 --runs 1 --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.bootstrap --database postgresql --write docs/BENCHMARKS.md
	$(BIN)/python -m bench.bootstrap --database postgresql --rights 1000000 --runs 1 --write docs/BENCHMARKS.md

soak: venv  ## the kiosk under Xvfb, enrolled and syncing, for 30 min, then 20 SIGTERMs (about 45 min)
	$(BIN)/python -m bench.soak --write docs/BENCHMARKS.md

demo: venv  ## the whole product here: server, demo derby, dashboard, an enrolled kiosk with a demo camera
	$(BIN)/python -m sync_server.demo --dir $(DEMO_DIR) --port $(DEMO_PORT) $(if $(HEADLESS),--headless)

demo-gate: venv  ## a gate alone, no server: a demo replica in ./demo-gate and every sample code checked
	$(BIN)/gate-scanner seed-demo --db demo-gate/gate.db --rights 10000 --codes demo-gate/codes.txt --force
	@echo
	@grep -v '^#' demo-gate/codes.txt | while IFS=$$'\t' read -r label code expected note; do \
	  echo "== $$label: $$note (expected: $$expected)"; \
	  $(BIN)/gate-scanner check --db demo-gate/gate.db "$$code" || true; \
	done

clean:  ## remove the virtualenv, caches and the demo
	rm -rf $(VENV) $(DEMO_DIR) demo-gate .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache *.egg-info

# --- packaging (not part of `make test`: slow). packaging/build.sh and packaging/smoke.sh say what they do.
.PHONY: package package-smoke package-deps

package-deps: venv  ## PyInstaller and the build tools (the lock's package extra: part of make venv)

package: package-deps  ## build dist/: the wheel, the kiosk's one-folder build, the installer tarball, the .deb
	packaging/build.sh $(BIN)/python

package-smoke:  ## smoke-test what `make package` built (binary, installer dry runs, wheel in a fresh venv, .deb)
	@test -x dist/gate-scanner/gate-scanner || { echo "nothing built: run 'make package' first"; exit 2; }
	packaging/smoke.sh $(PYTHON)
