#!/usr/bin/env bash
# The project's two front doors, each working on a fresh clone with nothing set up:
#   ./cruise.sh start   runs the whole system (pnpm start)
#   ./cruise.sh test    runs the tests (pnpm test); extra arguments go to vitest
# Each first installs what is missing (Node 24 and pnpm into .tools/, dependencies, the apps' build) and
# makes sure PostgreSQL, Redis and NATS answer (starting, installing or running them in Docker as it can).
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

# The browser apps (and anything else with a build step) are built when the workspace has a build script.
if node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)'; then
  echo "cruise: building (pnpm build)" >&2
  pnpm build
fi

case "$command" in
  start) exec pnpm start "$@" ;;
  test) exec pnpm test "$@" ;;
esac
