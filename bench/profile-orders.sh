#!/usr/bin/env bash
# bench/profile-orders.sh: dotnet-trace (sampled thread time, ~100 Hz per thread) of one Ordering.Worker and one
# Ordering.Api process for 20 s while wrk offers 700 orders/s to the ScaleOut graph (Release, 1% of traces kept).
# Traces in /tmp/worker.nettrace and /tmp/api.nettrace; read them with
#   dotnet-trace report /tmp/worker.nettrace topN --inclusive -n 150
# Needs dotnet-trace: dotnet tool install -g dotnet-trace
set -euo pipefail
export PATH="$PATH:$HOME/.dotnet/tools"
cd "$(dirname "$0")/.."
dotnet build -c Release AspireShop.sln --nologo -v q -clp:ErrorsOnly
source bench/graph.sh
export GRAPH_CONFIGURATION=Release
trap graph_stop EXIT
graph_signing_key=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
tokens=$(mktemp)
args=""
for service in catalog-api ordering-api ordering-worker web-blazor; do
  args="$args --Services:$service:OTEL_TRACES_SAMPLER=parentbased_traceidratio --Services:$service:OTEL_TRACES_SAMPLER_ARG=0.01"
done
graph_start /tmp/profile-apphost.log --Scale:Topology=ScaleOut \
  --Services:ordering-api:RateLimiting:AnonymousPerSecond=100000000 --Services:ordering-api:RateLimiting:AuthenticatedPerSecond=100000000 $args
orders_api=$(graph_service_url Ordering.Api)
graph_buyer_tokens 500 "$tokens"
WRK_CONNECTIONS=128 wrk -t2 -c128 -d45s -s bench/orders.lua "$orders_api" -- "$tokens" 700 > /tmp/profile-wrk.txt &
wrk_pid=$!
sleep 12
worker=$(pgrep -f "/Ordering.Worker/bin/Release/.*/Ordering.Worker" | head -1)
api=$(pgrep -f "/Ordering.Api/bin/Release/.*/Ordering.Api" | head -1)
dotnet-trace collect -p "$worker" --profile dotnet-sampled-thread-time --duration 00:00:00:20 -o /tmp/worker.nettrace > /tmp/trace-worker.log 2>&1 &
dotnet-trace collect -p "$api" --profile dotnet-sampled-thread-time --duration 00:00:00:20 -o /tmp/api.nettrace > /tmp/trace-api.log 2>&1 &
wait $wrk_pid
wait
cat /tmp/profile-wrk.txt | tail -8
