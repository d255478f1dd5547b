#!/usr/bin/env bash
# Generates a private CA and a server certificate for the broker's TLS listener (8883), for local and lab use.
# Usage: deploy/mosquitto/gen-certs.sh [hostname ...]   (default: mosquitto localhost)
# Writes deploy/mosquitto/certs/{ca.crt,ca.key,server.crt,server.key} (git-ignored) and enables the listener
# by copying tls.conf.template to conf.d/tls.conf. Clients set SECCM__MQTT__USETLS=true,
# SECCM__MQTT__PORT=8883 and SECCM__MQTT__CAFILE=<path to ca.crt>.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
certs="$here/certs"
days="${CERT_DAYS:-825}"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(mosquitto localhost)

command -v openssl >/dev/null 2>&1 || { echo "gen-certs.sh: openssl not found." >&2; exit 1; }
mkdir -p "$certs"
umask 077

san="DNS:${names[0]}"
for name in "${names[@]:1}"; do san="$san,DNS:$name"; done
san="$san,IP:127.0.0.1"

if [ ! -f "$certs/ca.key" ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days "$days" -subj "/CN=seccm local CA" \
    -keyout "$certs/ca.key" -out "$certs/ca.crt" 2>/dev/null
fi
openssl req -newkey rsa:2048 -nodes -subj "/CN=${names[0]}" \
  -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" -CAcreateserial \
  -days "$days" -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") \
  -out "$certs/server.crt" 2>/dev/null
rm -f "$certs/server.csr"
# mosquitto (uid 1883 in the container) reads the key; the CA key stays private.
chmod 644 "$certs/ca.crt" "$certs/server.crt" "$certs/server.key"
cp "$here/tls.conf.template" "$here/conf.d/tls.conf"
echo "gen-certs.sh: CA $certs/ca.crt, server certificate for $san; TLS listener enabled (conf.d/tls.conf)."
