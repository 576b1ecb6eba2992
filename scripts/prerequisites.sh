#!/usr/bin/env bash
# Installs, from Debian/Ubuntu packages, whatever the shop and its tests need and this machine lacks.
# Installing does not start any system service we rely on: the AppHost starts its own servers.
# Usage: scripts/prerequisites.sh [extra-package ...]
set -euo pipefail

if ! command -v dotnet >/dev/null; then
  echo "prerequisites: the .NET 10 SDK is required (https://dot.net); install it and run again." >&2
  exit 1
fi

missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
command -v prometheus >/dev/null || missing+=(prometheus)
for package in "$@"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "prerequisites: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
