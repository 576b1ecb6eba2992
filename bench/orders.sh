#!/usr/bin/env bash
# Order throughput end to end (POST to Confirmed) against the running graph (AppHost in Release, processes mode):
# (1) sustained: wrk posts orders for DURATION seconds from 500 buyers, then we wait until every order is decided and
#     report intake/s, decided/s (first submit to last decision) and the submit-to-decision time percentiles;
# (2) backlog drain: both Ordering.Worker processes are paused (SIGSTOP) while BACKLOG orders are accepted and relayed
#     to RabbitMQ, then resumed (SIGCONT); we report the time until every one of them is decided.
# Stock is raised first so orders are confirmed (the path with the most work). Times come from the orders' own
# SubmittedAt/CompletedAt columns, read with psql using the connection string Catalog.Api was given.
# Usage: bench/orders.sh   (DURATION=30 BACKLOG=10000 THREADS=2 CONNECTIONS=32 to change; TRACES=off records no traces)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-30}; backlog=${BACKLOG:-10000}
threads=${THREADS:-2}; connections=${CONNECTIONS:-32}

scripts/prerequisites.sh wrk postgresql-client
dotnet build AspireShop.sln -c Release --nologo -v quiet -clp:ErrorsOnly

source bench/graph.sh
export GRAPH_CONFIGURATION=Release
workers=""
finish() {
  [ -n "$workers" ] && kill -CONT $workers 2>/dev/null || true
  graph_stop
}
trap finish EXIT

settings=()
if [ "${TRACES:-on}" = off ]; then
  for service in catalog-api ordering-worker web-blazor; do settings+=("--Services:$service:OTEL_TRACES_SAMPLER=always_off"); done
fi

key=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
graph_start /tmp/orders-bench-apphost.log --Parameters:buyer-token-signing-key="$key" "${settings[@]}"
api=$(graph_service_url Catalog.Api)

# psql settings from the connection string Catalog.Api runs with (Host=...;Port=...;Username=...;Password=...;Database=...).
api_pid=$(pgrep -f "/Catalog.Api/bin/Release/.*/Catalog.Api" | head -1)
connection=$(tr '\0' '\n' <"/proc/$api_pid/environ" | sed -n 's/^ConnectionStrings__catalogdb=//p')
field() { echo "$connection" | tr ';' '\n' | sed -n "s/^$1=//Ip" | head -1; }
export PGHOST=$(field Host) PGPORT=$(field Port) PGUSER=$(field Username) PGPASSWORD=$(field Password) PGDATABASE=$(field Database)
sql() { psql -qAtX -c "$1"; }

# HS256 tokens as Web.Blazor issues them (issuer aspireshop-web, audience aspireshop-orders), one per buyer.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
tokens=$(mktemp)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
expires=$(( $(date +%s) + 3600 ))
for i in $(seq 1 500); do
  payload=$(printf '{"iss":"aspireshop-web","aud":"aspireshop-orders","sub":"load-buyer-%d","exp":%d}' "$i" "$expires" | b64url)
  signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$key" -binary | b64url)
  echo "$header.$payload.$signature" >>"$tokens"
done

sql "UPDATE products SET \"AvailableStock\" = 10000000"
percentiles="percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM \"CompletedAt\" - \"SubmittedAt\") * 1000)"

wait_decided() { # since-timestamp -> waits until no order submitted since then is undecided
  until [ "$(sql "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$1' AND \"Status\" = 'Submitted'")" = 0 ]; do sleep 0.2; done
}

report() { # since-timestamp label
  sql "SELECT count(*), count(*) FILTER (WHERE \"Status\" = 'Confirmed'),
              round(count(*) / extract(epoch FROM max(\"CompletedAt\") - min(\"SubmittedAt\"))),
              (SELECT string_agg(round(p::numeric)::text, ' / ') FROM unnest($percentiles) p)
       FROM ordering.orders WHERE \"SubmittedAt\" >= '$1'" | awk -F'|' -v label="$2" \
    '{ printf "| %s | %s | %s | %s | %s ms |\n", label, $1, $2, $3, $4 }'
}

echo "$(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; wrk -t$threads -c$connections; traces ${TRACES:-on}; $(date -u +%F)"
echo

# Warm-up: JIT and connection pools, so the measured runs see steady state.
since=$(sql "SELECT now()")
wrk -t"$threads" -c"$connections" -d15s -s bench/orders.lua "$api" -- "$tokens" >/dev/null
wait_decided "$since"

echo "| run | orders | confirmed | decided/s (first submit to last decision) | submit to decision p50 / p90 / p99 |"
echo "|---|---|---|---|---|"
since=$(sql "SELECT now()")
cpu=$(mktemp)
bench/cpu-share.sh $(( duration - 2 )) >"$cpu" &
cpu_pid=$!
out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s bench/orders.lua "$api" -- "$tokens")
wait "$cpu_pid" # not a bare wait: the AppHost is a background job of this shell too
if echo "$out" | grep -q "Non-2xx"; then echo "orders: non-2xx responses: $out" >&2; exit 1; fi
wait_decided "$since"
report "$since" "sustained, ${duration}s of POSTs"
intake=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); post_p99=$(echo "$out" | awk '$1 == "99%" {print $2}')

workers=$(pgrep -f "/Ordering.Worker/bin/Release/.*/Ordering.Worker" | tr '\n' ' ')
since=$(sql "SELECT now()")
kill -STOP $workers
# wrk runs for a fixed time, so it is stopped (SIGINT: it ends cleanly) once the backlog is reached.
wrk -t"$threads" -c"$connections" -d600s -s bench/orders.lua "$api" -- "$tokens" >/dev/null &
load=$!
until (( $(sql "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since'") >= backlog )); do sleep 0.5; done
kill -INT "$load"
wait "$load" || true
until [ "$(sql "SELECT count(*) FROM ordering.outbox WHERE \"SentAt\" IS NULL")" = 0 ]; do sleep 0.2; done
accepted=$(sql "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since'")
resumed=$(date +%s.%N)
kill -CONT $workers
wait_decided "$since"
drained=$(date +%s.%N)
printf '| backlog drain: %s orders queued, workers resumed | %s | | %s | drain time %.1f s |\n' "$accepted" "$accepted" \
  "$(echo "$accepted / ($drained - $resumed)" | bc)" "$(echo "$drained - $resumed" | bc)"
echo
echo "POST /api/v1/orders during the sustained run: $intake req/s, p99 $post_p99"
echo
echo "CPU during the sustained run:"
echo
cat "$cpu"
