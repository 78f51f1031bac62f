#!/usr/bin/env bash
# Coverage-guided fuzzing of KalamDB's untrusted-input front ends (fuzz/, libFuzzer).
#
#   scripts/fuzz.sh [--seconds N] [target...]      default: every target, 30 s each
#
# Targets (fuzz/fuzz_targets/*.rs; each file's header lists the properties it checks):
#   sql_front_end      request text -> split_statements -> parse_statement
#   http_sql_request   POST /v1/api/sql body decoding
#   http_auth_request  login / setup bodies
#   ws_client_message  WebSocket client messages and gzip'd binary frames
#   key_encoding       hot-store key codec: round trips, order preservation, prefixes
#
# Builds on STABLE Rust without cargo-fuzz: the same instrumentation flags cargo-fuzz 0.13
# passes (sanitizer-coverage, `--cfg fuzzing`, debug assertions and overflow checks, one
# codegen unit), minus AddressSanitizer, which needs nightly (safe Rust gains little from
# it; `forbid(unsafe_code)` holds in every fuzzed crate). The layout is cargo-fuzz's, so
# on nightly `cargo fuzz run <target>` (from the repository root) works too.
#
# For each target: first the saved crash inputs of fuzz/regressions/<target>/ (each must
# pass), then libFuzzer for N seconds on the corpus target/fuzz-corpus/<target> (kept
# between runs, not committed) plus the seeds fuzz/seeds/<target>/ and, for
# sql_front_end, every statement of the golden SQL files (tests/sql/**/*.sql, extracted
# fresh each run into target/fuzz-seeds/sql_front_end). Prints each target's number of
# executions; exits non-zero if any target crashed, timed out or ran out of memory, with
# the path of the input that did it.
#
# A long session (e.g. overnight, one target):
#   scripts/fuzz.sh --seconds 28800 sql_front_end
# or several targets in parallel, one per core, each in its own shell.
#
# Reproduce a crash (the path is printed when a target fails), then debug it:
#   target/fuzz/x86_64-unknown-linux-gnu/release/<target> <crash-file>
# Once fixed: add a regression unit test in the owning crate, named after what it found,
# and copy the crash file to fuzz/regressions/<target>/ so this script replays it first.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(sql_front_end http_sql_request http_auth_request ws_client_message key_encoding)
seconds=30
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; shift ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "unknown fuzz target '$t' (have: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

# --- build -------------------------------------------------------------------------------
triple=$(rustc -vV | sed -n 's/^host: //p')
flags="-Cpasses=sancov-module"
flags+=" -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
flags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares"
flags+=" --cfg fuzzing"
flags+=" -Cllvm-args=-simplifycfg-branch-fold-threshold=0"
case "$triple" in *-linux-*) flags+=" -Cllvm-args=-sanitizer-coverage-stack-depth" ;; esac
flags+=" -Cdebug-assertions -Coverflow-checks -Ccodegen-units=1"
# Like cargo-fuzz, the caller's RUSTFLAGS come last and win.
export RUSTFLAGS="$flags${RUSTFLAGS:+ $RUSTFLAGS}"
target_dir="target/fuzz"
echo "== fuzz: building fuzz/ ($triple, release, instrumented) into $target_dir"
build_start=$(date +%s)
# `--target` keeps the instrumentation flags away from build scripts and proc macros.
cargo build --locked --manifest-path fuzz/Cargo.toml --target "$triple" --release \
  --config 'profile.release.debug="line-tables-only"' --target-dir "$target_dir" --bins
echo "   built in $(( $(date +%s) - build_start )) s"
bin_dir="$target_dir/$triple/release"

