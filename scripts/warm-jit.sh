#!/usr/bin/env bash
# Compile the numba kernels once into NUMBA_CACHE_DIR by replaying a short simulated capture, so
# that processes started side by side later (the demo's three sensors, the tests' servers and
# sensors) load them from the cache instead of each compiling them at once on a small machine.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python -m spectrum simulate pulsed_50pct --out "$tmp/warm" --seconds 3 >/dev/null 2>&1
.venv/bin/python -m spectrum replay "$tmp/warm.sigmf-meta" --json >/dev/null 2>&1
echo "warm-jit: kernels compiled into ${NUMBA_CACHE_DIR:-the default numba cache}"
