#!/usr/bin/env bash
# The project's two front doors, each working on a fresh clone with nothing set up:
#   ./cruise.sh start   runs the whole system (pnpm start: the six services, the apps at /scanner/ and /console/)
#   ./cruise.sh test    runs the tests (pnpm test); extra arguments go to vitest
# Each first installs what is missing (Node 24 and pnpm into .tools/, dependencies, the apps' build) and
# makes sure PostgreSQL, Redis and NATS answer (starting, installing or running them in Docker as it can).
# The tests also need Chromium for the browser apps' tests: installed with apt when run as root on Debian,
# otherwise the command to install it is printed.
set -euo pipefail
cd "$(dirname "$0")"

usage() { echo "usage: ./cruise.sh start|test [args…]" >&2; exit 2; }
[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in start | test) ;; *) usage ;; esac

# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh

# Dependencies: installed when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  echo "cruise: installing dependencies (pnpm install)" >&2
  pnpm install --frozen-lockfile
fi

bash scripts/ensure-services.sh

# The browser apps: built when their build is missing or older than their sources.
pnpm -s build --if-stale

# The browser apps' tests (test/apps) drive Debian's Chromium (no browser download by npm).
if [ "$command" = test ] && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "cruise: installing chromium with apt-get (the browser tests drive it)" >&2
    (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
  else
    echo "cruise: the browser tests need Chromium: sudo apt-get install -y chromium (or set CHROMIUM_PATH)" >&2
    [ $# -gt 0 ] || exit 1 # a subset of the tests may not need it
  fi
fi

case "$command" in
  start) exec pnpm start "$@" ;;
  test) exec pnpm test "$@" ;;
esac