# --- golden SQL seeds ----------------------------------------------------------------------
# One file per request of the golden scripts (a prompt `user:> ` up to the first line ending
# in `;`, as crates/kalamdb-server/tests/it/golden.rs reads them; expected output, comments
# and directives skipped) and, for requests of several statements, one per statement
# (a quote-aware cut at `;`, good enough for seeds).
golden_seeds() {
  local out="$1"
  rm -rf "$out"
  mkdir -p "$out"
  find tests/sql -name '*.sql' -type f | sort | while read -r f; do cat "$f"; echo; done |
    awk -v out="$out" '
      function emit(text) {
        sub(/^[ \t\n]+/, "", text); sub(/[ \t\n]+$/, "", text)
        if (text == "") return
        n++
        file = sprintf("%s/golden-%05d.sql", out, n)
        printf "%s", text > file
        close(file)
      }
      function statements(sql,   i, c, q, cur, count, parts) {
        q = ""; cur = ""; count = 0
        for (i = 1; i <= length(sql); i++) {
          c = substr(sql, i, 1)
          if (q != "") { cur = cur c; if (c == q) q = ""; continue }
          if (c == "\047" || c == "\"") { q = c; cur = cur c; continue }
          if (c == ";") { parts[++count] = cur; cur = ""; continue }
          cur = cur c
        }
        if (cur ~ /[^ \t\n]/) parts[++count] = cur
        if (count > 1) for (i = 1; i <= count; i++) emit(parts[i])
      }
      function ends_sql(s) { sub(/[ \t\r]+$/, "", s); return s ~ /;$/ }
      {
        if (insql) { sql = sql "\n" $0 }
        else if (match($0, /^[A-Za-z0-9_-]+:>/)) {
          sql = substr($0, RLENGTH + 1); sub(/^ /, "", sql); insql = 1
        } else next
        if (ends_sql(sql)) { emit(sql); statements(sql); insql = 0 }
      }
      END { print n > "/dev/stderr" }
    ' 2>"$out/.count"
  echo "   $(cat "$out/.count") golden SQL seeds in $out"
  rm -f "$out/.count"
}

# --- run -----------------------------------------------------------------------------------
failed=0
summary=()
for t in "${targets[@]}"; do
  echo "== fuzz: $t (${seconds} s)"
  bin="$bin_dir/$t"
  artifacts="target/fuzz-artifacts/$t"
  corpus="target/fuzz-corpus/$t"
  log="target/fuzz-logs/$t.log"
  mkdir -p "$artifacts" "$corpus" "$(dirname "$log")"
  dict=()
  case "$t" in
    sql_front_end) dict=(-dict=fuzz/sql.dict) ;;
    http_sql_request|http_auth_request|ws_client_message) dict=(-dict=fuzz/json.dict) ;;
  esac
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds+=("fuzz/seeds/$t")
  if [ "$t" = sql_front_end ]; then
    golden_seeds "target/fuzz-seeds/$t"
    seeds+=("target/fuzz-seeds/$t")
  fi

  # Past crashes first: each saved input must now pass.
  regressions=()
  if [ -d "fuzz/regressions/$t" ]; then
    while IFS= read -r f; do regressions+=("$f"); done \
      < <(find "fuzz/regressions/$t" -type f ! -name '.*' | sort)
  fi
  if [ ${#regressions[@]} -gt 0 ]; then
    if "$bin" -timeout=10 -rss_limit_mb=2048 "${regressions[@]}" </dev/null >"$log.regressions" 2>&1; then
      echo "   regressions: ${#regressions[@]} saved inputs pass"
    else
      tail -n 30 "$log.regressions"
      echo "   REGRESSION: a saved input of fuzz/regressions/$t fails again (log: $log.regressions)"
      summary+=("$(printf '%-18s %12s  REGRESSION (see %s)' "$t" "-" "$log.regressions")")
      failed=1
      continue
    fi
  fi

  status=0
  "$bin" "$corpus" "${seeds[@]}" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" </dev/null >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  execs=${execs:-?}
  if [ "$status" -eq 0 ]; then
    echo "   executions: $execs, corpus: $(find "$corpus" -type f | wc -l) inputs, no crash"
    summary+=("$(printf '%-18s %12s  ok' "$t" "$execs")")
  else
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    grep -E "panicked at|^  (left|right):|assertion|ERROR: libFuzzer|SUMMARY" "$log" | head -n 12 || true
    echo "   CRASH after $execs executions (exit $status): ${crash:-no input saved} (log: $log)"
    echo "   reproduce: $bin ${crash:-<crash-file>}"
    summary+=("$(printf '%-18s %12s  CRASH %s' "$t" "$execs" "${crash:-(see $log)}")")
    failed=1
  fi
done

echo "== fuzz summary (${seconds} s per target; executions)"
printf '%s\n' "${summary[@]}"
exit "$failed"
