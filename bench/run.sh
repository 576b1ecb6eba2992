#!/usr/bin/env bash
# The shop's load tests: wrk against the graph the AppHost starts (Release, processes mode, traces sampled as the shop
# ships: up to 5 traces a second started per service, see ServiceDefaults), with the results written as markdown
# tables into docs/benchmarks.md (between the scenario's markers) and printed.
#
#   bench/run.sh [all|load|scaling|orders|soak]    default: all (= load, then scaling; orders and soak are separate)
#
# load     one graph, in this order: (1) the bare-Kestrel ceiling (bench/KestrelCeiling, the same product JSON from
#          memory); (2) Catalog.Api product by id, cached; (3) the same at half the rate of (2), for p99 at a load the
#          API is not saturated by; (4) the API read mix (bench/reads.lua: by id 70%, filtered list pages 20%, search
#          10%, over the whole catalog); (5) the shop front (bench/shop.lua: Web.Blazor catalog and product pages);
#          (6) orders at a fixed rate (ORDER_RATE/s, below what this machine sustains, so the latencies are those of a
#          shop keeping up, not of a growing queue), POST to Confirmed measured from the orders' own timestamps,
#          every order matched by identity (below), CPU counted until its last order is decided and mailed; (7) a
#          backlog drain (workers paused while BACKLOG orders queue, then resumed), its orders matched too.
# scaling  the read mix through the orchestrator's proxy (which spreads connections over replicas) with Catalog.Api
#          at 1 and 2 replicas, cache on and off; then orders flat out with 1 and 2 order shards: six graph starts.
# orders   the order pipeline at rising rates (ORDER_RATES; "max" is a closed loop at the limit, 2 x CONNECTIONS
#          connections each sending its next order as soon as the last is answered) on one graph of ORDER_TOPOLOGY
#          (ScaleOut or Lean) with ORDER_MIX (uniform: one line, any product; hot: 1-4 lines, a few products in most
#          orders; see bench/orders.lua), after ORDER_PREWARM seconds of unmeasured orders for the JIT: POSTs answered,
#          orders matched by identity, orders decided per second end to end, CPU ms per order (the whole machine, then by program), statements and
#          commits per order; the highest rate it keeps up with.
# soak     SOAK_MINUTES of the read mix, the shop front and orders together; every service process's memory (RSS) at
#          the start, its peak and at the end.
#
# Every run: WARMUP seconds of the same load first (the JIT needs it), then DURATION seconds measured. Every response
# status is checked: non-2xx answers and socket errors are counted, and a run with more than 0.1% of them fails the
# command (after its table is written). wrk hits each service's own port, not the dashboard's proxy, except in the
# scaling run.
#
# Orders are matched by identity, not by count (a count lets an extra order hide a lost one): bench/orders.lua records
# the buyer and key of every request and the order id of every 202 answer, and once the run has drained, the order
# shards are asked for the run's orders. Printed per run: accepted (202 answers), stored, lost (answered 202, not
# stored), extra (stored, not answered 202), doubled (one buyer and key stored more than once). A lost or doubled
# order, or records that do not add up to wrk's own count of answers, fails the command with a LOST, DOUBLED or
# RECORDS INCOMPLETE line.
#
# CPU per order is the whole machine's busy time (/proc/stat) from the start of the warm-up until the last order of the
# run is decided and its mail sent, over the orders stored; bench/cpu-share.sh also splits it by program, counting the
# processes that start or end inside the window (PostgreSQL backends, wrk, psql) through the parents that reap them.
#
# Settings: WARMUP=30 DURATION=30 THREADS=2 CONNECTIONS=32 ORDER_RATE=40 ORDER_RATES="100 250 500 1000" ORDER_TOPOLOGY=ScaleOut
# ORDER_MIX=uniform ORDER_PREWARM=60 BACKLOG=5000 SOAK_MINUTES=10; GRAPH_ARGS: more AppHost arguments for every graph,
# e.g. "--Services:ordering-worker:DOTNET_GCgen0size=0x1000000" to try a runtime setting on one service
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
warmup=${WARMUP:-30}; duration=${DURATION:-30}
threads=${THREADS:-2}; connections=${CONNECTIONS:-32}
order_rate=${ORDER_RATE:-40}; order_rates=${ORDER_RATES:-100 250 500 1000}; order_topology=${ORDER_TOPOLOGY:-ScaleOut}; order_mix=${ORDER_MIX:-uniform}; order_prewarm=${ORDER_PREWARM:-60}; backlog=${BACKLOG:-5000}; soak_minutes=${SOAK_MINUTES:-10}
export WRK_CONNECTIONS=$connections

