#!/usr/bin/env bash
# wasmgate benchmark: nginx direct (ceiling) vs nginx reverse proxy (baseline) vs wasmgate,
# measured with wrk on 127.0.0.1 in alternating rounds. See bench/bench.py for the details and
# the environment knobs (BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_TARGETS, ...).
#
#   bench/run.sh                                   # 3 rounds x 10 s per target
#   BENCH_DURATION=5 BENCH_ROUNDS=1 bench/run.sh   # quick look
#   WASMGATE_BIN=/path/to/wasmgate bench/run.sh
#
# Output: a table on stdout and bench/results/latest.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
bin="${WASMGATE_BIN:-$repo/build/wasmgate}"

if [[ ! -x "$bin" ]]; then
  echo "error: wasmgate binary not found: $bin (build it, or set WASMGATE_BIN)" >&2
  exit 1
fi
for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$tool" ]]; then
    echo "error: $tool is not installed" >&2
    exit 1
  fi
done

export WASMGATE_BIN="$bin"
exec /usr/bin/python3 "$here/bench.py" "$@"
