#!/bin/bash
# Starts the hardened units under a real systemd: PID 1 of a systemd-nspawn container whose root is a throw-away
# overlay of this machine's root (this checkout bound read-only at /opt/meshymcmapface, private network: loopback
# only). Starts the hub and leaf nats-servers (linked), ingest, route-analysis and api (ready on /readyz), and the
# agent with the TCP-radio drop-in reading a simulated radio (`mmm sim`, started with systemd-run); checks that each
# wrote its own StateDirectory and that the agent's events reached the leaf's site stream and, sourced, the hub's
# stream. Then powers the container off and removes the overlay. Needs root and systemd-nspawn (Debian package
# systemd-container). For machines without systemd as PID 1, such as these.
# Usage: sudo scripts/systemd-smoke.sh        exit 0 when every unit ran, 1 otherwise (the units' journals printed)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
command -v systemd-nspawn >/dev/null || {
  echo "systemd-smoke: systemd-nspawn is missing: apt-get install -y systemd-container" >&2
  exit 2
}
[ "$(id -u)" = 0 ] || {
  echo "systemd-smoke: needs root (overlay mount, container)" >&2
  exit 2
}

UNITS='hub-nats leaf-nats ingest route-analysis api agent'
work=$(mktemp -d /tmp/mmm-systemd-smoke-XXXXXX)
root=$work/root
mkdir -p "$work/upper" "$work/work" "$root"
nspawn_pid=
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    # nspawn turns SIGTERM into a clean poweroff of the container's systemd.
    kill "$nspawn_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$nspawn_pid" 2>/dev/null || true
  fi
  umount "$root" 2>/dev/null || umount -l "$root" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# Killed (a test's timeout): still power the container off and unmount.
trap 'exit 1' INT TERM
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$root"

# The container's own identity, service user and configuration (only in the overlay). MMM_READY_TIMEOUT: on a
# loaded machine Node services take long to start; still under the units' TimeoutStartSec=90.
systemd-id128 new >"$root/etc/machine-id"
chroot "$root" getent passwd meshymcmapface >/dev/null ||
  chroot "$root" useradd --system --no-create-home --shell /usr/sbin/nologin meshymcmapface
