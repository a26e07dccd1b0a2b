#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 with trust auth for loopback and has a database `test`
# (the dashboard's store tests fail loudly without it). Does nothing to a server that already answers.
set -euo pipefail

# shellcheck disable=SC2012 # version directories: plain names
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
ready() {
  local b
  b="$(pg_bin)"
  if command -v pg_isready >/dev/null 2>&1; then pg_isready -q -h 127.0.0.1 -p 5432
  elif [ -n "$b" ]; then "$b/pg_isready" -q -h 127.0.0.1 -p 5432
  else return 1; fi
}

if ! ready; then
  # shellcheck disable=SC2012
  ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
  if [ -z "$ver" ]; then
    echo "postgres: no cluster found (is the postgresql package installed?)" >&2
    exit 1
  fi
  hba="/etc/postgresql/$ver/main/pg_hba.conf"
  # Loopback only, for tests on a throw-away machine: first match wins in pg_hba.conf.
  grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  echo "postgres: starting cluster $ver/main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || pg_ctlcluster "$ver" main start
  for _ in $(seq 1 30); do
    ready && break
    sleep 1
  done
  ready || { echo "postgres: did not come up on 127.0.0.1:5432" >&2; exit 1; }
fi

if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null
fi
echo "postgres: ready on 127.0.0.1:5432"
