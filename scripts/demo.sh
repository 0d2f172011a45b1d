#!/usr/bin/env bash
# The main job on an embedded default, bounded: the central service and dashboard with three
# simulated polling-site sensors (one jammed by a barrage after 20 s, one by a pulsed jammer
# after 60 s). Runs for DEMO_SECONDS (default 180) and exits by itself; the dashboard URL is
# printed at the start. Without a limit: .venv/bin/spectrum demo
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$PWD/.venv/numba-cache}
bash scripts/warm-jit.sh || echo "warm-jit: failed; the kernels compile on first use instead"  # once, before processes start side by side
exec .venv/bin/spectrum demo --seconds "${DEMO_SECONDS:-180}"
