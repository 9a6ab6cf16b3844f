#!/usr/bin/env bash
# `npm test` while stress-ng keeps every core busy: the suites must not depend on how fast a busy
# machine answers (a timeout expiring, a cold channel, a fire-and-forget Report still on its way).
#   scripts/test-under-load.sh [RUNS]   # RUNS consecutive passes required (default 1)
# stress-ng runs at the same priority as the tests (the harshest case); start the script under
# `nice` to be kind to a shared machine: both then share the lower priority.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1}"
if ! command -v stress-ng >/dev/null 2>&1; then
  echo "stress-ng is not installed: apt-get install -y stress-ng (.ci/run installs it)" >&2
  exit 2
fi
cores="$(nproc)"
# Bounded: stress-ng stops by itself even if this script is killed without its trap running.
stress-ng --cpu "$cores" --cpu-load 100 --timeout "$((runs * 1800))s" --quiet &
stress_pid=$!
trap 'kill "$stress_pid" 2>/dev/null || true; wait "$stress_pid" 2>/dev/null || true' EXIT
echo "stress-ng: $cores CPU workers at 100% (pid $stress_pid)"
for i in $(seq 1 "$runs"); do
  started=$SECONDS
  if ! npm test; then
    echo "under load: run $i of $runs FAILED after $((SECONDS - started)) s" >&2
    exit 1
  fi
  echo "under load: run $i of $runs passed in $((SECONDS - started)) s"
done
echo "under load: $runs consecutive passes"
