#!/usr/bin/env bash
# Where the CPU went: every process's CPU time (user + system) over SECONDS, grouped by program, as a markdown table.
# Run it beside a benchmark to see which part of the graph (services, servers, dashboard, load generator) was busy.
# Usage: bench/cpu-share.sh SECONDS
set -euo pipefail
seconds=${1:?usage: bench/cpu-share.sh SECONDS}
ticks=$(getconf CLK_TCK)

snapshot() { # pid name cpu-ticks, for every process still there
  for stat in /proc/[0-9]*/stat; do
    read -r line <"$stat" 2>/dev/null || continue
    pid=${line%% *}; rest=${line#*) }; name=${line#*(}; name=${name%%)*}
    # The services run as `dotnet <assembly>`: name them by their assembly, not all "dotnet".
    if [ "$name" = dotnet ]; then
      assembly=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | sed -n '2p')
      case "$assembly" in *.dll) name=$(basename "$assembly" .dll) ;; esac
    fi
    set -- $rest
    echo "$pid ${name// /_} $(( ${12} + ${13} ))"
  done
}

before=$(snapshot)
sleep "$seconds"
after=$(snapshot)
echo "| program | CPU seconds | share of $(nproc) cores |"
echo "|---|---|---|"
join <(echo "$before" | sort -k1,1) <(echo "$after" | sort -k1,1) | awk -v t="$ticks" -v s="$seconds" -v c="$(nproc)" '
  { used[$2] += ($5 - $3) / t }
  END {
    for (n in used) total += used[n]
    for (n in used) if (used[n] > 0.05 * s / 10) printf "| %s | %.1f | %.0f%% |\n", n, used[n], 100 * used[n] / (s * c)
    printf "| (all) | %.1f | %.0f%% |\n", total, 100 * total / (s * c)
  }' | sort -t'|' -k3 -rn
