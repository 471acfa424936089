#!/usr/bin/env bash
# Runs every test in the solution (Release), excluding the slow category unless SHRINK_SLOW=1,
# and ends with one summary line: "tests: N passed, N failed, N skipped".
# First it sets the machine up (scripts/setup.sh: Chromium, Jupyter's client, the .NET Interactive tool and its
# kernelspec; quiet when all is there). SHRINK_NO_SETUP=1 skips that step.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${SHRINK_NO_SETUP:-0}" != "1" ]; then
  bash scripts/setup.sh || echo "setup: continuing; the tests that need what is missing will fail and say what it is" >&2
fi
filter="Category!=Slow"
[ "${SHRINK_SLOW:-0}" = "1" ] && filter=""
# One line on the machine, so a CI log says which CPU produced its numbers (MKL and oneDNN pick kernels by CPU).
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
avx512=no; grep -qw avx512f /proc/cpuinfo 2>/dev/null && avx512=yes
echo "machine: ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') logical processors, AVX-512: $avx512"
log=$(mktemp)
dotnet test Notebooks.sln -c Release ${filter:+--filter "$filter"} --logger "console;verbosity=minimal" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=0; failed=0; skipped=0
while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
done < <(sed -n 's/.*Failed: *\([0-9]*\), *Passed: *\([0-9]*\), *Skipped: *\([0-9]*\).*/\1 \2 \3/p' "$log")
rm -f "$log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$rc" -ne 0 ]; then exit "$rc"; fi
if [ "$passed" -eq 0 ]; then echo "tests: no test ran" >&2; exit 1; fi
