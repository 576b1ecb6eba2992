#!/usr/bin/env bash
# bench/profile-orders.sh: where the CPU of an order goes. perf samples every CPU of the machine at 499 Hz with call
# stacks while orders run in a closed loop (wrk -t2 -c64, unpaced, as `bench/run.sh orders` with the rate "max") on the
# graph `bench/run.sh` starts (Release, traces sampled as shipped), PROFILE_TOPOLOGY (default Lean) and ORDER_MIX (default
# uniform). The 20 s profiled begin after PROFILE_WARMUP seconds of the same load (default 60): the services' tiered
# JIT compiles for the first minute or so of load, and on 2 cores that shows up as a quarter of the machine. The .NET
# services write perf maps (DOTNET_PerfMapEnabled=1) and run without write-xor-execute (with it, perf sees their
# JIT-compiled code as an anonymous mapping the perf map cannot name), so JIT-compiled frames have their names.
# These are CPU samples, not thread time: a waiting thread is never sampled.
#
# Prints, and keeps in /tmp/profile-orders/:
#   orders.txt          orders submitted and decided per second over the profiled 20 s
#   processes.txt       samples per process (the split of the machine's CPU over the profile's 20 s)
#   <service>.txt       a service's 60 hottest functions by self time, and by time including callees
# perf.data is kept there too: `perf report -i /tmp/profile-orders/perf.data --pid PID` to read further.
set -euo pipefail
cd "$(dirname "$0")/.."
topology=${PROFILE_TOPOLOGY:-Lean}
out=/tmp/profile-orders
mkdir -p "$out"
scripts/prerequisites.sh wrk postgresql-client linux-perf
dotnet build -c Release AspireShop.sln --nologo -v q -clp:ErrorsOnly
source bench/graph.sh
export GRAPH_CONFIGURATION=Release
trap graph_stop EXIT
graph_signing_key=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
tokens=$(mktemp)
args=""
for service in catalog-api ordering-api ordering-worker web-blazor; do
  args="$args --Services:$service:DOTNET_PerfMapEnabled=1 --Services:$service:DOTNET_EnableWriteXorExecute=0"
done
graph_start "$out/apphost.log" --Scale:Topology="$topology" \
  --Services:ordering-api:RateLimiting:AnonymousPerSecond=100000000 --Services:ordering-api:RateLimiting:AuthenticatedPerSecond=100000000 $args
orders_api=$(graph_service_url Ordering.Api)
graph_psql_env
psql -qAtX -c 'UPDATE products SET "AvailableStock" = 10000000' >/dev/null
graph_buyer_tokens 500 "$tokens"
warmup=${PROFILE_WARMUP:-60}
WRK_CONNECTIONS=64 wrk -t2 -c64 -d$(( warmup + 25 ))s -s bench/orders.lua "$orders_api" -- "$tokens" >"$out/wrk.txt" &
wrk_pid=$!
sleep "$warmup"
declare -A pids=()
for service in Ordering.Worker Ordering.Api Catalog.Api Web.Blazor; do
  pids[$service]=$(pgrep -f "/$service/bin/Release/.*/$service" | head -1 || true)
done
pids[Aspire.Dashboard]=$(pgrep -f "/Aspire.Dashboard( |$)" | head -1 || true)
pids[AppHost]=$(pgrep -f "/AppHost/bin/Release/.*/AppHost" | head -1 || true)
began=$(psql -qAtX -c "SELECT now()")
perf record -F 499 -a -g -o "$out/perf.data" -- sleep 20 2>"$out/perf-record.log"
ended=$(psql -qAtX -c "SELECT now()")
wait $wrk_pid
tail -6 "$out/wrk.txt"
# What the profiled 20 s did: orders submitted and orders decided in them, from the orders' own timestamps.
graph_shards_sql "SELECT count(*) FILTER (WHERE \"SubmittedAt\" BETWEEN '$began' AND '$ended'),
                         count(*) FILTER (WHERE \"CompletedAt\" BETWEEN '$began' AND '$ended') FROM ordering.orders" \
  | awk -F'|' '{ s += $1; d += $2 } END { printf "In the profiled 20 s: %d orders submitted (%.0f/s), %d decided (%.0f/s)\n", s, s / 20, d, d / 20 }' \
  | tee "$out/orders.txt"

for service in "${!pids[@]}"; do echo "${pids[$service]} $service"; done >"$out/pids.txt"
set +o pipefail # the reports below are cut short with head
# perf names a sample by its thread (".NET TP Worker", "postgres"), so the split is by process id (the thread group),
# the services named from the ids taken above and every other process by its name.
perf script -i "$out/perf.data" -F comm,pid 2>/dev/null | awk -v names="$(for s in "${!pids[@]}"; do echo -n "${pids[$s]}=$s "; done)" '
  BEGIN { n = split(names, pairs, " "); for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); service[kv[1]] = kv[2] } }
  { pid = $NF; $NF = ""; sub(/ +$/, ""); name = (pid in service) ? service[pid] : $0; samples[name]++; total++ }
  END { for (name in samples) printf "%6.2f%%  %s\n", 100 * samples[name] / total, name }' | sort -rn | head -25 >"$out/processes.txt"
cat "$out/processes.txt"
for service in "${!pids[@]}"; do
  [ -n "${pids[$service]}" ] || continue
  {
    echo "== $service (pid ${pids[$service]}): self, as a share of the whole machine"
    perf report -i "$out/perf.data" --pid "${pids[$service]}" --no-children --sort dso,sym --stdio -g none 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -60
    echo "== $service: including callees"
    perf report -i "$out/perf.data" --pid "${pids[$service]}" --children --sort sym --stdio -g none 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -60
  } >"$out/$service.txt"
done
echo "Profiles per service: $out/<service>.txt"
