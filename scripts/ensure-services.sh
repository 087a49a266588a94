#!/usr/bin/env bash
# Makes sure the local PostgreSQL, Redis and NATS (JetStream) answer, starting any that is down.
set -uo pipefail
up_pg() { pg_isready -h 127.0.0.1 -p 5432 -q; }
up_redis() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
up_nats() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }

wait_for() { local name=$1 check=$2; for _ in $(seq 1 60); do $check && return 0; sleep 0.5; done; echo "ensure-services: $name did not come up" >&2; return 1; }

if ! up_pg; then
  echo "ensure-services: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_for PostgreSQL up_pg || exit 1
fi
if ! up_redis; then
  echo "ensure-services: starting Redis" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis up_redis || exit 1
fi
if ! up_nats; then
  echo "ensure-services: starting NATS" >&2
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for NATS up_nats || exit 1
fi
# The test suite runs two files at a time, each with up to six services holding 16 connections apiece:
# PostgreSQL's default of 100 connections is not enough. Raise it on a local cluster we may restart.
MIN_PG_CONNECTIONS=300
pg_connections=$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW max_connections' 2>/dev/null || echo 0)
if [ "${pg_connections:-0}" -lt "$MIN_PG_CONNECTIONS" ] && [ "$(id -u)" -eq 0 ] && [ -d /etc/postgresql ]; then
  echo "ensure-services: raising PostgreSQL max_connections from $pg_connections to $MIN_PG_CONNECTIONS (restart)" >&2
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = $MIN_PG_CONNECTIONS" &&
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart
  wait_for PostgreSQL up_pg || exit 1
elif [ "${pg_connections:-0}" -lt "$MIN_PG_CONNECTIONS" ]; then
  echo "ensure-services: PostgreSQL allows $pg_connections connections; the tests want $MIN_PG_CONNECTIONS (ALTER SYSTEM SET max_connections)" >&2
fi
echo "ensure-services: PostgreSQL, Redis and NATS are up" >&2
