#!/usr/bin/env bash
# Installs, from Debian/Ubuntu packages, whatever the shop and its tests need and this machine lacks, and builds Citus
# from the vendored source when it is not installed yet.
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

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
if ((${#missing[@]} > 0)); then
  echo "prerequisites: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Citus, the orders' distributed PostgreSQL: no package source these machines reach serves it, so it is built from the
# vendored source (../shared/vendor, or ASPIRESHOP_CITUS_SOURCE) against the newest installed PostgreSQL, once per
# machine: an installed extension of the same version is the cache.
citus_version=13.2.2
citus_major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
citus_control=/usr/share/postgresql/$citus_major/extension/citus.control
if [ -n "$citus_major" ] && [ -f "/usr/lib/postgresql/$citus_major/lib/citus.so" ] \
  && grep -q "default_version = '${citus_version%.*}-1'" "$citus_control" 2>/dev/null; then
  exit 0
fi

source_tarball=${ASPIRESHOP_CITUS_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)/../shared/vendor/citus-$citus_version-src.tar.gz}
if [ ! -f "$source_tarball" ]; then
  echo "prerequisites: Citus $citus_version is not installed and its source is not at $source_tarball;" \
    "point ASPIRESHOP_CITUS_SOURCE at citus-$citus_version-src.tar.gz." >&2
  exit 1
fi

# The server's headers (which also bring the server package to the same minor version) and what Citus links against.
build_packages=("postgresql-server-dev-$citus_major" liblz4-dev libzstd-dev libkrb5-dev libssl-dev libselinux1-dev libxslt1-dev
  libpam0g-dev libreadline-dev flex bison make gcc)
echo "prerequisites: building Citus $citus_version for PostgreSQL $citus_major from $source_tarball"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${build_packages[@]}" >/dev/null

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
tar -xzf "$source_tarball" -C "$build"
cd "$build/citus-$citus_version"
# Newer PostgreSQL 15 minors (15.20) declare have_createdb_privilege() themselves, which Citus 13.2 defines again
# for 15 in its compatibility header: Citus's own copy is renamed.
if grep -qs "have_createdb_privilege" "/usr/include/postgresql/$citus_major/server/commands/dbcommands.h"; then
  sed -i 's/^have_createdb_privilege(void)$/citus_have_createdb_privilege(void)/' src/include/pg_version_compat.h
  sed -i 's/!have_createdb_privilege()/!citus_have_createdb_privilege()/' src/backend/distributed/commands/serialize_distributed_ddls.c
fi
# Without libcurl: it only serves the usage reports the AppHost switches off.
./configure --without-libcurl --with-pg-config="/usr/lib/postgresql/$citus_major/bin/pg_config" >"$build/configure.log" 2>&1 \
  || { tail -20 "$build/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$build/make.log" 2>&1 || { tail -20 "$build/make.log" >&2; exit 1; }
"${sudo[@]}" make install >"$build/install.log" 2>&1 || { tail -20 "$build/install.log" >&2; exit 1; }
echo "prerequisites: Citus $citus_version installed"
