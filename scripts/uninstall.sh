#!/bin/bash
# Removes the MeshyMcMapface systemd services.
#
#   sudo scripts/uninstall.sh [--agent | --server | --both] [--remove-user] [--purge] [--dry-run]
#
# By default it stops, disables and removes the units and the code in /opt/meshymcmapface, and KEEPS the
# configuration (/etc/meshymcmapface), the data (/var/lib/meshymcmapface: streams, databases) and the logs
# (/var/log/meshymcmapface). Only --purge deletes those. (The original deleted its database without being asked.)
set -euo pipefail

ROLE=both
PREFIX=/opt/meshymcmapface
UNIT_DIR=/etc/systemd/system
SVC_USER=meshymcmapface
DRY_RUN=0
PURGE=0
REMOVE_USER=0

usage() {
  cat <<EOF
Usage: $0 [--agent | --server | --both] [options]

  --agent          remove the site side (leaf nats-server, agent)
  --server         remove the hub side (hub nats-server, ingest, route-analysis, api)
  --both           remove everything (default)
  --remove-user    also delete the service user $SVC_USER
  --purge          also DELETE configuration, data (streams, databases) and logs
  --prefix DIR     where the code was installed (default: $PREFIX)
  --dry-run        print every step instead of doing it
  -h, --help       this text
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --agent) ROLE=agent ;;
    --server) ROLE=server ;;
    --both) ROLE=both ;;
    --remove-user) REMOVE_USER=1 ;;
    --purge) PURGE=1 ;;
    --prefix) PREFIX=${2:?--prefix needs a value}; shift ;;
    --dry-run) DRY_RUN=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "uninstall.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

run() {
  if [ "$DRY_RUN" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}

case "$ROLE" in
  agent) UNITS=(agent leaf-nats) ;;
  server) UNITS=(api route-analysis ingest hub-nats) ;;
  both) UNITS=(agent api route-analysis ingest leaf-nats hub-nats) ;;
esac

if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "uninstall.sh: run as root (or try --dry-run)" >&2
  exit 1
fi

for unit in "${UNITS[@]}"; do
  name="meshymcmapface-$unit.service"
  run systemctl disable --now "$name" || true
  run rm -f "$UNIT_DIR/$name"
  if [ "$PURGE" = 1 ]; then
    run rm -rf "/var/lib/meshymcmapface/$unit" "/var/log/meshymcmapface/$unit"
    run rm -f "/etc/meshymcmapface/$unit.ini" "/etc/meshymcmapface/$unit.conf" "/etc/meshymcmapface/$unit.env"
  fi
done
run systemctl daemon-reload || true
run systemctl reset-failed || true

# Code and shared directories go only when no unit is left that needs them.
shopt -s nullglob
left=("$UNIT_DIR"/meshymcmapface-*.service)
remaining=${#left[@]}
if [ "$ROLE" = both ] || [ "$remaining" = 0 ]; then
  run rm -rf "$PREFIX"
  if [ "$PURGE" = 1 ]; then
    run rm -rf /var/lib/meshymcmapface /var/log/meshymcmapface /etc/meshymcmapface
  fi
  if [ "$REMOVE_USER" = 1 ] && id "$SVC_USER" >/dev/null 2>&1; then
    run userdel "$SVC_USER"
  fi
fi

if [ "$PURGE" = 1 ]; then
  echo "Removed ${UNITS[*]} with their configuration, data and logs."
else
  echo "Removed ${UNITS[*]}. Kept: /etc/meshymcmapface, /var/lib/meshymcmapface, /var/log/meshymcmapface (use --purge to delete)."
fi
