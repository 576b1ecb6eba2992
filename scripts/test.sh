#!/usr/bin/env bash
# Runs the full test suite on a fresh machine: installs missing prerequisites, builds the solution (warnings are
# errors), checks the code style, runs every test against real servers, and ends with "N passed, N failed" read
# from the TRX results.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh python3-aiosmtpd chromium
dotnet build AspireShop.sln --nologo -v quiet -clp:ErrorsOnly

# The code style is part of the build: .editorconfig says it, and a change that breaks it fails here, before the tests.
if ! dotnet format AspireShop.sln --verify-no-changes --no-restore -v quiet; then
  echo "test: the code is not formatted as .editorconfig says; run: dotnet format AspireShop.sln" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

results=TestResults
rm -rf "$results"
status=0
dotnet test AspireShop.sln --no-build --nologo \
  --logger "trx;LogFilePrefix=results" --logger "console;verbosity=minimal" \
  --results-directory "$results" --blame-hang-timeout 10m || status=$?

shopt -s nullglob
trx_files=("$results"/*.trx)
if ((${#trx_files[@]} == 0)); then
  echo "test: no TRX results were written" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
grep -ho '<Counters [^>]*>' "${trx_files[@]}" | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "=\""); sub(/".*/, "", kv[2]); counts[kv[1]] += kv[2] } }
  END { printf "%d passed, %d failed\n", counts["passed"], counts["failed"] + counts["error"] + counts["timeout"] + counts["aborted"] }'
exit "$status"
