#!/bin/bash
# The outbox relays' role: LOGIN and REPLICATION (their logical slot and its WAL stream) and SELECT on the tables the
# services create (the relay's backlog gauge reads the outbox), nothing more: the relays do not use the superuser.
# The image's entrypoint runs this once, on an empty data directory, against the server it starts for init scripts.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres --set password="$OUTBOX_RELAY_PASSWORD" <<'SQL'
CREATE ROLE outbox_relay WITH LOGIN REPLICATION PASSWORD :'password';
SQL
for db in orders inventory; do
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$db" <<'SQL'
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO outbox_relay;
SQL
done
