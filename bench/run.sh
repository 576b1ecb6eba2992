#!/usr/bin/env bash
# The shop's load tests: wrk against the graph the AppHost starts (Release, processes mode), with the results written
# as markdown tables into docs/benchmarks.md (between the scenario's markers) and printed.
#
#   bench/run.sh [all|load|scaling|orders|soak]    default: all (= load, then scaling; orders and soak are separate)
#
# load     one graph, in this order: (1) the bare-Kestrel ceiling (bench/KestrelCeiling, the same product JSON from
#          memory); (2) Catalog.Api product by id, cached; (3) the same at half the rate of (2), for p99 at a load the
#          API is not saturated by; (4) the API read mix (bench/reads.lua: by id 70%, filtered list pages 20%, search
#          10%, over the whole catalog); (5) the shop front (bench/shop.lua: Web.Blazor catalog and product pages);
#          (6) orders at a fixed rate (ORDER_RATE/s, below what this machine sustains, so the latencies are those of a
#          shop keeping up, not of a growing queue), POST to Confirmed measured from the orders' own timestamps,
#          and every accepted order checked to be in the database; (7) a backlog drain (workers paused while
#          BACKLOG orders queue, then resumed).
# scaling  the read mix through the orchestrator's proxy (which spreads connections over replicas) with Catalog.Api
#          at 1 and 2 replicas, cache on and off; then orders flat out with 1 and 2 order shards: six graph starts.
# orders   the order pipeline at rising rates (ORDER_RATES) on one graph: POSTs answered, orders decided per second end
#          to end, CPU ms per order by program, statements and commits per order; the highest rate it keeps up with.
# soak     SOAK_MINUTES of the read mix, the shop front and orders together; every service process's memory (RSS) at
#          the start, its peak and at the end.
#
# Every run: WARMUP seconds of the same load first (the JIT needs it), then DURATION seconds measured. Every response
# status is checked: non-2xx answers and socket errors are counted, and a run with more than 0.1% of them fails the
# command (after its table is written). wrk hits each service's own port, not the dashboard's proxy, except in the
# scaling run. Settings: WARMUP=30 DURATION=30 THREADS=2 CONNECTIONS=32 ORDER_RATE=40 ORDER_RATES="100 250 500 1000"
# BACKLOG=5000 SOAK_MINUTES=10
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
warmup=${WARMUP:-30}; duration=${DURATION:-30}
threads=${THREADS:-2}; connections=${CONNECTIONS:-32}
order_rate=${ORDER_RATE:-40}; order_rates=${ORDER_RATES:-100 250 500 1000}; backlog=${BACKLOG:-5000}; soak_minutes=${SOAK_MINUTES:-10}
export WRK_CONNECTIONS=$connections

scripts/prerequisites.sh wrk postgresql-client
dotnet build AspireShop.sln -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build bench/KestrelCeiling -c Release --nologo -v quiet -clp:ErrorsOnly

source bench/graph.sh
export GRAPH_CONFIGURATION=Release
ceiling_pid=""; workers=""; failed=0
cleanup() {
  [ -n "$workers" ] && kill -CONT $workers 2>/dev/null || true
  [ -n "$ceiling_pid" ] && kill "$ceiling_pid" 2>/dev/null || true
  graph_stop
}
trap cleanup EXIT

key=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
tokens=$(mktemp)

# A load run keeps 1% of traces (OpenTelemetry's standard sampler settings, parent-based so a trace is kept or dropped
# whole); `run-shop.sh` keeps them all, as a developer expects on the dashboard.
sampled_traces() {
  local service
  for service in catalog-api ordering-api ordering-worker web-blazor; do
    printf -- '--Services:%s:OTEL_TRACES_SAMPLER=parentbased_traceidratio --Services:%s:OTEL_TRACES_SAMPLER_ARG=0.01 ' "$service" "$service"
  done
}

