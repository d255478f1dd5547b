#!/usr/bin/env bash
# Creates the mosquitto password file from environment variables, e.g.
#   MQTT_PASSWORD_STAGE=... MQTT_PASSWORD_SCAN=... deploy/mosquitto/make-passwords.sh deploy/mosquitto/passwd
# One variable per user: MQTT_PASSWORD_STAGE, _POTENTIOSTAT, _SCAN, _DIFFUSION, _GLOVEBOX, _OPERATOR, _DISPLAY
# (docker compose reads them from .env). Only salted hashes are written; the passwords are never printed,
# passed on a command line (visible in ps) or logged. Also writes deploy/secrets/mqtt_<user> (one password each)
# for the containers' docker secrets. Both are git-ignored (deploy/mosquitto/.gitignore, deploy/secrets/.gitignore).
set -euo pipefail

out="${1:-$(dirname "$0")/passwd}"
users=(stage potentiostat scan diffusion glovebox operator display)

if ! command -v mosquitto_passwd >/dev/null 2>&1; then
  echo "make-passwords.sh: mosquitto_passwd not found (Debian/Ubuntu: apt-get install mosquitto)." >&2
  exit 1
fi

missing=()
for user in "${users[@]}"; do
  var="MQTT_PASSWORD_${user^^}"
  if [ -z "${!var:-}" ]; then
    missing+=("$var")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "make-passwords.sh: set ${missing[*]} (e.g. in .env, see .env.example); nothing was written." >&2
  exit 2
fi

umask 077
tmp="$(mktemp "${out}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
for user in "${users[@]}"; do
  var="MQTT_PASSWORD_${user^^}"
  # Plain "user:password" lines, hashed in place by mosquitto_passwd -U, keep the secret off the command line.
  printf '%s:%s\n' "$user" "${!var}" >> "$tmp"
done
mosquitto_passwd -U "$tmp"
# One file per service user for docker compose secrets (SECCM__MQTT__PASSWORDFILE=/run/secrets/mqtt_<user>).
secrets="$(cd "$(dirname "$0")" && pwd)/../secrets"
mkdir -p "$secrets"
for user in "${users[@]}"; do
  var="MQTT_PASSWORD_${user^^}"
  printf '%s\n' "${!var}" > "$secrets/mqtt_$user"
  # Read inside the containers by their non-root users (uid 1654, 1883); the directory itself is git-ignored.
  chmod 644 "$secrets/mqtt_$user"
done
# The broker in the container runs as uid 1883 and must read it.
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "make-passwords.sh: wrote ${#users[@]} users to $out"
