#!/usr/bin/env bash
# AppHost cold start in processes mode, as a user meets it: `scripts/run-shop.sh` (the built AppHost through
# `dotnet run`, http profile, Debug) until every resource the dashboard lists is Running and Healthy (or, for a
# resource without health checks, Running; or Finished with exit code 0; or, like the load generator, NotStarted
# because it waits for the user's start command). The states are the AppHost's resource
# service, the one the dashboard shows, read with `aspire describe --follow --format Json` from the moment of launch.
# Also printed: when every service first answered its own /health with "Healthy" (the earlier measure), the resource
# that became Healthy last, and how long the AppHost takes to stop after SIGTERM until no server of the run is left.
# Prints one markdown row per run and the medians.
# Usage: bench/apphost-cold-start.sh [runs] [AppHost arguments...]   (default 3 runs of the default Lean topology;
#        e.g. bench/apphost-cold-start.sh 3 --Scale:Topology=ScaleOut)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
shift || true
source bench/graph.sh

scripts/prerequisites.sh
dotnet tool restore >/dev/null
dotnet build AppHost/AppHost.csproj --nologo -v quiet -clp:ErrorsOnly

now() { date +%s.%N; }

# states T0 LOG: reads `aspire describe --follow` NDJSON on stdin, keeps each resource's latest state, and once every
# resource is done starting writes "seconds since T0|last resource|resources" to stdout and exits.
states() {
  python3 -c '
import json, sys, time
t0 = float(sys.argv[1]); log = open(sys.argv[2], "w"); latest = {}
def field(item, *names):
    for name in names:
        for key in (name, name[0].upper() + name[1:]):
            if key in item and item[key] is not None:
                return item[key]
    return None
def started(item):
    state, health = field(item, "state"), field(item, "healthStatus", "health")
    if state == "Finished":
        return field(item, "exitCode") in (0, None)
    if state == "NotStarted":
        return True
    return state == "Running" and health in (None, "", "Healthy")
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    log.write(f"{time.time() - t0:.2f} {line}\n"); log.flush()
    data = json.loads(line)
    for item in data.get("resources", [data]) if isinstance(data, dict) else data:
        name = field(item, "name", "displayName")
        if name:
            latest[name] = (started(item), time.time() - t0)
    if len(latest) >= 5 and all(done for done, _ in latest.values()):
        last = max(latest, key=lambda name: latest[name][1])
        print(f"{time.time() - t0:.1f}|{last}|{len(latest)}")
        sys.exit(0)
sys.exit(1)
' "$1" "$2"
}

echo "| run | launch to every resource Running and Healthy in the dashboard (s) | last to get there | resources | launch to every service's /health Healthy (s) | SIGTERM to all servers gone (s) |"
echo "|---|---|---|---|---|---|"
dashboard=(); health=()
for run in $(seq 1 "$runs"); do
  log=$(mktemp); follow_log=$(mktemp); result=$(mktemp)
  t0=$(now)
  env DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true \
    dotnet run --project AppHost/AppHost.csproj --no-build --launch-profile http -- "$@" >"$log" 2>&1 &
  graph_pid=$!
  # The describe stream, started at once and again until the AppHost answers; it ends when every resource is up.
  (
    until dotnet aspire describe --follow --format Json --apphost AppHost/AppHost.csproj --non-interactive --nologo 2>/dev/null \
      | states "$t0" "$follow_log" >"$result"; do
      [ -s "$result" ] && break
      sleep 0.5
    done
  ) &
  watcher=$!
  until graph_healthy "${graph_services[0]}" && graph_healthy "${graph_services[1]}" && graph_healthy "${graph_services[2]}" \
    && graph_healthy "${graph_services[3]}"; do
    sleep 0.1
  done
  t_health=$(now)
  deadline=$(( $(date +%s) + 120 ))
  # The stream's reader exits once everything is up; `aspire describe` itself only notices at its next update.
  while [ ! -s "$result" ] && kill -0 "$watcher" 2>/dev/null && (( $(date +%s) < deadline )); do sleep 0.1; done
  kill "$watcher" 2>/dev/null || true
  pkill -f "aspire describe --follow" 2>/dev/null || true
  t1=$(now)
  graph_stop
  t2=$(now)
  IFS='|' read -r seconds last count <"$result" || { seconds="(not reached in 120 s; $follow_log)"; last="-"; count="-"; }
  rm -f "$log" "$result"
  start=$(echo "$t_health - $t0" | bc); stop=$(echo "$t2 - $t1" | bc)
  dashboard+=("$seconds"); health+=("$start")
  printf "| %d | %s | %s | %s | %.1f | %.1f |\n" "$run" "$seconds" "$last" "$count" "$start" "$stop"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf "\nmedian launch to every resource Running and Healthy in the dashboard: %s s; to every service's /health Healthy: %.1f s; over %d runs\n" \
  "$(median "${dashboard[@]}")" "$(median "${health[@]}")" "$runs"
