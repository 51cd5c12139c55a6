#!/bin/bash
# Installs MeshyMcMapface as systemd services on Debian/Ubuntu.
#
#   sudo scripts/install.sh [--agent | --server | --both] [options]
#
# --agent   the site side: leaf nats-server + agent
# --server  the hub side: hub nats-server + ingest + route-analysis + api
# --both    everything on one machine (default)
#
# Layout: code in /opt/meshymcmapface (read-only to the services, replaced on every install), configuration in
# /etc/meshymcmapface (written only when absent: an existing file is never overwritten), data in
# /var/lib/meshymcmapface/<unit> and logs in /var/log/meshymcmapface/<unit> (created by systemd from the units'
# StateDirectory=/LogsDirectory=). Nothing is enabled or started: the script prints the commands to do so.
set -euo pipefail

ROLE=both
PREFIX=/opt/meshymcmapface
ETC=/etc/meshymcmapface
UNIT_DIR=/etc/systemd/system
SVC_USER=meshymcmapface
SITE=site1
DRY_RUN=0
BUILD=1
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<EOF
Usage: $0 [--agent | --server | --both] [options]

  --agent            install the site side: leaf nats-server and agent
  --server           install the hub side: hub nats-server, ingest, route-analysis, api
  --both             install everything on this machine (default)
  --site ID          site id for a new leaf configuration (default: $SITE)
  --user NAME        service user to create (default: $SVC_USER)
  --prefix DIR       where the code goes (default: $PREFIX)
  --no-build         install the tree as it is (it must already be built: npm ci && npm run build)
  --dry-run          print every step instead of doing it (needs no root)
  -h, --help         this text

Configuration already present in $ETC is kept. Uninstall with scripts/uninstall.sh (data kept unless --purge).
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --agent) ROLE=agent ;;
    --server) ROLE=server ;;
    --both) ROLE=both ;;
    --site) SITE=${2:?--site needs a value}; shift ;;
    --user) SVC_USER=${2:?--user needs a value}; shift ;;
    --prefix) PREFIX=${2:?--prefix needs a value}; shift ;;
    --no-build) BUILD=0 ;;
    --dry-run) DRY_RUN=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

if ! [[ "$SITE" =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then
  echo "install.sh: site id '$SITE' may hold only letters, digits, _ and - (max 64)" >&2
  exit 2
fi

# run CMD...: do it, or in a dry run print it.
run() {
  if [ "$DRY_RUN" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}
# write_once FILE MODE: stdin becomes FILE unless FILE exists (configuration is never overwritten).
write_once() {
  local file=$1 mode=$2
  if [ -e "$file" ]; then
    echo "keeping existing $file"
    cat >/dev/null
  elif [ "$DRY_RUN" = 1 ]; then
    printf '+ write %s (mode %s):\n' "$file" "$mode"
    sed 's/^/    /'
  else
    install -m "$mode" -o root -g "$SVC_USER" /dev/stdin "$file"
  fi
}

case "$ROLE" in
  agent) UNITS=(leaf-nats agent) ;;
  server) UNITS=(hub-nats ingest route-analysis api) ;;
  both) UNITS=(hub-nats leaf-nats agent ingest route-analysis api) ;;
esac

if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (or try --dry-run)" >&2
  exit 1
fi

# 1. Prerequisites: Node 20+, nats-server (the Debian package), systemd.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "install.sh: Node.js 20 or newer is needed at /usr/bin/node (found: $(node -v 2>/dev/null || echo none))" >&2
  exit 1
fi
if ! command -v nats-server >/dev/null; then
  echo "nats-server is missing: installing the Debian package"
  run apt-get update -qq
  run apt-get install -y --no-install-recommends nats-server
fi
if [ "$DRY_RUN" = 0 ] && ! command -v systemctl >/dev/null; then
  echo "install.sh: systemctl not found; this installer needs systemd" >&2
  exit 1
fi

# 2. Service user: no login, no home of its own; the agent's serial access comes from dialout.
if ! id "$SVC_USER" >/dev/null 2>&1; then
  run useradd --system --user-group --home-dir /var/lib/meshymcmapface --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
fi
if [[ " ${UNITS[*]} " == *" agent "* ]]; then
  run usermod -a -G dialout "$SVC_USER"
fi

# 3. Code: build in the checkout, then replace $PREFIX as a whole. No data ever lives under $PREFIX.
if [ "$BUILD" = 1 ]; then
  run sh -c "cd '$SRC' && npm ci --no-audit --no-fund && npm run build"
fi
run mkdir -p "$(dirname "$PREFIX")"
run rm -rf "$PREFIX.new"
run mkdir -p "$PREFIX.new"
run sh -c "cd '$SRC' && tar cf - --exclude=./.git --exclude=./data --exclude=./test-artifacts --exclude=./.turbo . | tar xf - -C '$PREFIX.new'"
run chown -R root:root "$PREFIX.new"
run chmod -R go-w "$PREFIX.new"
if [ -d "$PREFIX" ] || [ "$DRY_RUN" = 1 ]; then run rm -rf "$PREFIX.old"; run mv "$PREFIX" "$PREFIX.old"; fi
run mv "$PREFIX.new" "$PREFIX"
run rm -rf "$PREFIX.old"

