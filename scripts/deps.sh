#!/usr/bin/env bash
# Installs what building KalamDB needs beyond Rust: clang and libclang for
# RocksDB's bindings (bindgen) and its C++ build. Idempotent and quiet when
# everything is present. (What only the tests need is in scripts/test.sh.)
set -euo pipefail
need=()
command -v clang++ >/dev/null 2>&1 || need+=(clang)
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || need+=(libclang-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing build dependencies: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq clang libclang-dev >/dev/null
fi
# RocksDB compiles about 20% faster with clang than with g++.
export CC=clang CXX=clang++
