#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Proves that the bus policy loads in a real dbus-daemon: a system-type bus on a private socket
# that includes it, the way the system bus (and the lab) do. dbus-daemon refuses to start on a
# file it cannot parse, so starting is the check; the process is stopped at once.
set -eu
policy=$1
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
pid=
cat > "$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/></policy>
  <include>$policy</include>
</busconfig>
CONF
out=$(dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid --nosyslog 2>&1) || {
  echo "dbus-daemon refused $policy: $out" >&2
  exit 1
}
pid=$out
echo "dbus-daemon loaded $policy"
