#!/usr/bin/env bash
# Runs a test command against a fresh schema of the test PostgreSQL cluster (ESAR_TEST_PG_URL,
# started by scripts/test): the command finds its database URL in ESAR_TEST_DB_URL.
#   tests/integration/with_pg_schema.sh COMMAND ARGS...
set -euo pipefail
if [ -z "${ESAR_TEST_PG_URL:-}" ]; then
  echo "no PostgreSQL: set ESAR_TEST_PG_URL (scripts/test starts a cluster)" >&2
  exit 1
fi
schema="t_$(date +%s%N)_$$"
psql -q "$ESAR_TEST_PG_URL" -c "CREATE SCHEMA $schema" >/dev/null
export ESAR_TEST_DB_URL="$ESAR_TEST_PG_URL?options=-csearch_path%3D$schema"
exec "$@"
