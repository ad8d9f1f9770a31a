# sloguard: `make test` is what CI runs; `make demo` is the local tour.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
MOTO := $(CURDIR)/$(VENV)/bin/moto_server
export SLOGUARD_MOTO_SERVER := $(MOTO)

.PHONY: test fmt-check lint unit demo bench venv clean

test: fmt-check lint unit

fmt-check:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings

unit: venv
	mkdir -p target && set -o pipefail && cargo test --workspace 2>&1 | tee target/test-output.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' target/test-output.log

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: venv
	cargo run --quiet -p sloguard-cli -- demo --moto-server $(MOTO)

bench:
	cargo bench -p sloguard --bench engine

clean:
	rm -rf $(VENV) target
