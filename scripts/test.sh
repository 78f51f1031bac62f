#!/usr/bin/env bash
# Runs the whole test suite (unit, integration, golden SQL, crash and
# reference-client tests). The first run builds everything: about 13 minutes
# on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
if cargo nextest --version >/dev/null 2>&1; then
  exec cargo nextest run --workspace --locked --no-fail-fast "$@"
else
  exec cargo test --workspace --locked --no-fail-fast "$@"
fi
