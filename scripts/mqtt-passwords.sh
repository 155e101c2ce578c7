#!/usr/bin/env bash
# Writes the broker's password file with one user per worker (and admin) from the
# MQTT_PASSWORD_<USER> variables (of .env, or of the environment); run once before
# `docker-compose up`.
#   scripts/mqtt-passwords.sh [OUT]     OUT defaults to config/mosquitto/passwd
# ENV_FILE names another env file than .env. Passwords reach mosquitto_passwd on its
# stdin (printf is a shell builtin), never as arguments that `ps` would show.
set -euo pipefail
cd "$(dirname "$0")/.."
env_file=${ENV_FILE:-.env}
[ -f "$env_file" ] && set -a && . "$env_file" && set +a
out=${1:-config/mosquitto/passwd}
umask 077
: > "$out"
for user in fetcher pdf summarizer embeddings writer scheduler tts recorder playout obs admin; do
  var="MQTT_PASSWORD_${user^^}"
  [ -n "${!var:-}" ] || { echo "set $var in $env_file" >&2; rm -f "$out"; exit 1; }
  printf '%s\n%s\n' "${!var}" "${!var}" | mosquitto_passwd "$out" "$user" > /dev/null
done
chmod 600 "$out"
echo "wrote $out"
