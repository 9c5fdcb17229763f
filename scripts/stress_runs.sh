#!/usr/bin/env bash
# N fresh clones of one commit, `make test` in each, beside `stress-ng --cpu 2` (the hog and the suite at the
# same priority); one JSON line per run in docs/figures/stress-runs.jsonl (scripts/stress_record.py).
#   scripts/stress_runs.sh [COMMIT] [N]        (default: HEAD, 5)
# Needs stress-ng (apt-get install stress-ng). Uses the default ports unless PORTAL_*_PORT say otherwise.
# A second series beside a running one needs ports of its own (PORTAL_*_PORT, PORTAL_CLUSTER_BASE_PORT), its
# own STRESS_WORK, STRESS_HOG=0 (the first series' hog serves both: each run checks that one is running) and
# STRESS_BESIDE, what the runs share the machine with. STRESS_WHAT describes the runs in the record.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMMIT="$(git -C "$ROOT" rev-parse "${1:-HEAD}")"; N="${2:-5}"
WORK="${STRESS_WORK:-/tmp/portal-stress}"
HOG_OWN=1; [ "${STRESS_HOG:-1}" = 0 ] && HOG_OWN=0
if [ "$HOG_OWN" = 0 ]; then
  [ -n "${STRESS_WORK:-}" ] && [ -n "${STRESS_BESIDE:-}" ] \
    || { echo "error: STRESS_HOG=0 needs STRESS_WORK (a folder of its own) and STRESS_BESIDE" >&2; exit 1; }
fi
mkdir -p "$WORK"
mkdir "$WORK/.lock" 2>/dev/null || { echo "error: another series uses $WORK ($WORK/.lock)" >&2; exit 1; }
trap 'rmdir "$WORK/.lock"' EXIT
if [ "$HOG_OWN" = 1 ]; then
  command -v stress-ng >/dev/null || { echo "error: stress-ng is not installed" >&2; exit 1; }
  stress-ng --cpu 2 > "$WORK/stress-ng.log" 2>&1 &
  HOG=$!
  trap 'kill $HOG 2>/dev/null; rmdir "$WORK/.lock"' EXIT
fi
for i in $(seq 1 "$N"); do
  pgrep -x stress-ng > /dev/null || { echo "error: no stress-ng is running: run $i not started" >&2; exit 1; }
  dir="$WORK/clone-$i"
  rm -rf "$dir"; git clone -q "$ROOT" "$dir"; git -C "$dir" checkout -q "$COMMIT"
  started=$(date -u +%FT%TZ); t0=$(date +%s); load0=$(cut -d' ' -f1 /proc/loadavg)
  (cd "$dir" && make test > "$WORK/run-$i.log" 2>&1); rc=$?
  seconds=$(( $(date +%s) - t0 )); load1=$(cut -d' ' -f1 /proc/loadavg)
  note=""; pgrep -x stress-ng > /dev/null || note="no stress-ng was running at the end of the run"
  (cd "$dir" && scripts/stack.sh stop > /dev/null 2>&1)
  "$dir/.venv/bin/python" "$ROOT/scripts/stress_record.py" "$WORK/run-$i.log" --commit "$COMMIT" --started "$started" \
    --seconds "$seconds" --rc "$rc" --load-start "$load0" --load-end "$load1" \
    --what "${STRESS_WHAT:-}" --hog "${STRESS_BESIDE:-}" --note "$note"
  rm -rf "/var/tmp/customer-portal-$(printf %s "$dir" | md5sum | cut -c1-8)" "$dir"
done