# 4. Configuration, written only where none exists.
run install -d -m 0750 -o root -g "$SVC_USER" "$ETC"
# sync_interval (fsync every write: a site's power cut loses nothing acknowledged) exists from nats-server 2.10;
# Debian 12's 2.9.10 rejects the key, and there it stays a comment until the server is upgraded.
SYNC='sync_interval: always'
nats_ver=$(nats-server --version 2>/dev/null | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
if [ -n "$nats_ver" ] && [ "${nats_ver% *}" -eq 2 ] && [ "${nats_ver#* }" -lt 10 ]; then
  SYNC="# $SYNC  (needs nats-server >= 2.10)"
fi
nats_conf() { # role
  local role=$1
  if [ "$role" = hub ]; then
    cat <<EOF
# Hub nats-server: JetStream domain "hub"; accepts the sites' leafnode links on 7422.
# Credentials for agents and services: mmm creds (docs/operations.md#credentials).
server_name: hub
listen: 127.0.0.1:4222
http: 127.0.0.1:8222
jetstream {
  store_dir: "/var/lib/meshymcmapface/hub-nats"
  domain: hub
  $SYNC
}
leafnodes {
  listen: 0.0.0.0:7422
}
EOF
  else
    cat <<EOF
# Site leaf nats-server: JetStream domain "$SITE", the site's durable buffer; links to the hub as a leafnode.
server_name: leaf-$SITE
listen: 127.0.0.1:4223
http: 127.0.0.1:8223
jetstream {
  store_dir: "/var/lib/meshymcmapface/leaf-nats"
  domain: $SITE
  $SYNC
}
leafnodes {
  reconnect: 1
  remotes: [
    { url: "nats-leaf://127.0.0.1:7422" }
  ]
}
EOF
  fi
}
for unit in "${UNITS[@]}"; do
  case "$unit" in
    hub-nats) nats_conf hub | write_once "$ETC/hub-nats.conf" 0640
      echo 'MMM_READY_URL=http://127.0.0.1:8222/healthz?js-enabled-only=true' | write_once "$ETC/hub-nats.env" 0640 ;;
    leaf-nats) nats_conf leaf | write_once "$ETC/leaf-nats.conf" 0640
      echo 'MMM_READY_URL=http://127.0.0.1:8223/healthz?js-enabled-only=true' | write_once "$ETC/leaf-nats.env" 0640 ;;
    *)
      # Each service writes its own commented sample; the operator fills in the site, radio and URLs.
      # (agent, ingest and route-analysis write the file named; api prints its sample.)
      ini="$ETC/$unit.ini"
      if [ -e "$ini" ]; then
        echo "keeping existing $ini"
      else
        case "$unit" in
          agent) gen=(agent --create-config "$ini" --site "$SITE") ;;
          api) gen=(api --create-config) ;;
          *) gen=("$unit" --create-config "$ini") ;;
        esac
        if [ "$DRY_RUN" = 1 ]; then
          printf '+ (cd %s && node services/cli/bin/mmm.js %s%s)\n' "$PREFIX" "${gen[*]}" "$([ "$unit" = api ] && echo " > $ini")"
        elif [ "$unit" = api ]; then
          # The API reads ingest's SQLite history in ingest's state directory (the unit may write its WAL index there).
          (cd "$PREFIX" && node services/cli/bin/mmm.js "${gen[@]}") |
            sed 's#^sqlite_path = .*#sqlite_path = /var/lib/meshymcmapface/ingest/data/history.db#' | write_once "$ini" 0640
        else
          (cd "$PREFIX" && node services/cli/bin/mmm.js "${gen[@]}") || echo "warning: could not write a sample $ini; write it by hand" >&2
        fi
        run chown "root:$SVC_USER" "$ini" 2>/dev/null || true
        run chmod 0640 "$ini" 2>/dev/null || true
      fi
      # The services' default ops/HTTP ports; the agent serves /readyz only with [status] ops_port set.
      case "$unit" in
        ingest) ready=http://127.0.0.1:9403/readyz ;;
        route-analysis) ready=http://127.0.0.1:9473/readyz ;;
        api) ready=http://127.0.0.1:8082/readyz ;;
        *) ready= ;;
      esac
      printf '# Readiness URL the unit waits for after start (the service'"'"'s /readyz); empty = no wait.\nMMM_READY_URL=%s\n' "$ready" |
        write_once "$ETC/$unit.env" 0640 ;;
  esac
done

# 5. Units.
for unit in "${UNITS[@]}"; do
  run install -m 0644 "$PREFIX/systemd/meshymcmapface-$unit.service" "$UNIT_DIR/meshymcmapface-$unit.service"
done
run systemctl daemon-reload

echo
echo "Installed (${ROLE}): ${UNITS[*]}"
echo "Next: edit $ETC/*.ini, then"
echo "  systemctl enable --now $(printf 'meshymcmapface-%s ' "${UNITS[@]}")"
echo "Logs: journalctl -u 'meshymcmapface-*' -f"
