#!/bin/bash
# Starts the hardened units under a real systemd: PID 1 of a systemd-nspawn container whose root is a throw-away
# overlay of this machine's root (this checkout bound read-only at /opt/meshymcmapface, private network: loopback
# only). Checks that meshymcmapface-leaf-nats starts (JetStream store in its StateDirectory) and that
# meshymcmapface-ingest starts against it (Node under the unit's sandbox, SQLite in its StateDirectory, ready on
# /readyz), then powers the container off and removes the overlay. Needs root and systemd-nspawn
# (Debian package systemd-container). For machines without systemd as PID 1, such as these.
# Usage: sudo scripts/systemd-smoke.sh        exit 0 when both units ran, 1 otherwise (the units' journal printed)
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
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$root"

# The container's own identity, service user and configuration (only in the overlay).
systemd-id128 new >"$root/etc/machine-id"
chroot "$root" getent passwd meshymcmapface >/dev/null ||
  chroot "$root" useradd --system --no-create-home --shell /usr/sbin/nologin meshymcmapface
etc=$root/etc/meshymcmapface
mkdir -p "$etc"
cat >"$etc/leaf-nats.conf" <<'EOF'
server_name: smoke-leaf
listen: 127.0.0.1:4223
http: 127.0.0.1:8223
jetstream {
  store_dir: "/var/lib/meshymcmapface/leaf-nats/js"
  domain: north
}
EOF
echo 'MMM_READY_URL=http://127.0.0.1:8223/healthz?js-enabled-only=true' >"$etc/leaf-nats.env"
cat >"$etc/ingest.ini" <<'EOF'
[nats]
url = nats://127.0.0.1:4223
[ingest]
sites = north
[sqlite]
path = ./data/history.db
EOF
echo 'MMM_READY_URL=http://127.0.0.1:9403/readyz' >"$etc/ingest.env"
chroot "$root" chown -R root:meshymcmapface /etc/meshymcmapface
chmod 0750 "$etc" && chmod 0640 "$etc"/*
for u in leaf-nats ingest; do
  install -m 0644 "$repo/systemd/meshymcmapface-$u.service" "$root/etc/systemd/system/"
done

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
for u in leaf-nats ingest; do
  if in_ct systemctl start "meshymcmapface-$u.service"; then
    echo "systemd-smoke: meshymcmapface-$u.service active"
  else
    ok=1
  fi
done
if [ "$ok" = 0 ]; then
  # JetStream wrote ingest's stream into the leaf's StateDirectory; ingest wrote its SQLite file into its own.
  stream=$(find "$root/var/lib/meshymcmapface/leaf-nats/js" -type d -name MESH | head -1)
  [ -n "$stream" ] && echo "systemd-smoke: stream MESH stored in /var/lib/meshymcmapface/leaf-nats" || ok=1
  [ -f "$root/var/lib/meshymcmapface/ingest/data/history.db" ] &&
    echo "systemd-smoke: ingest history in /var/lib/meshymcmapface/ingest" || ok=1
  for u in leaf-nats ingest; do
    echo "systemd-smoke: meshymcmapface-$u $(in_ct systemd-analyze security "meshymcmapface-$u.service" | tail -1)"
  done
fi
if [ "$ok" != 0 ]; then
  for u in leaf-nats ingest; do in_ct journalctl -u "meshymcmapface-$u" --no-pager | tail -30 >&2 || true; done
  echo "systemd-smoke: FAILED" >&2
  exit 1
fi
echo "systemd-smoke: passed"
