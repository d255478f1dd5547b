#!/bin/bash
# Runs once, at the first start of the influxdb:2 container (mounted into /docker-entrypoint-initdb.d), after the
# image's own setup has created DOCKER_INFLUXDB_INIT_ORG / _BUCKET / _ADMIN_TOKEN.
# 1. A DBRP mapping so InfluxQL (Grafana's seccm-influx datasource, `seccm replay`) finds the bucket as database
#    SECCM_INFLUX_DATABASE, retention policy autogen.
# 2. A v1 read-only user for Grafana (basic auth on /query), so dashboards never hold a token that can write.
set -euo pipefail

: "${DOCKER_INFLUXDB_INIT_BUCKET:?}" "${DOCKER_INFLUXDB_INIT_ORG:?}" "${SECCM_INFLUX_DATABASE:?}"
: "${SECCM_INFLUX_READ_USER:?}" "${SECCM_INFLUX_READ_PASSWORD:?}"

bucket_id="$(influx bucket list --name "$DOCKER_INFLUXDB_INIT_BUCKET" --org "$DOCKER_INFLUXDB_INIT_ORG" --hide-headers | awk '{print $1}')"
if [ -z "$bucket_id" ]; then
  echo "init-dbrp.sh: bucket '$DOCKER_INFLUXDB_INIT_BUCKET' not found in org '$DOCKER_INFLUXDB_INIT_ORG'." >&2
  exit 1
fi

if ! influx v1 dbrp list --org "$DOCKER_INFLUXDB_INIT_ORG" --db "$SECCM_INFLUX_DATABASE" --hide-headers | grep -q .; then
  influx v1 dbrp create --org "$DOCKER_INFLUXDB_INIT_ORG" --bucket-id "$bucket_id" \
    --db "$SECCM_INFLUX_DATABASE" --rp autogen --default
fi

if ! influx v1 auth list --org "$DOCKER_INFLUXDB_INIT_ORG" --user "$SECCM_INFLUX_READ_USER" --hide-headers 2>/dev/null | grep -q .; then
  # --password-file would need a file; the value goes through the environment, never a log line.
  influx v1 auth create --org "$DOCKER_INFLUXDB_INIT_ORG" --username "$SECCM_INFLUX_READ_USER" \
    --password "$SECCM_INFLUX_READ_PASSWORD" --read-bucket "$bucket_id" --description "grafana (read-only)" >/dev/null
fi
echo "init-dbrp.sh: InfluxQL database '$SECCM_INFLUX_DATABASE' -> bucket '$DOCKER_INFLUXDB_INIT_BUCKET'; read-only user '$SECCM_INFLUX_READ_USER'."
