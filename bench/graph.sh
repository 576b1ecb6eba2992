# Sourced by the bench scripts: start the shop graph with the AppHost (processes mode), wait until every service is
# Healthy, and stop it, waiting until no server of the run is left (the next start refuses a busy data folder).
# Set GRAPH_CONFIGURATION=Release to run the AppHost and the services in Release.

graph_data_root="$PWD/.aspireshop/data"
graph_services=(http://localhost:5101 http://localhost:5103 http://localhost:5102 http://localhost:5100) # catalog-api, ordering-api, ordering-worker, web-blazor
graph_pid=""

graph_healthy() { curl -s --max-time 1 "$1/health" 2>/dev/null | grep -q '"status":"Healthy"'; }

graph_servers_left() { grep -lsa "ASPIRESHOP_DATA_ROOT=$graph_data_root" /proc/[0-9]*/environ 2>/dev/null | wc -l; }

# graph_start LOG [AppHost arguments...]: returns once every service answers Healthy (fails after 180 s).
graph_start() {
  local log=$1; shift
  DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true \
    dotnet run -c "${GRAPH_CONFIGURATION:-Debug}" --project AppHost/AppHost.csproj --no-build --launch-profile http -- "$@" >"$log" 2>&1 &
  graph_pid=$!
  local deadline=$(( $(date +%s) + 180 )) url
  for url in "${graph_services[@]}"; do
    until graph_healthy "$url"; do
      if (( $(date +%s) > deadline )) || ! kill -0 "$graph_pid" 2>/dev/null; then
        echo "graph: $url never became Healthy; AppHost log: $log" >&2
        graph_stop
        return 1
      fi
      sleep 0.1
    done
  done
}

graph_stop() {
  [ -n "$graph_pid" ] || return 0
  kill -TERM "$graph_pid" 2>/dev/null || true
  wait "$graph_pid" 2>/dev/null || true
  graph_pid=""
  while (( $(graph_servers_left) > 0 )); do sleep 0.1; done
}

# graph_service_url NAME: the service's own address (its process's listening port), bypassing the dashboard's proxy.
graph_service_url() {
  local pid port
  pid=$(pgrep -f "/$1/bin/.*/$1" | head -1)
  port=$(ss -ltnpH | grep "pid=$pid," | grep -o '127.0.0.1:[0-9]*' | head -1 | grep -o '[0-9]*$')
  echo "http://127.0.0.1:$port"
}

# graph_api_connections NAME_PATTERN: the connection strings Ordering.Api runs with whose names match (sed pattern),
# one per line.
graph_api_connections() {
  local api_pid
  api_pid=$(pgrep -f "/Ordering.Api/bin/${GRAPH_CONFIGURATION:-Debug}/.*/Ordering.Api" | head -1)
  tr '\0' '\n' <"/proc/$api_pid/environ" | sed -n "s/^ConnectionStrings__$1=//p"
}

# graph_psql_env: exports PGHOST, PGPORT, ... from the catalog connection string Ordering.Api runs with, for psql.
graph_psql_env() {
  local connection
  connection=$(graph_api_connections catalogdb)
  field() { echo "$connection" | tr ';' '\n' | sed -n "s/^$1=//Ip" | head -1; }
  export PGHOST=$(field Host) PGPORT=$(field Port) PGUSER=$(field Username) PGPASSWORD=$(field Password) PGDATABASE=$(field Database)
}

# graph_shards_sql SQL: runs SQL on every order shard (connection strings ordersdb-shardN of Ordering.Api) and prints
# each shard's answer.
graph_shards_sql() {
  local connection
  graph_api_connections 'ordersdb-shard[0-9]*' | while read -r connection; do
    psql "$(echo "$connection" | tr ';' '\n' | sed -e 's/^Host=/host=/I' -e 's/^Port=/port=/I' -e 's/^Username=/user=/I' \
      -e 's/^Password=/password=/I' -e 's/^Database=/dbname=/I' | grep -E '^(host|port|user|password|dbname)=' | tr '\n' ' ')" -qAtX -c "$1"
  done
}

# graph_shards_count SQL: the sum of a count query run on every order shard.
graph_shards_count() { graph_shards_sql "$1" | awk '{ n += $1 } END { print n + 0 }'; }

# graph_buyer_tokens KEY COUNT FILE: HS256 buyer tokens as Web.Blazor issues them (issuer aspireshop-web, audience
# aspireshop-orders), one per buyer, signed with the buyer-token-signing-key the graph was started with.
graph_buyer_tokens() {
  local key=$1 count=$2 file=$3 header payload signature expires
  b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
  header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  expires=$(( $(date +%s) + 3600 ))
  : >"$file"
  for i in $(seq 1 "$count"); do
    payload=$(printf '{"iss":"aspireshop-web","aud":"aspireshop-orders","sub":"load-buyer-%d","exp":%d}' "$i" "$expires" | b64url)
    signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$key" -binary | b64url)
    echo "$header.$payload.$signature" >>"$file"
  done
}
