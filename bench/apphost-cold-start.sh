#!/usr/bin/env bash
# AppHost cold start in processes mode, the way README starts it (dotnet run of the built AppHost, http profile):
# from launch until every service answers /health with "Healthy" (a service starts only once its Postgres, Redis
# and RabbitMQ resources are healthy, and its /health checks those connections again), then how long the AppHost
# takes to stop after SIGTERM until no server of the run is left. Prints one markdown row per run and the median.
# Usage: bench/apphost-cold-start.sh [runs]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
# RUN_WITH=dll starts the built AppHost directly, leaving out the ~2 s dotnet run spends evaluating the project.
run_with=${RUN_WITH:-dotnet-run}
services=(http://localhost:5101 http://localhost:5102 http://localhost:5100) # catalog-api, ordering-worker, web-blazor
data_root="$PWD/.aspireshop/data"

scripts/prerequisites.sh
dotnet build AppHost/AppHost.csproj --nologo -v quiet -clp:ErrorsOnly

now() { date +%s.%N; }
healthy() { curl -s --max-time 1 "$1/health" 2>/dev/null | grep -q '"status":"Healthy"'; }
servers_left() { grep -lsa "ASPIRESHOP_DATA_ROOT=$data_root" /proc/[0-9]*/environ 2>/dev/null | wc -l; }

echo "| run | launch to all Healthy (s) | SIGTERM to all servers gone (s) |"
echo "|---|---|---|"
starts=()
for run in $(seq 1 "$runs"); do
  log=$(mktemp)
  t0=$(now)
  if [ "$run_with" = dll ]; then
    # The http launch profile's settings, given directly.
    (cd AppHost && DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true ASPNETCORE_ENVIRONMENT=Development DOTNET_ENVIRONMENT=Development \
      ASPIRE_ALLOW_UNSECURED_TRANSPORT=true ASPNETCORE_URLS=http://localhost:15080 \
      ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:15081 ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:15082 \
      exec dotnet bin/Debug/net10.0/AppHost.dll) >"$log" 2>&1 &
  else
    DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true \
      dotnet run --project AppHost/AppHost.csproj --no-build --launch-profile http >"$log" 2>&1 &
  fi
  pid=$!
  deadline=$(( $(date +%s) + 180 ))
  for url in "${services[@]}"; do
    until healthy "$url"; do
      if (( $(date +%s) > deadline )) || ! kill -0 "$pid" 2>/dev/null; then
        echo "run $run: $url never became Healthy; AppHost log: $log" >&2
        kill -TERM "$pid" 2>/dev/null || true
        exit 1
      fi
      sleep 0.1
    done
  done
  t1=$(now)
  kill -TERM "$pid"
  wait "$pid" || true
  while (( $(servers_left) > 0 )); do sleep 0.1; done
  t2=$(now)
  rm -f "$log"
  start=$(echo "$t1 - $t0" | bc); stop=$(echo "$t2 - $t1" | bc)
  starts+=("$start")
  printf "| %d | %.1f | %.1f |\n" "$run" "$start" "$stop"
done
printf "\nmedian launch to all Healthy: %.1f s over %d runs\n" \
  "$(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')" "$runs"
