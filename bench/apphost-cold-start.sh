#!/usr/bin/env bash
# AppHost cold start in processes mode, the way README starts it (dotnet run of the built AppHost, http profile):
# from launch until every service answers /health with "Healthy" (a service starts only once its Postgres, Redis
# and RabbitMQ resources are healthy, and its /health checks those connections again), then how long the AppHost
# takes to stop after SIGTERM until no server of the run is left. Prints one markdown row per run and the median.
# Usage: bench/apphost-cold-start.sh [runs] [AppHost arguments...]   (default 3 runs of the default Lean topology;
#        e.g. bench/apphost-cold-start.sh 3 --Scale:Topology=ScaleOut)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
shift || true
source bench/graph.sh

scripts/prerequisites.sh
dotnet build AppHost/AppHost.csproj --nologo -v quiet -clp:ErrorsOnly

now() { date +%s.%N; }

echo "| run | launch to all Healthy (s) | SIGTERM to all servers gone (s) |"
echo "|---|---|---|"
starts=()
for run in $(seq 1 "$runs"); do
  log=$(mktemp)
  t0=$(now)
  graph_start "$log" "$@"
  t1=$(now)
  graph_stop
  t2=$(now)
  rm -f "$log"
  start=$(echo "$t1 - $t0" | bc); stop=$(echo "$t2 - $t1" | bc)
  starts+=("$start")
  printf "| %d | %.1f | %.1f |\n" "$run" "$start" "$stop"
done
printf "\nmedian launch to all Healthy: %.1f s over %d runs\n" \
  "$(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')" "$runs"
