#!/usr/bin/env bash
# Runs the whole test suite (unit, integration, golden SQL, crash and
# reference-client tests). The first run builds everything: about 13 minutes
# on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
# The cold-tier S3 tests run against a real S3-compatible server (moto) on
# loopback; install it (once) and tell the tests where its launcher is. A
# failed install does not stop a build: the S3 tests then fail and say why
# (and so does the test that reads segments with pyarrow).
if KALAMDB_MOTO_SERVER=$(bash "scripts/s3-server.sh"); then
  export KALAMDB_MOTO_SERVER
  # The same install's Python has pyarrow: the outside reader of segments.
  KALAMDB_TEST_PYTHON=$(bash "scripts/s3-server.sh" python)
  export KALAMDB_TEST_PYTHON
else
  unset KALAMDB_MOTO_SERVER
  echo "WARNING: could not install the S3 test server (scripts/s3-server.sh); the S3 tests will fail" >&2
fi
if cargo nextest --version >/dev/null 2>&1; then
  exec cargo nextest run --workspace --locked --no-fail-fast "$@"
else
  exec cargo test --workspace --locked --no-fail-fast "$@"
fi
