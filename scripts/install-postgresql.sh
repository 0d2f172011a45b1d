#!/usr/bin/env bash
# Install Debian's PostgreSQL server for the tests that run the service on PostgreSQL. Safe to run
# again. Exits 0 in every case, saying whether the server binaries are available: those tests
# skip, with this script's reason, when they are not. No cluster is created here: each test run
# makes a throwaway one in a temporary folder (spectrum/evaluate/pg_cluster.py).
set -uo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  echo "install-postgresql: PostgreSQL server already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-postgresql: the PostgreSQL server is missing; install it with: sudo apt-get install -y postgresql"
  exit 0
fi
echo "install-postgresql: installing Debian's postgresql with apt-get" >&2
if apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1; then
  echo "install-postgresql: installed"
else
  echo "install-postgresql: apt-get could not install postgresql (no network or no package source?)"
fi
exit 0