# Statements executed and transactions committed so far, summed over the catalog primary and every order shard
# (pg_stat_statements and pg_stat_database): "statements|commits".
database_work() {
  { sql "SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements)::bigint, (SELECT sum(xact_commit) FROM pg_stat_database)::bigint"
    graph_shards_sql "SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements)::bigint, (SELECT sum(xact_commit) FROM pg_stat_database)::bigint"
  } | awk -F'|' '{ s += $1; c += $2 } END { printf "%d|%d\n", s, c }'
}

# wrk is one client: the anonymous per-client limit (2,000/s) would throttle it.
start_graph() {
  # The scale-out shape (two of each service, two order shards) that the published numbers were measured on.
  graph_start /tmp/bench-run-apphost.log --Scale:Topology=ScaleOut --Parameters:buyer-token-signing-key="$key" \
    --Services:catalog-api:RateLimiting:AnonymousPerSecond=100000000 --Services:catalog-api:RateLimiting:AuthenticatedPerSecond=100000000 \
    --Services:ordering-api:RateLimiting:AnonymousPerSecond=100000000 --Services:ordering-api:RateLimiting:AuthenticatedPerSecond=100000000 \
    $(sampled_traces) "$@"
  api=$(graph_service_url Catalog.Api)
  orders_api=$(graph_service_url Ordering.Api)
  web=$(graph_service_url Web.Blazor)
  graph_psql_env
  sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  graph_shards_sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
}

sql() { psql -qAtX -c "$1"; }

machine() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem/ {print $2}') GiB;" \
    "$(. /etc/os-release && echo "$PRETTY_NAME"); .NET SDK $(dotnet --version); $(psql --version | cut -d' ' -f3 | sed 's/^/PostgreSQL /');" \
    "Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2); RabbitMQ $(dpkg-query -W -f '${Version}' rabbitmq-server 2>/dev/null | cut -d- -f1);" \
    "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); measured $(date -u '+%F %H:%M') UTC"
}

table_header() {
  echo "| scenario | req/s | p50 | p90 | p99 | errors |"
  echo "|---|---|---|---|---|---|"
}

# errors_in WRK_OUTPUT: non-2xx answers plus socket errors (connect, read, write, timeout).
errors_in() {
  echo "$1" | awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}'
}

# measure LABEL URL [SCRIPT [SCRIPT ARGS...]]: warm-up, measured run, one table row. Sets rps, and accepted (2xx
# answers in the warm-up and the measured run together).
measure() {
  local label=$1 url=$2 script=${3:-} warm out requests errors share
  local args=(-t"$threads" -c"$connections")
  [ -n "$script" ] && args+=(-s "$script")
  local extra=("${@:4}")
  warm=$(wrk "${args[@]}" -d"${warmup}s" "$url" ${extra[@]+-- "${extra[@]}"})
  out=$(wrk "${args[@]}" -d"${duration}s" --latency "$url" ${extra[@]+-- "${extra[@]}"})
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  errors=$(errors_in "$out")
  accepted=$(( requests - errors + $(echo "$warm" | awk '/requests in/ {print $1}') - $(errors_in "$warm") ))
  share=$(echo "scale=3; 100 * $errors / $requests" | bc)
  printf '| %s | %s | %s | %s | %s | %s (%s%%) |\n' "$label" "$rps" \
    "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "90%" {print $2}')" \
    "$(echo "$out" | awk '$1 == "99%" {print $2}')" "$errors" "$share"
  if (( $(echo "$share > 0.1" | bc) )); then
    echo "$label: $errors of $requests responses were errors; wrk said:" >&2
    echo "$out" >&2
    failed=1
  fi
}

# paced LABEL URL SCRIPT ARGS...: measure at a target rate (the script's rate argument). More connections, each
# waiting longer between requests, keep the achieved rate closer to the target (a connection's cycle is its wait plus
# the response time); the req/s column says what was achieved.
paced() {
  local connections=$(( connections * 4 ))
  WRK_CONNECTIONS=$connections measure "$@"
}

