#!/usr/bin/env bash
# Writes config/mosquitto/passwd with one user per worker (and admin) from the
# MQTT_PASSWORD_<USER> variables of .env; run once before `docker-compose up`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && set -a && . ./.env && set +a
out=config/mosquitto/passwd
: > "$out"
for user in fetcher pdf summarizer embeddings writer scheduler tts recorder playout obs admin; do
  var="MQTT_PASSWORD_${user^^}"
  [ -n "${!var:-}" ] || { echo "set $var in .env" >&2; exit 1; }
  mosquitto_passwd -b "$out" "$user" "${!var}"
done
chmod 600 "$out"
echo "wrote $out"
