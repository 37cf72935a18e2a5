#!/bin/sh
# Temporal's persistence schema, with Temporal's own tool (temporal-sql-tool in temporalio/admin-tools),
# as in temporalio/samples-server compose/scripts/setup-postgres.sh. The databases already exist
# (postgres/init-databases.sh), so there is no `create` step. Safe to re-run: on a database that
# already has a schema, `update-schema` applies only newer versions; setup-schema -v 0.0 runs
# only on a database without one.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
port="${DB_PORT:-5432}"
nc -z -w 10 "$POSTGRES_SEEDS" "$port"
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$port" --db "$db" "$@"; }
  if ! sql update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"; then
    echo "no schema in $db yet: setting it up"
    sql setup-schema -v 0.0
    sql update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
  fi
done
echo 'Temporal schema is up to date'