etc=$root/etc/meshymcmapface
mkdir -p "$etc"
cat >"$etc/hub-nats.conf" <<'EOF'
server_name: smoke-hub
listen: 127.0.0.1:4222
http: 127.0.0.1:8222
jetstream {
  store_dir: "/var/lib/meshymcmapface/hub-nats/js"
  domain: hub
}
leafnodes {
  listen: 127.0.0.1:7422
}
EOF
printf 'MMM_READY_URL=%s\nMMM_READY_TIMEOUT=85\n' 'http://127.0.0.1:8222/healthz?js-enabled-only=true' >"$etc/hub-nats.env"
cat >"$etc/leaf-nats.conf" <<'EOF'
server_name: smoke-leaf
listen: 127.0.0.1:4223
http: 127.0.0.1:8223
jetstream {
  store_dir: "/var/lib/meshymcmapface/leaf-nats/js"
  domain: north
}
leafnodes {
  remotes: [ { url: "nats-leaf://127.0.0.1:7422" } ]
}
EOF
printf 'MMM_READY_URL=%s\nMMM_READY_TIMEOUT=85\n' 'http://127.0.0.1:8223/healthz?js-enabled-only=true' >"$etc/leaf-nats.env"
cat >"$etc/ingest.ini" <<'EOF'
[nats]
url = nats://127.0.0.1:4222
[ingest]
sites = north
[sqlite]
path = ./data/history.db
EOF
printf 'MMM_READY_URL=%s\nMMM_READY_TIMEOUT=85\n' 'http://127.0.0.1:9403/readyz' >"$etc/ingest.env"
cat >"$etc/api.ini" <<'EOF'
[nats]
url = nats://127.0.0.1:4222
[history]
sqlite_path = /var/lib/meshymcmapface/ingest/data/history.db
EOF
printf 'MMM_READY_URL=%s\nMMM_READY_TIMEOUT=85\n' 'http://127.0.0.1:8082/readyz' >"$etc/api.env"
printf '[nats]\nurl = nats://127.0.0.1:4222\n' >"$etc/route-analysis.ini"
printf 'MMM_READY_URL=%s\nMMM_READY_TIMEOUT=85\n' 'http://127.0.0.1:9473/readyz' >"$etc/route-analysis.env"
cat >"$etc/agent.ini" <<'EOF'
[agent]
id = gw-1
location_name = Smoke test
[meshtastic]
connection_type = tcp
tcp_host = 127.0.0.1
tcp_port = 4403
[nats]
url = nats://127.0.0.1:4223
site = north
[status]
ops_port = 9480
[route_discovery]
enabled = false
EOF
printf 'MMM_READY_URL=%s\nMMM_READY_TIMEOUT=85\n' 'http://127.0.0.1:9480/readyz' >"$etc/agent.env"
chroot "$root" chown -R root:meshymcmapface /etc/meshymcmapface
chmod 0750 "$etc" && chmod 0640 "$etc"/*
for u in $UNITS; do
  install -m 0644 "$repo/systemd/meshymcmapface-$u.service" "$root/etc/systemd/system/"
done
install -D -m 0644 "$repo/systemd/drop-ins/agent-tcp-radio.conf" \
  "$root/etc/systemd/system/meshymcmapface-agent.service.d/tcp-radio.conf"

# basic.target only: none of this machine's own services start in the container.
setsid systemd-nspawn -q -D "$root" -b --register=no --keep-unit --link-journal=no --private-network \
  --bind-ro="$repo:/opt/meshymcmapface" systemd.unit=basic.target >"$work/console.log" 2>&1 </dev/null &
nspawn_pid=$!
init_pid=
for _ in $(seq 1 120); do
  init_pid=$(pgrep -P "$nspawn_pid" -x systemd || true)
  if [ -n "$init_pid" ]; then
    state=$(nsenter -t "$init_pid" -m -u -i -n -p systemctl is-system-running 2>/dev/null || true)
    case "$state" in running | degraded) break ;; esac
  fi
  sleep 0.5
done
in_ct() { nsenter -t "$init_pid" -m -u -i -n -p "$@"; }
[ -n "$init_pid" ] || {
  echo "systemd-smoke: the container's systemd did not come up" >&2
  cat "$work/console.log" >&2
  exit 1
}

ok=0
# One start job per group: the hub services start side by side once the hub answers (After=, ExecStartPost).
in_ct systemctl start meshymcmapface-hub-nats.service meshymcmapface-leaf-nats.service || ok=1
in_ct systemctl start meshymcmapface-ingest.service meshymcmapface-route-analysis.service meshymcmapface-api.service ||
  ok=1
for u in hub-nats leaf-nats ingest route-analysis api; do
  if in_ct systemctl is-active -q "meshymcmapface-$u.service"; then
    echo "systemd-smoke: meshymcmapface-$u.service active"
  else
    ok=1
  fi
done
# The radio: the project's simulator as a transient unit, then the agent reading it.
in_ct systemd-run -q --unit=mmm-sim /usr/bin/node /opt/meshymcmapface/services/cli/bin/mmm.js sim --port 4403
in_ct bash -c 'for _ in $(seq 1 120); do (exec 3<>/dev/tcp/127.0.0.1/4403) 2>/dev/null && exit 0; sleep 0.5; done; exit 1' ||
  { echo "systemd-smoke: the simulated radio did not listen" >&2; ok=1; }
if [ "$ok" = 0 ] && in_ct systemctl start meshymcmapface-agent.service; then
  echo "systemd-smoke: meshymcmapface-agent.service active (TCP-radio drop-in)"
else
  ok=1
fi
if [ "$ok" = 0 ]; then
  # Each wrote its own StateDirectory: the hub's stream, ingest's SQLite history, the agent's events in the leaf's
  # site stream, and those sourced over the leafnode link into the hub's stream.
  js() { find "$root/var/lib/meshymcmapface/$1/js" -path "*/$2/msgs/*.blk" -size +0 2>/dev/null | head -1; }
  [ -f "$root/var/lib/meshymcmapface/ingest/data/history.db" ] &&
    echo "systemd-smoke: ingest history in /var/lib/meshymcmapface/ingest" || ok=1
  for _ in $(seq 1 120); do
    [ -n "$(js leaf-nats MESH_north)" ] && [ -n "$(js hub-nats MESH)" ] && break
    sleep 0.5
  done
  [ -n "$(js leaf-nats MESH_north)" ] && echo "systemd-smoke: agent events stored in stream MESH_north" || ok=1
  [ -n "$(js hub-nats MESH)" ] && echo "systemd-smoke: events sourced into the hub's stream MESH" || ok=1
  for u in $UNITS; do
    echo "systemd-smoke: meshymcmapface-$u $(in_ct systemd-analyze security "meshymcmapface-$u.service" | tail -1)"
  done
fi
if [ "$ok" != 0 ]; then
  for u in $(printf 'meshymcmapface-%s ' $UNITS) mmm-sim; do
    in_ct journalctl -u "$u" --no-pager | tail -30 >&2 || true
  done
  echo "systemd-smoke: FAILED" >&2
  exit 1
fi
echo "systemd-smoke: passed"
