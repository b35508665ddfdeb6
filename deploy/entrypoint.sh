#!/bin/sh
# Image entry point. For `carewatch central --config F` it gives the replica
# its own MQTT client id (deploy/replica-config.mjs writes a copy of F), then
# runs the command as given.
set -eu
if [ "${3:-}" = central ]; then
  out=/tmp/carewatch-central.yaml
  prev=
  for a in "$@"; do
    shift
    if [ "$prev" = --config ] || [ "$prev" = -c ]; then
      node "$(dirname "$0")/replica-config.mjs" "$a" "$out"
      a=$out
    fi
    set -- "$@" "$a"
    prev=$a
  done
fi
exec "$@"
