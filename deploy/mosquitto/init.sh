#!/bin/sh
# Writes Mosquitto's password file from the environment, then runs the broker.
# Users: the central instances (CAREWATCH_MQTT_PASSWORD) and the demo gateway
# (CAREWATCH_GATEWAY_PASSWORD); add one line per provisioned gateway.
set -eu
: "${CAREWATCH_MQTT_PASSWORD:?must be set}"
: "${CAREWATCH_GATEWAY_PASSWORD:?must be set}"
f=/mosquitto/data/passwd
umask 077
: >"$f"
mosquitto_passwd -b "$f" carewatch-central "$CAREWATCH_MQTT_PASSWORD"
mosquitto_passwd -b "$f" gw-demo "$CAREWATCH_GATEWAY_PASSWORD"
chown mosquitto:mosquitto "$f" /mosquitto/data 2>/dev/null || true
exec mosquitto -c /mosquitto/config/mosquitto.conf
