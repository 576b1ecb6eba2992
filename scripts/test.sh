#!/usr/bin/env bash
# Runs the full test suite on a fresh machine: installs missing prerequisites, builds the solution (warnings are
# errors), checks the code style, runs every test against real servers, and ends with "N passed, N failed" read
# from the TRX results. A step that fails before any test runs says why and ends with "0 passed, 1 failed": the
# suite did not pass, and no test result stands in for it.
set -uo pipefail
cd "$(dirname "$0")/.."

fail_before_tests() {
  echo "test: $1" >&2
  echo "0 passed, 1 failed"
  exit 1
}

scripts/prerequisites.sh python3-aiosmtpd chromium || fail_before_tests "installing the prerequisites failed (see above)"
dotnet build AspireShop.sln --nologo -v quiet -clp:ErrorsOnly || fail_before_tests "the solution did not restore or build (see above)"

# The code style is part of the build: .editorconfig says it, and a change that breaks it fails here, before the tests.
dotnet format AspireShop.sln --verify-no-changes --no-restore -v quiet \
  || fail_before_tests "the code is not formatted as .editorconfig says; run: dotnet format AspireShop.sln"

results=TestResults
rm -rf "$results"
status=0
dotnet test AspireShop.sln --no-build --nologo \
  --logger "trx;LogFilePrefix=results" --logger "console;verbosity=minimal" \
  --results-directory "$results" --blame-hang-timeout 10m || status=$?

shopt -s nullglob
trx_files=("$results"/*.trx)
((${#trx_files[@]} > 0)) || fail_before_tests "dotnet test exited with $status and wrote no TRX results"
summary=$(grep -ho '<Counters [^>]*>' "${trx_files[@]}" | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "=\""); sub(/".*/, "", kv[2]); counts[kv[1]] += kv[2] } }
  END { printf "%d %d\n", counts["passed"], counts["failed"] + counts["error"] + counts["timeout"] + counts["aborted"] }')
read -r passed failed <<<"$summary"
# A run that exits non-zero with every counted test passed (a crashed test host, a hang dump) still failed.
if ((status != 0 && failed == 0)); then
  echo "test: dotnet test exited with $status although the TRX files count no failed test" >&2
  failed=1
fi
echo "$passed passed, $failed failed"
exit "$status"
