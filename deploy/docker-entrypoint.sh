#!/bin/sh
# Entry point of the Herald image: `api` (default), `worker`, `migrate` or `schedules`; anything else is run as given.
# tsx is started directly (not through npm) so that SIGTERM reaches Node, and so that npm's
# pre-scripts (scripts/ensure-dependencies.mjs) never try to install packages in a container.
set -e
command="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$command" in
  api|worker|migrate|schedules) exec tsx "src/entry/$command.ts" "$@" ;;
  *) exec "$command" "$@" ;;
esac
