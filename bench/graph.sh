# Sourced by the bench scripts: start the shop graph with the AppHost (processes mode), wait until every service is
# Healthy, and stop it, waiting until no server of the run is left (the next start refuses a busy data folder).
# Set GRAPH_CONFIGURATION=Release to run the AppHost and the services in Release.

graph_data_root="$PWD/.aspireshop/data"
graph_services=(http://localhost:5101 http://localhost:5103 http://localhost:5102 http://localhost:5100) # catalog-api, ordering-api, ordering-worker, web-blazor
graph_pid=""

graph_healthy() { curl -s --max-time 1 "$1/health" 2>/dev/null | grep -q '"status":"Healthy"'; }

graph_servers_left() { grep -lsa "ASPIRESHOP_DATA_ROOT=$graph_data_root" /proc/[0-9]*/environ 2>/dev/null | wc -l; }

# graph_start LOG [AppHost arguments...]: returns once every service answers Healthy (fails after 180 s). When
# graph_signing_key is set, the graph signs buyer tokens with it: it goes to the AppHost in its environment, which only
# this user (and root) can read, never on a command line, which every local user can.
graph_start() {
  local log=$1; shift
  # The PostgreSQL superusers' password is the bench's own (the services connect as their roles, which may not change
  # what the bench sets up or read its statistics); like the signing key, it goes to the AppHost in its environment.
  graph_db_password=${graph_db_password:-$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')}
  local shard passwords=("Parameters__postgres-password=$graph_db_password")
  for shard in 1 2 3 4 5 6 7 8; do passwords+=("Parameters__orders-shard$shard-password=$graph_db_password"); done
  env DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true ${graph_signing_key:+"Parameters__buyer-token-signing-key=$graph_signing_key"} "${passwords[@]}" \
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

# graph_psql_env: exports PGHOST, PGPORT, ... for psql: the catalog database Ordering.Api runs with, as the superuser.
graph_psql_env() {
  local connection
  connection=$(graph_api_connections catalogdb)
  field() { echo "$connection" | tr ';' '\n' | sed -n "s/^$1=//Ip" | head -1; }
  export PGHOST=$(field Host) PGPORT=$(field Port) PGUSER=postgres PGPASSWORD=$graph_db_password PGDATABASE=$(field Database)
}

# graph_shards_sql SQL: runs SQL on every order shard (connection strings ordersdb-shardN of Ordering.Api), as the
# superuser, and prints each shard's answer.
graph_shards_sql() {
  local connection
  graph_api_connections 'ordersdb-shard[0-9]*' | while read -r connection; do
    PGPASSWORD=$graph_db_password psql "$(echo "$connection" | tr ';' '\n' | sed -e 's/^Host=/host=/I' -e 's/^Port=/port=/I' \
      -e 's/^Database=/dbname=/I' | grep -E '^(host|port|dbname)=' | tr '\n' ' ') user=postgres" -qAtX -c "$1"
  done
}

# graph_shards_count SQL: the sum of a count query run on every order shard.
graph_shards_count() { graph_shards_sql "$1" | awk '{ n += $1 } END { print n + 0 }'; }

# graph_buyer_tokens COUNT FILE: HS256 buyer tokens as Web.Blazor issues them (issuer aspireshop-web, audience
# aspireshop-orders), one per buyer, signed with graph_signing_key, which reaches the signer in its environment.
graph_buyer_tokens() {
  SIGNING_KEY=$graph_signing_key python3 - "$1" "$2" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
count, path = int(sys.argv[1]), sys.argv[2]
key = os.environ["SIGNING_KEY"].encode()
b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
expires = int(time.time()) + 3600
with open(path, "w") as tokens:
    for i in range(1, count + 1):
        payload = b64(json.dumps({"iss": "aspireshop-web", "aud": "aspireshop-orders", "sub": f"load-buyer-{i}", "exp": expires},
                                 separators=(",", ":")).encode())
        signature = b64(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        tokens.write(f"{header}.{payload}.{signature}\n")
PY
}
