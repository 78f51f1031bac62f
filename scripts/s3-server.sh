#!/usr/bin/env bash
# Installs the S3-compatible server the cold-tier tests run against (moto, a
# real HTTP server speaking the S3 protocol, bound to loopback), and prints
# the path of a launcher for it on stdout.
#
#   bash scripts/s3-server.sh            install if needed, print the launcher path
#   bash scripts/s3-server.sh run [ARGS] install if needed, then run the server in
#                                        the foreground (default: -H 127.0.0.1 -p 5000)
#   bash scripts/s3-server.sh python     install if needed, print the path of a
#                                        launcher of the same Python, which also has
#                                        pyarrow: the independent reader the tests
#                                        read flushed segments with
#
# Idempotent: once installed it only checks a stamp file. Needs CPython >= 3.9
# with pip (venv preferred; falls back to `pip install --target` where the
# venv module is missing). Everything goes under $KALAMDB_TOOLS_DIR (default
# ~/.cache/kalamdb), one directory per pinned version, so changing the pins
# below installs side by side instead of mutating an existing install.
#
# Only the `s3` extra plus Flask is installed: moto's `server` extra pulls the
# dependencies of every AWS service moto emulates (cfn-lint, docker, xray, ...,
# 317 MB, ~30 s) while the S3 server needs only Flask and flask-cors (140 MB,
# ~11 s).
set -euo pipefail

MOTO_VERSION=5.2.5
REQUIREMENTS=("moto[s3]==${MOTO_VERSION}" "flask==3.1.3" "flask-cors==6.0.5" "pyarrow==26.0.1")

python=${PYTHON:-python3}
tools_dir=${KALAMDB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kalamdb}
dest="$tools_dir/moto-${MOTO_VERSION}"
launcher="$dest/moto-server"
stamp="$dest/.installed"
want="${REQUIREMENTS[*]}"

installed() {
  [ -x "$launcher" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}

install() {
  command -v "$python" >/dev/null 2>&1 || {
    echo "s3-server.sh: '$python' not found; install CPython >= 3.9 with pip (or set PYTHON)" >&2
    return 1
  }
  mkdir -p "$tools_dir"
  # Build in a private directory and rename it into place, so an interrupted
  # or concurrent install never leaves a half-installed $dest behind.
  tmp=$(mktemp -d "$tools_dir/.moto-install.XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "Installing the S3 test server: ${want} (into $dest)" >&2
  local pip_quiet=(-q --disable-pip-version-check --no-input)
  # The launcher resolves paths relative to itself, so the directory stays
  # valid after the rename (a venv's own bin/ scripts would not: their
  # shebangs are absolute).
  if "$python" -m venv "$tmp/venv" >/dev/null 2>&1 && [ -x "$tmp/venv/bin/python" ]; then
    "$tmp/venv/bin/python" -m pip install "${pip_quiet[@]}" "${REQUIREMENTS[@]}" >&2
    py_line='py="$here/venv/bin/python"'
    env_line=''
  else
    rm -rf "$tmp/venv"
    echo "s3-server.sh: '$python -m venv' is unavailable; using pip install --target" >&2
    "$python" -m pip install "${pip_quiet[@]}" --target "$tmp/site" "${REQUIREMENTS[@]}" >&2
    py_line="py=\"$(command -v "$python")\""
    env_line='export PYTHONPATH="$here/site${PYTHONPATH:+:$PYTHONPATH}"'
  fi
  cat >"$tmp/moto-server" <<EOF
#!/usr/bin/env bash
# Runs the pinned moto server; arguments are moto_server's (-H HOST -p PORT).
# With KALAMDB_MOTO_EXIT_ON_STDIN_EOF=1 the server exits when its stdin
# closes, so a test process that dies without cleaning up (SIGKILL, timeout)
# does not leave the server running.
set -euo pipefail
here=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)
$py_line
$env_line
exec "\$py" -c '
import os, sys, threading
def watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)
if os.environ.get("KALAMDB_MOTO_EXIT_ON_STDIN_EOF") == "1":
    threading.Thread(target=watch_stdin, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
' "\$@"
EOF
  cat >"$tmp/python" <<EOF
#!/usr/bin/env bash
# The Python moto runs on, with pyarrow; arguments are python's.
set -euo pipefail
here=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)
$py_line
$env_line
exec "\$py" "\$@"
EOF
  chmod +x "$tmp/moto-server" "$tmp/python"
  "$tmp/moto-server" --help >/dev/null
  "$tmp/python" -c 'import pyarrow.parquet' >/dev/null
  printf '%s' "$want" >"$tmp/.installed"
  # Another install may have finished meanwhile; its result is as good as ours.
  installed && return 0
  rm -rf "$dest" # a broken or outdated leftover
  mv -T "$tmp" "$dest" 2>/dev/null || installed || {
    echo "s3-server.sh: could not move the install into $dest" >&2
    return 1
  }
  echo "Installed the S3 test server in $dest" >&2
}

tmp=""
installed || install

case "${1:-}" in
  "") echo "$launcher" ;;
  python) echo "$dest/python" ;;
  run)
    shift
    [ $# -gt 0 ] || set -- -H 127.0.0.1 -p 5000
    exec "$launcher" "$@"
    ;;
  *)
    echo "usage: $0 [run [moto_server args] | python]" >&2
    exit 2
    ;;
esac