# publish SECTION FILE: replaces what docs/benchmarks.md holds between the section's markers with FILE.
publish() {
  python3 - "$1" "$2" <<'PY'
import re, sys
section, path = sys.argv[1], sys.argv[2]
docs = open("docs/benchmarks.md").read()
begin, end = f"<!-- bench/run.sh {section} -->", f"<!-- /bench/run.sh {section} -->"
block = f"{begin}\n{open(path).read().rstrip()}\n{end}"
pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
docs = pattern.sub(lambda _: block, docs) if pattern.search(docs) else docs.rstrip() + "\n\n" + block + "\n"
open("docs/benchmarks.md", "w").write(docs)
PY
}

wait_decided() { # since-timestamp: waits until no order submitted since then is undecided, on any shard
  until [ "$(graph_shards_count "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$1' AND \"Status\" = 'Submitted'")" = 0 ]; do
    sleep 0.2
  done
}

end_to_end() { # since-timestamp: "orders|decided per second|p50 / p90 / p99 ms" over every shard
  graph_shards_sql "SELECT extract(epoch FROM \"SubmittedAt\"), extract(epoch FROM \"CompletedAt\")
                    FROM ordering.orders WHERE \"SubmittedAt\" >= '$1' AND \"CompletedAt\" IS NOT NULL" | python3 -c '
import sys
rows = [tuple(map(float, line.split("|"))) for line in sys.stdin if line.strip()]
if not rows:
    print("0|0|-"); sys.exit()
times = sorted((done - submitted) * 1000 for submitted, done in rows)
pick = lambda q: round(times[min(len(times) - 1, int(q * len(times)))])
span = max(done for _, done in rows) - min(submitted for submitted, _ in rows)
print(f"{len(rows)}|{round(len(rows) / max(span, 0.001))}|{pick(0.5)} / {pick(0.9)} / {pick(0.99)}")'
}

load() {
  local out
  out=$(mktemp)
  start_graph
  graph_buyer_tokens "$key" 500 "$tokens"
  sql "UPDATE products SET \"AvailableStock\" = 10000000" >/dev/null
  {
    echo "Command: \`bench/run.sh load\`; wrk -t$threads -c$connections, ${warmup} s warm-up then ${duration} s measured per row."
    echo "Machine: $(machine)."
    echo
    table_header

    local body=$(mktemp) ceiling_port=5980 ceiling_rps by_id_rps
    curl -s "$api/api/v1/products/1" >"$body"
    dotnet bench/KestrelCeiling/bin/Release/net10.0/KestrelCeiling.dll --urls "http://127.0.0.1:$ceiling_port" --Body="$body" >/dev/null 2>&1 &
    ceiling_pid=$!
    until curl -sf "http://127.0.0.1:$ceiling_port/product" >/dev/null; do sleep 0.1; done
    measure "(1) bare Kestrel, the same product JSON from memory (ceiling)" "http://127.0.0.1:$ceiling_port/product"
    ceiling_rps=$rps
    kill "$ceiling_pid"; wait "$ceiling_pid" 2>/dev/null || true; ceiling_pid=""

    measure "(2) API product by id, cached, flat out" "$api/api/v1/products/1"
    by_id_rps=$rps
    paced "(3) API product by id, cached, paced to half of (2): $(( by_id_rps / 2 ))/s" "$api" bench/product.lua "$(( by_id_rps / 2 ))"
    measure "(4) API read mix: by id 70%, list pages 20%, search 10%" "$api" bench/reads.lua
    measure "(5) shop front: catalog and product pages" "$web" bench/shop.lua

    local since accepted found decided work_before work_after
    since=$(sql "SELECT now()")
    work_before=$(database_work)
    local cpu
    cpu=$(mktemp)
    bench/cpu-share.sh $(( warmup + duration - 2 )) >"$cpu" &
    local cpu_pid=$!
    paced "(6) orders paced to $order_rate/s (POST answered)" "$orders_api" bench/orders.lua "$tokens" "$order_rate"
    wait "$cpu_pid" # not a bare wait: the AppHost is a background job of this shell too
    wait_decided "$since"
    until [ "$(graph_shards_count "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since' AND \"MailSentAt\" IS NULL")" = 0 ]; do
      sleep 0.2
    done
    work_after=$(database_work)
    found=$(graph_shards_count "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since'")
    IFS='|' read -r decided per_second percentiles <<<"$(end_to_end "$since")"
    echo
    echo "- Ceiling ratio: product by id cached is **$(( 100 * by_id_rps / ceiling_rps ))%** of bare Kestrel in the same run (aim: 60% or more)."
    echo "- (6) end to end, POST to Confirmed or Rejected (warm-up included): $decided orders decided at $per_second/s," \
      "p50 / p90 / p99 **$percentiles ms**. Accepted by the API (2xx, warm-up and measured run): $accepted; found in the" \
      "database afterwards: $found, so **$(( found >= accepted ? 0 : accepted - found )) lost** (more found than accepted" \
      "would be requests wrk gave up on that the API still took)."
    echo "- (6) database work per order, intake to mail sent, over every server (pg_stat_statements, pg_stat_database;" \
      "includes the graph's background samplers and health checks over the same minute):" \
      "**$(( (${work_after%|*} - ${work_before%|*}) / found )) statements** and **$(( (${work_after#*|} - ${work_before#*|}) / found )) commits**."

    # Backlog drain: the workers stop taking messages while orders are accepted and relayed, then resume.
    workers=$(pgrep -f "/Ordering.Worker/bin/Release/.*/Ordering.Worker" | tr '\n' ' ')
    since=$(sql "SELECT now()")
    kill -STOP $workers
    WRK_CONNECTIONS=$connections wrk -t"$threads" -c"$connections" -d600s -s bench/orders.lua "$orders_api" -- "$tokens" >/dev/null &
    local load_pid=$!
    until (( $(graph_shards_count "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since'") >= backlog )); do sleep 0.5; done
    kill -INT "$load_pid"; wait "$load_pid" || true
    until [ "$(graph_shards_count "SELECT count(*) FROM ordering.outbox WHERE \"SentAt\" IS NULL")" = 0 ]; do sleep 0.2; done
    accepted=$(graph_shards_count "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since'")
    local resumed drained
    resumed=$(date +%s.%N)
    kill -CONT $workers; workers=""
    wait_decided "$since"
    drained=$(date +%s.%N)
    echo
    echo "CPU by program while orders were placed (warm-up and measured run of (6)):"
    echo
    cat "$cpu"
    echo
    printf -- '- (7) Backlog drain: %s orders queued while both workers were paused, all decided %.1f s after they resumed: **%s orders/s**.\n' \
      "$accepted" "$(echo "$drained - $resumed" | bc)" "$(echo "$accepted / ($drained - $resumed)" | bc)"
  } >"$out"
  graph_stop
  publish load "$out"
  cat "$out"
}

scaling() {
  local out
  out=$(mktemp)
  {
    echo "Command: \`bench/run.sh scaling\`; the read mix (bench/reads.lua) through the orchestrator's proxy" \
      "(\`http://localhost:5101\`, which gives each new connection the next replica), wrk -t$threads -c$connections," \
      "${warmup} s warm-up then ${duration} s measured; a fresh graph per row."
    echo "Machine: $(machine)."
    echo
    table_header
    local replicas cache
    for cache in true false; do
      for replicas in 1 2; do
        start_graph --Scale:CatalogApis=$replicas --Services:catalog-api:Catalog:Cache:Enabled=$cache
        measure "read mix, Catalog.Api x$replicas, cache $([ $cache = true ] && echo on || echo off)" "http://localhost:5101" bench/reads.lua
        graph_stop
      done
    done
    local shards since decided per_second percentiles
    for shards in 1 2; do
      start_graph --Scale:OrderShards=$shards
      graph_buyer_tokens "$key" 500 "$tokens"
      sql "UPDATE products SET \"AvailableStock\" = 10000000" >/dev/null
      since=$(sql "SELECT now()")
      measure "orders flat out (POST answered), $shards order shard(s)" "$orders_api" bench/orders.lua "$tokens"
      wait_decided "$since"
      IFS='|' read -r decided per_second percentiles <<<"$(end_to_end "$since")"
      echo "| ... decided end to end, $shards order shard(s) | $per_second | ${percentiles// \/ / ms \| } ms | | |"
      graph_stop
    done
  } >"$out"
  publish scaling "$out"
  cat "$out"
}

# orders: how fast the order pipeline goes end to end. One graph; orders paced at each rate of ORDER_RATES for
# WARMUP + DURATION seconds, then whatever is still undecided (and its mail) waited out. Per rate: POSTs answered,
# orders decided per second and submit-to-decision percentiles from the orders' own timestamps, CPU ms per order by
# program (bench/cpu-share.sh over the paced run), and statements and commits per order over every database server.
orders() {
  local out cpu row rate since work_before work_after found decided per_second percentiles cpu_pid
  out=$(mktemp); cpu=$(mktemp); row=$(mktemp)
  start_graph
  graph_buyer_tokens "$key" 500 "$tokens"
  sql "UPDATE products SET \"AvailableStock\" = 10000000" >/dev/null
  {
    echo "Command: \`ORDER_RATES=\"$order_rates\" WARMUP=$warmup DURATION=$duration bench/run.sh orders\`; per rate, bench/orders.lua paced with" \
      "wrk -t$threads -c$(( connections * 4 )) for $(( warmup + duration )) s, then the orders still undecided waited out."
    echo "Machine: $(machine)."
    echo
    echo "| offered/s | POST answered/s | POST p50 / p99 | errors | decided/s end to end | submit to decision p50 / p90 / p99 | CPU ms per order: graph, Ordering.Api, Ordering.Worker, postgres, RabbitMQ, dashboard | statements / commits per order |"
    echo "|---|---|---|---|---|---|---|---|"
    for rate in $order_rates; do
      since=$(sql "SELECT now()")
      work_before=$(database_work)
      bench/cpu-share.sh $(( warmup + duration )) >"$cpu" &
      cpu_pid=$!
      paced "orders paced to $rate/s" "$orders_api" bench/orders.lua "$tokens" "$rate" >"$row"
      wait "$cpu_pid"
      wait_decided "$since"
      until [ "$(graph_shards_count "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since' AND \"MailSentAt\" IS NULL")" = 0 ]; do
        sleep 0.2
      done
      work_after=$(database_work)
      found=$(graph_shards_count "SELECT count(*) FROM ordering.orders WHERE \"SubmittedAt\" >= '$since'")
      IFS='|' read -r decided per_second percentiles <<<"$(end_to_end "$since")"
      per_order() { awk -F'|' -v p="$1" -v n="$found" '$2 ~ p {s += $3} END {printf "%.1f", 1000 * s / n}' "$cpu"; }
      awk -F'|' -v rate="$rate" -v decided="$per_second" -v e2e="$percentiles ms" -v cpu="$(per_order '\\(all\\)') ($(per_order 'Ordering.Api'), $(per_order 'Ordering.Worker'), $(per_order 'postgres'), $(per_order 'beam.smp'), $(per_order 'Aspire.Dashboar'))" \
        -v work="$(( (${work_after%|*} - ${work_before%|*}) / found )) / $(( (${work_after#*|} - ${work_before#*|}) / found ))" \
        '{gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4); gsub(/^ +| +$/, "", $6); gsub(/^ +| +$/, "", $7);
          printf "| %s | %s | %s / %s | %s | %s | %s | %s | %s |\n", rate, $3, $4, $6, $7, decided, e2e, cpu, work}' "$row"
    done
  } >"$out"
  graph_stop
  publish orders "$out"
  cat "$out"
}

rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }

soak() {
  local out pids pid name
  out=$(mktemp)
  start_graph
  graph_buyer_tokens "$key" 500 "$tokens"
  sql "UPDATE products SET \"AvailableStock\" = 10000000" >/dev/null
  # Warm up first, so "start" is the memory of a service that has run, not of one that has just been launched.
  wrk -t1 -c8 -d"${warmup}s" -s bench/reads.lua "$api" >/dev/null
  declare -A start peak
  pids=$(pgrep -f "/(Catalog.Api|Ordering.Api|Ordering.Worker|Web.Blazor)/bin/Release/.*/(Catalog.Api|Ordering.Api|Ordering.Worker|Web.Blazor)(\.dll)?$")
  for pid in $pids; do start[$pid]=$(rss_mb "$pid"); peak[$pid]=${start[$pid]}; done

  local seconds=$(( soak_minutes * 60 )) since
  since=$(sql "SELECT now()")
  WRK_CONNECTIONS=8 wrk -t1 -c8 -d"${seconds}s" -s bench/reads.lua "$api" >/tmp/soak-reads.txt &
  local reads=$!
  WRK_CONNECTIONS=8 wrk -t1 -c8 -d"${seconds}s" -s bench/shop.lua "$web" >/tmp/soak-shop.txt &
  local shop=$!
  WRK_CONNECTIONS=8 wrk -t1 -c8 -d"${seconds}s" -s bench/orders.lua "$orders_api" -- "$tokens" 20 >/tmp/soak-orders.txt &
  local orders=$!
  local deadline=$(( $(date +%s) + seconds ))
  while (( $(date +%s) < deadline )); do
    for pid in $pids; do
      local now; now=$(rss_mb "$pid")
      (( now > peak[$pid] )) && peak[$pid]=$now
    done
    sleep 10
  done
  wait "$reads" "$shop" "$orders"
  wait_decided "$since"
  {
    echo "Command: \`bench/run.sh soak\` ($soak_minutes minutes): the read mix and the shop front flat out on 8 connections each," \
      "and orders at 20/s on 8 more, all at once; resident memory (VmRSS) of every service process after a ${warmup} s warm-up" \
      "(start), its highest 10-second sample, and at the end. Aim: no service above 250 MB after the soak."
    echo "Machine: $(machine)."
    echo
    echo "| process | pid | RSS at start (MB) | peak (MB) | at end (MB) | under 250 MB at end |"
    echo "|---|---|---|---|---|---|"
    for pid in $pids; do
      name=$(tr '\0' ' ' <"/proc/$pid/cmdline" | grep -oE '(Catalog.Api|Ordering.Api|Ordering.Worker|Web.Blazor)' | head -1)
      local end; end=$(rss_mb "$pid")
      echo "| $name | $pid | ${start[$pid]} | ${peak[$pid]} | $end | $( (( end < 250 )) && echo yes || echo '**no**') |"
    done
    echo
    echo "During the soak: read mix $(awk '/Requests\/sec/ {printf "%.0f", $2}' /tmp/soak-reads.txt) req/s," \
      "shop front $(awk '/Requests\/sec/ {printf "%.0f", $2}' /tmp/soak-shop.txt) req/s," \
      "orders $(awk '/Requests\/sec/ {printf "%.0f", $2}' /tmp/soak-orders.txt)/s; errors (non-2xx + socket):" \
      "$(errors_in "$(cat /tmp/soak-reads.txt /tmp/soak-shop.txt /tmp/soak-orders.txt)")."
  } >"$out"
  graph_stop
  publish soak "$out"
  cat "$out"
}

case "$mode" in
  all) load; scaling ;;
  load) load ;;
  scaling) scaling ;;
  orders) orders ;;
  soak) soak ;;
  *) echo "usage: bench/run.sh [all|load|scaling|orders|soak]" >&2; exit 2 ;;
esac

if (( failed )); then
  echo "bench/run.sh: at least one run had more than 0.1% errors (above)" >&2
  exit 1
fi
