#!/usr/bin/env bash
# compute-sanitizer over every variant's kernel (see sanitize.mjs for the cases): memcheck, racecheck
# and synccheck must each report 0 errors. Kernels are compiled first, outside the sanitizer, into the
# disk cache; the sanitized runs then load them with STAGEWISE_CACHE_STRICT=1 (no NVRTC inside).
# usage: bench/dev/sanitize.sh [LOG_DIR]   (exit status 1 when any tool reports an error)
set -uo pipefail
cd "$(dirname "$0")/../.."
logs=${1:-sanitize-logs}
mkdir -p "$logs"
node bench/dev/sanitize.mjs --warm || exit 1
status=0
for tool in memcheck racecheck synccheck; do
  start=$(date +%s)
  STAGEWISE_CACHE_STRICT=1 compute-sanitizer --tool "$tool" --error-exitcode 3 --print-limit 20 \
    node bench/dev/sanitize.mjs >"$logs/$tool.log" 2>&1
  rc=$?
  summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$logs/$tool.log" | tail -n 1)
  echo "$tool: exit $rc, $(($(date +%s) - start)) s, ${summary:-no summary line}; $(grep '^sanitize:' "$logs/$tool.log" | tail -n 1)"
  [ "$rc" -eq 0 ] || status=1
done
exit "$status"
