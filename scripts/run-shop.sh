#!/usr/bin/env bash
# Runs the whole shop: installs missing prerequisites, builds, and starts the AppHost, which brings up PostgreSQL
# (primary + read replica), Redis, RabbitMQ, Catalog.Api, Ordering.Worker and Web.Blazor with the Aspire dashboard.
# The dashboard login URL is printed as "Login to the dashboard at ...". Ctrl+C stops everything, and the command
# returns once every server it started has exited, so it can be run again at once.
# Extra arguments go to the AppHost, e.g. --Infrastructure:Mode=processes or --Infrastructure:PostgresReplicas=2.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prerequisites.sh
dotnet build AppHost/AppHost.csproj --nologo -v quiet -clp:ErrorsOnly
exec dotnet run --project AppHost/AppHost.csproj --no-build --launch-profile http -- "$@"
