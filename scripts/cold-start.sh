#!/usr/bin/env bash
# Cold start of the evaluator beside a hello-world lambda_runtime binary: both built
# with the release profile, timed from spawn to the first Runtime API poll (median of 15).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p slo-evaluator --bin slo-evaluator --example hello
python3 scripts/cold_start.py --runs "${RUNS:-15}" \
  "evaluator=$target/release/slo-evaluator" \
  "hello=$target/release/examples/hello"
