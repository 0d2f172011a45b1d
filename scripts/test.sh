#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-chromium.sh  # for the browser tests; they skip with its reason if it fails
bash scripts/install-postgresql.sh  # for the PostgreSQL runs of the service tests; likewise
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$PWD/.venv/numba-cache}
bash scripts/warm-jit.sh || echo "warm-jit: failed; the kernels compile on first use instead"  # once, before processes start side by side
# Everything but the real-time tests on both cores, then those alone (rates, reconnects and
# timeouts measured against the clock must not share the CPU with another test); both always run.
status=0
.venv/bin/python -m pytest -q -n 2 --dist loadfile -m "not realtime" "$@" || status=$?
.venv/bin/python -m pytest -q -m realtime "$@" || { rc=$?; [ "$rc" = 5 ] || status=$rc; }  # 5: none selected
[ "$status" = 5 ] && status=0
exit "$status"
