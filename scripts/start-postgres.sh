#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the code-graph tests: listening on 127.0.0.1 only,
# trust authentication, data under /tmp. Prints the connection URL the tests read from
# THREADMILL_TEST_PG_URL (they default to the same URL). Safe to run twice: a running cluster is
# reused. PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres`
# user (created by Debian's package).
#
#   scripts/start-postgres.sh            # start (or reuse), print the URL
#   scripts/start-postgres.sh stop       # stop and remove the cluster
set -euo pipefail
PORT="${THREADMILL_PG_PORT:-55432}"
DATA="${THREADMILL_PG_DATA:-/tmp/threadmill-pg-$PORT}"
DB=threadmill_test

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$BIN" ]; then BIN="$(dirname "$(command -v pg_ctl || echo /nonexistent/pg_ctl)")"; fi
if [ ! -x "$BIN/pg_ctl" ]; then
  echo "start-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = stop ]; then
  as_owner "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
  exit 0
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DATA"; fi
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
fi
if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  as_owner "$BIN/pg_ctl" -D "$DATA" -w -l "$DATA/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c fsync=off -c synchronous_commit=off" start >/dev/null
fi
if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
echo "postgres://postgres@127.0.0.1:$PORT/$DB"
