#!/usr/bin/env bash
# Starts kalamdb-server on embedded defaults: data in ./data, 127.0.0.1:8080.
# Extra arguments go to the server (e.g. --port 9000, --config server.toml).
# The first build compiles DataFusion and RocksDB in release mode: about
# 35-45 minutes on 2 cores; later starts take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
exec cargo run --release --locked -p kalamdb-server --bin kalamdb-server -- "$@"
