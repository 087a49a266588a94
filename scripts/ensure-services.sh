#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and NATS (JetStream) answer on localhost before the system or the tests run:
#  - installed but down: started (Debian's pg_ctlcluster, redis-server, nats-server);
#  - not installed: installed with apt when running as root on Debian, else run in Docker
#    (ops/compose.infra.yml) when a Docker engine is reachable, else the exact command to install them.
# Ports are the defaults the configuration uses: 5432, 6379, 4222.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

up_pg() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && { ! command -v pg_isready >/dev/null || pg_isready -h 127.0.0.1 -p 5432 -q; }; }
up_redis() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && { ! command -v redis-cli >/dev/null || redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }; }
up_nats() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
say() { echo "ensure-services: $*" >&2; }
wait_for() {
  local name=$1 check=$2
  for _ in $(seq 1 120); do $check && return 0; sleep 0.5; done
  say "$name did not come up"
  return 1
}

# Debian package of each service, and whether its server binary is installed.
declare -A PACKAGE=([postgres]=postgresql [redis]=redis-server [nats]=nats-server)
installed() {
  case $1 in
    postgres) command -v pg_ctlcluster >/dev/null && [ -n "$(ls /etc/postgresql 2>/dev/null)" ] ;;
    redis) command -v redis-server >/dev/null ;;
    nats) command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] ;;
  esac
}

start_postgres() {
  say "starting PostgreSQL"
  local version
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL up_pg
}
start_redis() {
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  local dir=/var/lib/redis log=/var/log/redis/cruise.log
  [ -w "$dir" ] || { dir="$ROOT/.cruise/redis"; log="$dir/redis.log"; mkdir -p "$dir"; }
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir "$dir" --logfile "$log"
  wait_for Redis up_redis
}
start_nats() {
  say "starting NATS (JetStream)"
  local bin dir=/var/lib/nats-server log=/var/log/nats-server.log
  bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
  mkdir -p "$dir" 2>/dev/null || true
  [ -w "$dir" ] || { dir="$ROOT/.cruise/nats"; log="$dir/nats.log"; mkdir -p "$dir"; }
  if command -v start-stop-daemon >/dev/null; then
    start-stop-daemon --start --oknodo --background --exec "$bin" -- -a 127.0.0.1 -p 4222 -js -sd "$dir" -l "$log"
  else
    nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$dir" -l "$log" >/dev/null 2>&1 &
  fi
  wait_for NATS up_nats
}

# A PostgreSQL freshly installed by apt answers 127.0.0.1 only with a password; the project's machines
# (and the configuration's default URL) use trust on loopback, so a cluster installed here is set up alike.
trust_loopback() {
  local hba
  hba="$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -1)"
  if ! grep -q '^# cruise: trust on loopback' "$hba"; then
    say "allowing password-less connections from 127.0.0.1 in $hba (development machine)"
    { printf '# cruise: trust on loopback\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'; cat "$hba"; } >"$hba.new"
    mv "$hba.new" "$hba"
  fi
}

# The test suite runs two files at a time, each with up to six services holding 16 connections apiece:
# PostgreSQL's default of 100 connections is not enough. Raise it on a local cluster we may restart.
MIN_PG_CONNECTIONS=300
ensure_pg_connections() {
  local pg_connections
  pg_connections=$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW max_connections' 2>/dev/null || echo 0)
  if [ "${pg_connections:-0}" -lt "$MIN_PG_CONNECTIONS" ] && [ "$(id -u)" -eq 0 ] && [ -d /etc/postgresql ]; then
    say "raising PostgreSQL max_connections from $pg_connections to $MIN_PG_CONNECTIONS (restart)"
    psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = $MIN_PG_CONNECTIONS" &&
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main restart
    wait_for PostgreSQL up_pg || return 1
  elif [ "${pg_connections:-0}" -lt "$MIN_PG_CONNECTIONS" ]; then
    say "PostgreSQL allows $pg_connections connections; the tests want $MIN_PG_CONNECTIONS (ALTER SYSTEM SET max_connections)"
  fi
}

down=()
up_pg || down+=(postgres)
up_redis || down+=(redis)
up_nats || down+=(nats)
if [ ${#down[@]} -eq 0 ]; then
  ensure_pg_connections || exit 1
  say "PostgreSQL, Redis and NATS are up"
  exit 0
fi

missing=()
for s in "${down[@]}"; do installed "$s" || missing+=("$s"); done

if [ ${#missing[@]} -gt 0 ]; then
  packages=()
  for s in "${missing[@]}"; do packages+=("${PACKAGE[$s]}"); done
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${packages[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${packages[@]}" >&2 || { say "apt-get install ${packages[*]} failed"; exit 1; }
    [[ " ${missing[*]} " == *" postgres "* ]] && trust_loopback
    missing=()
  elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    say "running ${missing[*]} in Docker (ops/compose.infra.yml)"
    docker compose -f "$ROOT/ops/compose.infra.yml" up -d --wait "${missing[@]}" || exit 1
    for s in "${missing[@]}"; do wait_for "$s" "up_${s/postgres/pg}" || exit 1; done
    down=()
    for s in postgres redis nats; do "up_${s/postgres/pg}" || down+=("$s"); done
    missing=()
  else
    say "missing: ${missing[*]}. Install them and run this again:"
    say "  sudo apt-get install -y ${packages[*]}"
    say "or start a Docker engine (then ./cruise.sh runs them with ops/compose.infra.yml),"
    say "or point DATABASE_URL / REDIS_URL / NATS_URL (and TEST_* for the tests) at running servers."
    exit 1
  fi
fi

for s in "${down[@]}"; do
  case $s in
    postgres) up_pg || start_postgres || exit 1 ;;
    redis) up_redis || start_redis || exit 1 ;;
    nats) up_nats || start_nats || exit 1 ;;
  esac
done
ensure_pg_connections || exit 1
say "PostgreSQL, Redis and NATS are up"
