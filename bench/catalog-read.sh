#!/usr/bin/env bash
# Catalog read throughput with wrk against the running graph (AppHost in Release, processes mode), next to the
# bare-Kestrel ceiling (bench/KestrelCeiling serving the same product JSON from memory), in the same run.
# Scenarios: GET product by id and GET first page, with the cache on, then with it off (reads hit the replica).
# Each: a warm-up (the JIT needs 20-30 s under load on 2 cores), then RUNS measured runs; the median is reported.
# wrk hits Catalog.Api's own port (found from the process), not the dashboard's proxy in front of it.
# Usage: bench/catalog-read.sh   (WARMUP=30 DURATION=15 RUNS=3 THREADS=2 CONNECTIONS=32 to change)
set -euo pipefail
cd "$(dirname "$0")/.."

warmup=${WARMUP:-30}; duration=${DURATION:-15}; runs=${RUNS:-3}
threads=${THREADS:-2}; connections=${CONNECTIONS:-32}

scripts/prerequisites.sh wrk
dotnet build AspireShop.sln -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build bench/KestrelCeiling -c Release --nologo -v quiet -clp:ErrorsOnly

source bench/graph.sh
export GRAPH_CONFIGURATION=Release
ceiling_pid=""
cleanup() {
  [ -n "$ceiling_pid" ] && kill "$ceiling_pid" 2>/dev/null || true
  graph_stop
}
trap cleanup EXIT

# The anonymous per-client limit (2,000/s) would throttle wrk, which is one client.
start_graph() {
  graph_start /tmp/catalog-bench-apphost.log --Services:catalog-api:RateLimiting:AnonymousPerSecond=100000000 "$@"
  api=$(graph_service_url Catalog.Api)
}

measure() { # label url -> prints a table row
  local label=$1 url=$2 rps=() p99=() out
  wrk -t"$threads" -c"$connections" -d"${warmup}s" "$url" >/dev/null
  for _ in $(seq 1 "$runs"); do
    out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$url")
    if echo "$out" | grep -q "Non-2xx"; then echo "$label: non-2xx responses: $out" >&2; exit 1; fi
    rps+=("$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
    p99+=("$(echo "$out" | awk '$1 == "99%" {print $2}')")
  done
  printf "| %s | %s | %s | %s |\n" "$label" "$(median "${rps[@]}")" "$(printf '%s ' "${p99[@]}")" "$(printf '%s ' "${rps[@]}")"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "wrk -t$threads -c$connections, ${warmup}s warm-up, median of $runs x ${duration}s; $(nproc) cores; $(date -u +%F)"
echo
echo "| scenario | req/s (median) | p99 per run | req/s per run |"
echo "|---|---|---|---|"

# 1. As a developer runs it: cache on, every request traced to the dashboard.
start_graph
body=$(mktemp)
curl -s "$api/api/v1/products/1" >"$body"
ceiling_port=5980
dotnet bench/KestrelCeiling/bin/Release/net10.0/KestrelCeiling.dll --urls "http://127.0.0.1:$ceiling_port" --Body="$body" >/dev/null 2>&1 &
ceiling_pid=$!
sleep 2
measure "bare Kestrel, same JSON from memory (ceiling)" "http://127.0.0.1:$ceiling_port/product"
measure "product by id, cache on, traces sampled as shipped" "$api/api/v1/products/1"
measure "first page, cache on, traces sampled as shipped" "$api/api/v1/products"
graph_stop

# 2. Cache on, no traces recorded (metrics and logs stay): what the telemetry pipeline costs on 2 shared cores.
start_graph --Services:catalog-api:OTEL_TRACES_SAMPLER=always_off
measure "product by id, cache on, traces off" "$api/api/v1/products/1"
measure "first page, cache on, traces off" "$api/api/v1/products"
graph_stop

# 3. Cache off: every read is a query on the read replica.
start_graph --Services:catalog-api:Catalog:Cache:Enabled=false
measure "product by id, cache off (replica), traces sampled as shipped" "$api/api/v1/products/1"
measure "first page, cache off (replica), traces sampled as shipped" "$api/api/v1/products"