scripts/prerequisites.sh wrk postgresql-client
dotnet build AspireShop.sln -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build bench/KestrelCeiling -c Release --nologo -v quiet -clp:ErrorsOnly

source bench/graph.sh
export GRAPH_CONFIGURATION=Release
ceiling_pid=""; workers=""; failures=()
cleanup() {
  [ -n "$workers" ] && kill -CONT $workers 2>/dev/null || true
  [ -n "$ceiling_pid" ] && kill "$ceiling_pid" 2>/dev/null || true
  graph_stop
}
trap cleanup EXIT

graph_signing_key=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
tokens=$(mktemp)
buyers_sql=""

# fail REASON: the command will exit non-zero once every table is written; said now and again at the end.
fail() {
  failures+=("$1")
  echo "bench/run.sh: $1" >&2
}

# buyer_tokens: signs the load's 500 buyer tokens, and keeps their buyers (the tokens' subjects, which the API stores
# as the orders' BuyerId) as an SQL array, to find the run's orders by.
buyer_tokens() {
  graph_buyer_tokens 500 "$tokens"
  buyers_sql=$(python3 -c '
import base64, json, sys
def subject(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
quote = chr(39)
buyers = [subject(line.strip()) for line in open(sys.argv[1]) if line.strip()]
print("ARRAY[" + ",".join(quote + b.replace(quote, 2 * quote) + quote for b in buyers) + "]::text[]")' "$tokens")
}

# run_prefix NAME: the start of every Idempotency-Key of one run (bench/orders.lua's ORDERS_RUN), unique to it.
run_prefix() { echo "bench-$1-$(date +%s)"; }

# run_orders SINCE PREFIX: the SQL condition (on orders as o) for the orders of one run: the run's buyers' orders that
# carry its key prefix, or were submitted since it began (an order of theirs under another key would be extra).
run_orders() {
  echo "o.\"BuyerId\" = ANY($buyers_sql) AND (starts_with(o.\"IdempotencyKey\", '$2-') OR o.\"SubmittedAt\" >= '$1')"
}

# wait_drained SINCE PREFIX: waits until every order of the run, on every shard, is decided and has its mail sent
# (MailSentAt set and no row left in ordering.mail_owed), twice in a row with the same number of orders: an order
# whose request wrk gave up on can still be committed by the API after wrk has ended. The query reads every order of
# the run (no index serves it), so it is asked once a second and without parallel workers: asked every 0.2 s, its
# parallel scans took most of a core from the graph it was waiting for, and that CPU counted as the orders' own (the
# rates decided end to end do not depend on it: they come from the orders' own timestamps).
wait_drained() {
  local state previous=""
  while :; do
    state=$(PGOPTIONS="-c max_parallel_workers_per_gather=0" graph_shards_sql "SELECT count(*), count(*) FILTER (WHERE o.\"Status\" = 'Submitted' OR o.\"MailSentAt\" IS NULL OR m.\"OrderId\" IS NOT NULL)
                              FROM ordering.orders o LEFT JOIN ordering.mail_owed m ON m.\"OrderId\" = o.\"Id\"
                              WHERE $(run_orders "$1" "$2")" | awk -F'|' '{ n += $1; open += $2 } END { print n + 0, open + 0 }')
    [ "${state#* }" = 0 ] && [ "$state" = "$previous" ] && return
    previous=$state
    sleep 1
  done
}

# wrk_answers WRK_OUTPUT...: how many answers wrk counted over the runs given ("N requests in").
wrk_answers() { printf '%s\n' "$@" | awk '/requests in/ { n += $1 } END { print n + 0 }'; }

# order_identity LABEL SINCE PREFIX RECORDS ANSWERED: matches what bench/orders.lua recorded for the run (RECORDS) with
# the orders stored for it, by identity: every order id answered 202 must be stored once, and every stored order must
# have been answered 202. ANSWERED is wrk's own count of answers, which the records must match to be complete. Sets
# stored (for the per-order figures), identity (the line to print) and identity_counts ("202 / stored / lost / extra /
# doubled", for a table cell); a lost or doubled order or incomplete records fail the command.
order_identity() {
  local label=$1 since=$2 prefix=$3 records=$4 answered=$5 rows lost_ids counts
  local accepted lost lost_unstored lost_no_id lost_shared extra extra_sent extra_unsent doubled recorded
  rows=$(mktemp); lost_ids=$(mktemp --suffix=.lost-orders)
  graph_shards_sql "SELECT o.\"Id\", o.\"BuyerId\", o.\"IdempotencyKey\" FROM ordering.orders o WHERE $(run_orders "$since" "$prefix")" >"$rows"
  counts=$(python3 -c '
import base64, collections, json, sys
tokens, records, rows, lost_path = sys.argv[1:5]
def subject(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
buyers = [subject(line.strip()) for line in open(tokens) if line.strip()]
sent, ids, answers = set(), [], 0
for line in open(records):
    kind, first, second = line.split()
    if kind == "sent":
        sent.add((buyers[int(first) - 1], second))
    else:
        answers += 1
        if first == "202":
            ids.append(second.lower())
stored = [line.rstrip("\n").split("|") for line in open(rows) if line.strip()]
stored_ids = {order_id.lower() for order_id, _, _ in stored}
answered, unstored, no_id, shared = set(), [], 0, 0
for order_id in ids:
    if order_id in ("-", "?"):
        no_id += 1          # a 202 without an order id: cannot be found, so cannot be shown stored
    elif order_id in answered:
        shared += 1         # two 202s naming one order: one of the two requests has no order of its own
    else:
        answered.add(order_id)
        if order_id not in stored_ids:
            unstored.append(order_id)
open(lost_path, "w").write("".join(order_id + "\n" for order_id in unstored))
extra = [(buyer, key) for order_id, buyer, key in stored if order_id.lower() not in answered]
extra_sent = sum(1 for pair in extra if pair in sent)
doubled = sum(1 for n in collections.Counter((buyer, key) for _, buyer, key in stored).values() if n > 1)
lost = len(unstored) + no_id + shared
print("|".join(map(str, [len(ids), len(stored), lost, len(unstored), no_id, shared, len(extra), extra_sent,
                         len(extra) - extra_sent, doubled, answers])))' "$tokens" "$records" "$rows" "$lost_ids") ||
    { fail "$label: the identity check could not read its records ($records, $rows)"; counts="0|0|0|0|0|0|0|0|0|0|-1"; }
  IFS='|' read -r accepted stored lost lost_unstored lost_no_id lost_shared extra extra_sent extra_unsent doubled recorded <<<"$counts"
  identity="- $label, orders matched by identity (bench/orders.lua's record of every request and answer against the order shards):"
  identity+=" accepted (202) **$accepted**, stored **$stored**, lost **$lost** (answered 202, not stored), extra $extra"
  identity+=" (stored, not answered 202: $extra_sent sent without a 202 answer, $extra_unsent never sent by this run),"
  identity+=" doubled **$doubled** (one buyer and key stored more than once)."
  identity_counts="$accepted / $stored / $( (( lost > 0 )) && echo "**$lost LOST**" || echo 0 ) / $extra / $doubled"
  if (( lost > 0 )); then
    identity+=$'\n'"- **LOST: $lost orders answered 202 are not stored** ($lost_unstored ids in no order shard, listed in $lost_ids;"
    identity+=" $lost_no_id 202 answers without an order id; $lost_shared answers naming an order another answer named)."
    fail "$label: LOST $lost orders answered 202 and not stored (ids in $lost_ids)"
  fi
  if (( doubled > 0 )); then
    identity+=$'\n'"- **DOUBLED: $doubled buyer and key pairs are stored more than once.**"
    fail "$label: DOUBLED $doubled buyer and key pairs stored more than once"
  fi
  if [ "$recorded" != "$answered" ]; then
    identity+=$'\n'"- **RECORDS INCOMPLETE: wrk counted $answered answers, bench/orders.lua recorded $recorded**: the counts above are not proof."
    fail "$label: RECORDS INCOMPLETE, wrk counted $answered answers and bench/orders.lua recorded $recorded"
  fi
  rm -f "$rows"
  (( lost > 0 )) || rm -f "$lost_ids"
}

# cpu_per_order CPU_TABLE ORDERS: CPU ms per order from bench/cpu-share.sh's table: "machine (Ordering.Api,
# Ordering.Worker, postgres, RabbitMQ, dashboard, run.sh with wrk and psql, other)", other being the machine's busy time
# less the programs named.
cpu_per_order() {
  awk -F'|' -v n="$2" '
    { name = $2; gsub(/^ +| +$/, "", name); ms[name] += $3 }
    END {
      if (n < 1) n = 1
      split("Ordering.Api Ordering.Worker postgres beam.smp Aspire.Dashboar run.sh", named, " ")
      for (i = 1; i <= 6; i++) { parts = parts sprintf("%.2f, ", ms[named[i]] / n); listed += ms[named[i]] }
      printf "%.2f (%s%.2f)", ms["(machine busy)"] / n, parts, (ms["(machine busy)"] - listed) / n
    }' "$1"
}

# Statements executed and transactions committed so far, summed over the catalog primary and every order shard
# (pg_stat_statements and pg_stat_database): "statements|commits".
database_work() {
  { sql "SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements)::bigint, (SELECT sum(xact_commit) FROM pg_stat_database)::bigint"
    graph_shards_sql "SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements)::bigint, (SELECT sum(xact_commit) FROM pg_stat_database)::bigint"
  } | awk -F'|' '{ s += $1; c += $2 } END { printf "%d|%d\n", s, c }'
}

# wrk is one client, and sends no cookie: the APIs' per-client limits and the site's per-address and new-buyer limits
# would throttle it.
start_graph() {
  # The scale-out shape (two of each service, two order shards) that the published numbers were measured on.
  graph_start /tmp/bench-run-apphost.log --Scale:Topology=ScaleOut \
    --Services:catalog-api:RateLimiting:AnonymousPerSecond=100000000 --Services:catalog-api:RateLimiting:AuthenticatedPerSecond=100000000 \
    --Services:ordering-api:RateLimiting:AnonymousPerSecond=100000000 --Services:ordering-api:RateLimiting:AuthenticatedPerSecond=100000000 \
    --Services:web-blazor:RateLimiting:PerClientPerSecond=100000000 --Services:web-blazor:RateLimiting:NewBuyersPerSecond=100000000 \
    ${GRAPH_ARGS:-} "$@"
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

# measure LABEL URL [SCRIPT [SCRIPT ARGS...]]: warm-up, measured run, one table row. Sets rps, and answered (wrk's
# count of answers in the warm-up and the measured run together).
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
  answered=$(wrk_answers "$warm" "$out")
  share=$(echo "scale=3; 100 * $errors / $requests" | bc)
  printf '| %s | %s | %s | %s | %s | %s (%s%%) |\n' "$label" "$rps" \
    "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "90%" {print $2}')" \
    "$(echo "$out" | awk '$1 == "99%" {print $2}')" "$errors" "$share"
  if (( $(echo "$share > 0.1" | bc) )); then
    echo "$label: $errors of $requests responses were errors; wrk said:" >&2
    echo "$out" >&2
    fail "$label: more than 0.1% of the responses were errors"
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

end_to_end() { # SINCE PREFIX: "orders|decided per second|p50 / p90 / p99 ms" over every shard, for the run's orders
  graph_shards_sql "SELECT extract(epoch FROM o.\"SubmittedAt\"), extract(epoch FROM o.\"CompletedAt\")
                    FROM ordering.orders o WHERE $(run_orders "$1" "$2") AND o.\"CompletedAt\" IS NOT NULL" | python3 -c '
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
  buyer_tokens
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

    local since prefix records decided per_second percentiles work_before work_after cpu cpu_state
    cpu=$(mktemp); cpu_state=$(mktemp); records=$(mktemp)
    since=$(sql "SELECT now()"); prefix=$(run_prefix load-6)
    work_before=$(database_work)
    # The CPU window opens before the warm-up and closes when the last order is decided and mailed, not when wrk ends:
    # what the pipeline still owes then is work of these orders too.
    bench/cpu-share.sh begin "$cpu_state"
    ORDERS_RUN=$prefix ORDERS_RECORD=$records \
      paced "(6) orders paced to $order_rate/s (POST answered)" "$orders_api" bench/orders.lua "$tokens" "$order_rate"
    wait_drained "$since" "$prefix"
    bench/cpu-share.sh end "$cpu_state" >"$cpu"
    work_after=$(database_work)
    order_identity "(6)" "$since" "$prefix" "$records" "$answered"
    IFS='|' read -r decided per_second percentiles <<<"$(end_to_end "$since" "$prefix")"
    echo
    echo "- Ceiling ratio: product by id cached is **$(( 100 * by_id_rps / ceiling_rps ))%** of bare Kestrel in the same run (aim: 75% or more, #26)."
    echo "- (6) end to end, POST to Confirmed or Rejected (warm-up included): $decided orders decided at $per_second/s," \
      "p50 / p90 / p99 **$percentiles ms**."
    echo "$identity"
    echo "- (6) database work per order, intake to mail sent, over every server (pg_stat_statements, pg_stat_database;" \
      "includes the graph's background samplers and health checks over the same minute):" \
      "**$(( (${work_after%|*} - ${work_before%|*}) / (stored > 0 ? stored : 1) )) statements** and" \
      "**$(( (${work_after#*|} - ${work_before#*|}) / (stored > 0 ? stored : 1) )) commits**."
    echo "- (6) CPU ms per order, from the start of its warm-up until its last order was decided and mailed, over the $stored" \
      "orders stored: **$(cpu_per_order "$cpu" "$stored")**, that is the whole machine's busy time (Ordering.Api," \
      "Ordering.Worker, postgres, RabbitMQ, dashboard, run.sh with wrk and psql, other: the rest of the machine's busy time)."

    # Backlog drain: the workers stop taking messages while orders are accepted and relayed, then resume.
    local wrk_out load_pid queued resumed drained
    wrk_out=$(mktemp); records=$(mktemp)
    workers=$(pgrep -f "/Ordering.Worker/bin/Release/.*/Ordering.Worker" | tr '\n' ' ')
    since=$(sql "SELECT now()"); prefix=$(run_prefix load-7)
    kill -STOP $workers
    ORDERS_RUN=$prefix ORDERS_RECORD=$records WRK_CONNECTIONS=$connections \
      wrk -t"$threads" -c"$connections" -d600s -s bench/orders.lua "$orders_api" -- "$tokens" >"$wrk_out" &
    load_pid=$!
    until (( $(graph_shards_count "SELECT count(*) FROM ordering.orders o WHERE $(run_orders "$since" "$prefix")") >= backlog )); do sleep 0.5; done
    kill -INT "$load_pid"; wait "$load_pid" || true
    until [ "$(graph_shards_count "SELECT count(*) FROM ordering.outbox WHERE \"SentAt\" IS NULL")" = 0 ]; do sleep 0.2; done
    queued=$(graph_shards_count "SELECT count(*) FROM ordering.orders o WHERE $(run_orders "$since" "$prefix")")
    resumed=$(date +%s.%N)
    kill -CONT $workers; workers=""
    wait_decided "$since"
    drained=$(date +%s.%N)
    wait_drained "$since" "$prefix"
    order_identity "(7)" "$since" "$prefix" "$records" "$(wrk_answers "$(cat "$wrk_out")")"
    echo
    echo "CPU of (6), from the start of its warm-up until its last order was decided and mailed:"
    echo
    cat "$cpu"
    echo
    printf -- '- (7) Backlog drain: %s orders queued while both workers were paused, all decided %.1f s after they resumed: **%s orders/s**.\n' \
      "$queued" "$(echo "$drained - $resumed" | bc)" "$(echo "$queued / ($drained - $resumed)" | bc)"
    echo "$identity"
  } >"$out"
  graph_stop
  publish load "$out"
  cat "$out"
}

scaling() {
  local out checks=""
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
    local shards since prefix records decided per_second percentiles
    for shards in 1 2; do
      start_graph --Scale:OrderShards=$shards
      buyer_tokens
      sql "UPDATE products SET \"AvailableStock\" = 10000000" >/dev/null
      since=$(sql "SELECT now()"); prefix=$(run_prefix scaling-$shards); records=$(mktemp)
      ORDERS_RUN=$prefix ORDERS_RECORD=$records \
        measure "orders flat out (POST answered), $shards order shard(s)" "$orders_api" bench/orders.lua "$tokens"
      wait_drained "$since" "$prefix"
      IFS='|' read -r decided per_second percentiles <<<"$(end_to_end "$since" "$prefix")"
      echo "| ... decided end to end, $shards order shard(s) | $per_second | ${percentiles// \/ / ms \| } ms | | |"
      order_identity "orders flat out, $shards order shard(s)" "$since" "$prefix" "$records" "$answered"
      checks+=$identity$'\n'
      graph_stop
    done
    echo
    printf '%s' "$checks"
  } >"$out"
  publish scaling "$out"
  cat "$out"
}

# orders: how fast the order pipeline goes end to end. One graph; orders paced at each rate of ORDER_RATES for
# WARMUP + DURATION seconds, then whatever is still undecided (and its mail) waited out. Per rate: POSTs answered,
# the orders matched by identity, orders decided per second and submit-to-decision percentiles from the orders' own
# timestamps, CPU ms per order (the whole machine from the start of the warm-up until the last order is decided and
# mailed, then by program) and statements and commits per order over every database server.
orders() {
  local out notes cpu cpu_state row records rate since prefix work_before work_after decided per_second percentiles work
  out=$(mktemp); notes=$(mktemp); cpu=$(mktemp); cpu_state=$(mktemp); row=$(mktemp)
  start_graph --Scale:Topology="$order_topology"
  buyer_tokens
  sql "UPDATE products SET \"AvailableStock\" = 10000000" >/dev/null
  # The services' tiered JIT compiles for the first minute or so of load; on 2 cores it is a quarter of the machine
  # (bench/profile-orders.sh), which is start-up, not the cost of an order. So the graph first takes ORDER_PREWARM
  # seconds of orders in a closed loop, unmeasured, and their backlog and mail are waited out before the first rate.
  if (( order_prewarm > 0 )); then
    since=$(sql "SELECT now()"); prefix=$(run_prefix orders-prewarm)
    ORDERS_MIX=$order_mix ORDERS_RUN=$prefix WRK_CONNECTIONS=$(( connections * 2 )) \
      wrk -t"$threads" -c$(( connections * 2 )) -d"${order_prewarm}s" -s bench/orders.lua "$orders_api" -- "$tokens" >/dev/null
    wait_drained "$since" "$prefix"
  fi
  {
    echo "Command: \`ORDER_RATES=\"$order_rates\" ORDER_TOPOLOGY=$order_topology ORDER_MIX=$order_mix ORDER_PREWARM=$order_prewarm WARMUP=$warmup DURATION=$duration bench/run.sh orders\`; first $order_prewarm s of orders in a closed loop, unmeasured (the JIT's start-up), and their backlog waited out; then per rate, bench/orders.lua paced with" \
      "wrk -t$threads -c$(( connections * 4 )) for $(( warmup + duration )) s (\"max\": a closed loop, wrk -t$threads -c$(( connections * 2 )) unpaced), then the orders still undecided (and their mail) waited out."
    echo "Machine: $(machine)."
    echo
    echo "| offered/s | POST answered/s | POST p50 / p99 | errors | orders: 202 / stored / lost / extra / doubled | decided/s end to end | submit to decision p50 / p90 / p99 | CPU ms per order: whole machine (Ordering.Api, Ordering.Worker, postgres, RabbitMQ, dashboard, run.sh with wrk and psql, other) | statements / commits per order |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for rate in $order_rates; do
      since=$(sql "SELECT now()"); prefix=$(run_prefix orders-$rate); records=$(mktemp)
      work_before=$(database_work)
      bench/cpu-share.sh begin "$cpu_state"
      if [ "$rate" = max ]; then
        ORDERS_MIX=$order_mix ORDERS_RUN=$prefix ORDERS_RECORD=$records connections=$(( connections * 2 )) \
          measure "orders in a closed loop" "$orders_api" bench/orders.lua "$tokens" >"$row"
      else
        ORDERS_MIX=$order_mix ORDERS_RUN=$prefix ORDERS_RECORD=$records \
          paced "orders paced to $rate/s" "$orders_api" bench/orders.lua "$tokens" "$rate" >"$row"
      fi
      wait_drained "$since" "$prefix"
      bench/cpu-share.sh end "$cpu_state" >"$cpu"
      work_after=$(database_work)
      order_identity "$rate/s offered" "$since" "$prefix" "$records" "$answered"
      IFS='|' read -r decided per_second percentiles <<<"$(end_to_end "$since" "$prefix")"
      work="$(( (${work_after%|*} - ${work_before%|*}) / (stored > 0 ? stored : 1) )) / $(( (${work_after#*|} - ${work_before#*|}) / (stored > 0 ? stored : 1) ))"
      awk -F'|' -v rate="$rate" -v identity="$identity_counts" -v decided="$per_second" -v e2e="$percentiles ms" \
        -v cpu="$(cpu_per_order "$cpu" "$stored")" -v work="$work" \
        '{gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4); gsub(/^ +| +$/, "", $6); gsub(/^ +| +$/, "", $7);
          printf "| %s | %s | %s / %s | %s | %s | %s | %s | %s | %s |\n", rate, $3, $4, $6, $7, identity, decided, e2e, cpu, work}' "$row"
      { echo
        echo "$identity"
        echo
        echo "CPU at $rate/s offered, from the start of its warm-up until its last order was decided and mailed ($stored orders stored):"
        echo
        cat "$cpu"
      } >>"$notes"
    done
    cat "$notes"
  } >"$out"
  graph_stop
  publish orders "$out"
  cat "$out"
}

rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }

# What the resident memory is: anonymous (the GC heap, native allocations, stacks), files mapped (the runtime's and
# the app's assemblies and libraries, shared with every process that maps them) and shared memory (.NET's W^X double
# mapping of executable memory, /memfd:doublemapper).
rss_split_mb() { awk '/RssAnon|RssFile|RssShmem/ {parts[$1] = sprintf("%.0f", $2 / 1024)} END {print parts["RssAnon:"] " / " parts["RssFile:"] " / " parts["RssShmem:"]}' "/proc/$1/status" 2>/dev/null; }

soak() {
  local out pids pid name
  out=$(mktemp)
  start_graph
  buyer_tokens
  sql "UPDATE products SET \"AvailableStock\" = 10000000" >/dev/null
  # Warm up first, so "start" is the memory of a service that has run, not of one that has just been launched.
  wrk -t1 -c8 -d"${warmup}s" -s bench/reads.lua "$api" >/dev/null
  declare -A start peak middle
  pids=$(pgrep -f "/(Catalog.Api|Ordering.Api|Ordering.Worker|Web.Blazor)/bin/Release/.*/(Catalog.Api|Ordering.Api|Ordering.Worker|Web.Blazor)(\.dll)?$")
  for pid in $pids; do start[$pid]=$(rss_mb "$pid"); peak[$pid]=${start[$pid]}; done

  local seconds=$(( soak_minutes * 60 )) since prefix records
  since=$(sql "SELECT now()"); prefix=$(run_prefix soak); records=$(mktemp)
  WRK_CONNECTIONS=8 wrk -t1 -c8 -d"${seconds}s" -s bench/reads.lua "$api" >/tmp/soak-reads.txt &
  local reads=$!
  WRK_CONNECTIONS=8 wrk -t1 -c8 -d"${seconds}s" -s bench/shop.lua "$web" >/tmp/soak-shop.txt &
  local shop=$!
  ORDERS_RUN=$prefix ORDERS_RECORD=$records WRK_CONNECTIONS=8 \
    wrk -t1 -c8 -d"${seconds}s" -s bench/orders.lua "$orders_api" -- "$tokens" 20 >/tmp/soak-orders.txt &
  local orders=$!
  local deadline=$(( $(date +%s) + seconds )) halfway=$(( $(date +%s) + seconds / 2 ))
  while (( $(date +%s) < deadline )); do
    for pid in $pids; do
      local now; now=$(rss_mb "$pid")
      (( now > peak[$pid] )) && peak[$pid]=$now
      [ -z "${middle[$pid]:-}" ] && (( $(date +%s) >= halfway )) && middle[$pid]=$now
    done
    sleep 10
  done
  wait "$reads" "$shop" "$orders"
  wait_drained "$since" "$prefix"
  order_identity "Orders during the soak" "$since" "$prefix" "$records" "$(wrk_answers "$(cat /tmp/soak-orders.txt)")"
  {
    echo "Command: \`bench/run.sh soak\` ($soak_minutes minutes): the read mix and the shop front flat out on 8 connections each," \
      "and orders at 20/s on 8 more, all at once; resident memory (VmRSS) of every service process after a ${warmup} s warm-up" \
      "(start), halfway, its highest 10-second sample, and at the end. Aim (#26): every service under 200 MB after the soak, and none growing over its last 5 minutes."
    echo "Machine: $(machine)."
    echo
    echo "| process | pid | RSS at start (MB) | halfway (MB) | peak (MB) | at end (MB) | under 200 MB at end | growth over the second half (MB) | at end: anonymous / files mapped / shared memory (MB) |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for pid in $pids; do
      name=$(tr '\0' ' ' <"/proc/$pid/cmdline" | grep -oE '(Catalog.Api|Ordering.Api|Ordering.Worker|Web.Blazor)' | head -1)
      local end; end=$(rss_mb "$pid")
      echo "| $name | $pid | ${start[$pid]} | ${middle[$pid]:-0} | ${peak[$pid]} | $end | $( (( end < 200 )) && echo yes || echo '**no**') | $(( end - ${middle[$pid]:-0} )) | $(rss_split_mb "$pid") |"
    done
    echo
    echo "During the soak: read mix $(awk '/Requests\/sec/ {printf "%.0f", $2}' /tmp/soak-reads.txt) req/s," \
      "shop front $(awk '/Requests\/sec/ {printf "%.0f", $2}' /tmp/soak-shop.txt) req/s," \
      "orders $(awk '/Requests\/sec/ {printf "%.0f", $2}' /tmp/soak-orders.txt)/s; errors (non-2xx + socket):" \
      "$(errors_in "$(cat /tmp/soak-reads.txt /tmp/soak-shop.txt /tmp/soak-orders.txt)")."
    echo
    echo "$identity"
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

if (( ${#failures[@]} )); then
  echo "bench/run.sh: FAILED, the tables are written but these do not hold:" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
