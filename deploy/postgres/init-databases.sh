#!/bin/bash
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d).
# One PostgreSQL server, separate roles and databases: `herald` for Herald's data, `temporal` and
# `temporal_visibility` for Temporal's persistence (schemas are set up by temporal-sql-tool).
set -euo pipefail
: "${HERALD_DB_PASSWORD:?set HERALD_DB_PASSWORD}"
: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v herald_password="$HERALD_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE herald LOGIN PASSWORD :'herald_password';
CREATE DATABASE herald OWNER herald;
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
